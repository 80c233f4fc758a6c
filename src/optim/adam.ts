import { gridFor } from '../device/device.js';
import { Uniforms } from '../device/uniforms.js';
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
    const m = this.slot(name, param, 'm');
    const v = this.slot(name, param, 'v');
    const p = param.storage;
    if (p.cpu) {
      // The float64 reference of kernels/adam.wgsl.
      const w = p.cpu;
      const g = grad.storage.cpu!;
      const s = scale.storage.cpu![0];
      const mm = m.storage.cpu!;
      const vv = v.storage.cpu!;
      const { beta1, beta2, epsilon } = this;
      for (let i = 0; i < w.length; i++) {
        const gi = g[i] * s;
        w[i] -= w[i] * decay;
        mm[i] = beta1 * mm[i] + (1 - beta1) * gi;
        vv[i] = beta2 * vv[i] + (1 - beta2) * gi * gi;
        w[i] -= (alpha * mm[i]) / (Math.sqrt(vv[i]) + epsilon);
      }
      return;
    }
    const n = param.size;
    const grid = gridFor(n, 256);
    p.device!.dispatch({
      kernel: 'adam',
      uniforms: new Uniforms().u32(n).f32(alpha).f32(this.beta1).f32(this.beta2).f32(this.epsilon).f32(decay).u32(grid[0]).done(),
      read: [grad.storage.gpu!, scale.storage.gpu!],
      write: [p.gpu!, m.storage.gpu!, v.storage.gpu!],
      workgroups: grid,
    });
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
