import { WgradError } from '../errors.js';
import { sgdUpdate } from '../ops/optimizer-steps.js';
import type { Tensor } from '../tensor/tensor.js';
import { Optimizer, type OptimizerOptions, type ParamList } from './optimizer.js';

export interface SGDOptions extends OptimizerOptions {
  momentum?: number;
  nesterov?: boolean;
}

/** SGD with optional (Nesterov) momentum, Keras's formulation; learning rate 0.01 by default. */
export class SGD extends Optimizer {
  readonly momentum: number;
  readonly nesterov: boolean;

  constructor(params: ParamList, options: SGDOptions = {}) {
    super(params, options, 0.01);
    this.momentum = options.momentum ?? 0;
    if (!(this.momentum >= 0 && this.momentum < 1)) throw new WgradError(`SGD: momentum ${this.momentum} must be in [0, 1) (Keras's default is 0, a common choice 0.9).`);
    this.nesterov = options.nesterov ?? false;
  }

  protected update(name: string, param: Tensor, grad: Tensor, scale: Tensor): void {
    const lr = this.learningRate;
    const mu = this.momentum;
    const velocity = mu > 0 ? this.slot(name, param, 'velocity') : null;
    sgdUpdate(param, velocity, grad, scale, { lr, momentum: mu, nesterov: this.nesterov });
  }
}
