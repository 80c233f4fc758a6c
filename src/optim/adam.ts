import { adamUpdate } from '../ops/optimizer-steps.js';
import type { Tensor } from '../tensor/tensor.js';
import { Optimizer, type OptimizerOptions, type ParamList } from './optimizer.js';

export interface AdamOptions extends OptimizerOptions {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

/** Adam with Keras's defaults: learning rate 1e-3, betas 0.9 and 0.999, epsilon 1e-7. */
export class Adam extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  protected weightDecay = 0;

  constructor(params: ParamList, options: AdamOptions = {}) {
    super(params, options, 1e-3);
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-7;
  }

  protected update(name: string, param: Tensor, grad: Tensor, scale: Tensor): void {
    const t = this.iterations;
    const alpha = (this.learningRate * Math.sqrt(1 - this.beta2 ** t)) / (1 - this.beta1 ** t);
    const decay = this.learningRate * this.weightDecay;
    adamUpdate(param, this.slot(name, param, 'm'), this.slot(name, param, 'v'), grad, scale, { alpha, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, decay });
  }
}

export interface AdamWOptions extends AdamOptions {
  /** Decoupled weight decay (Keras's default 0.004): each step first scales the weights by 1 - lr * weightDecay. */
  weightDecay?: number;
}

/** AdamW: Adam with decoupled weight decay, as in Keras (default weight decay 0.004). */
export class AdamW extends Adam {
  constructor(params: ParamList, options: AdamWOptions = {}) {
    super(params, options);
    this.weightDecay = options.weightDecay ?? 0.004;
  }
}
