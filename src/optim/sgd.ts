import { gridFor } from '../device/device.js';
import { Uniforms } from '../device/uniforms.js';
import { full } from '../ops/creation.js';
import { keep, type Tensor } from '../tensor/tensor.js';
import { Optimizer, type OptimizerOptions, type ParamList } from './optimizer.js';

export interface SGDOptions extends OptimizerOptions {
  momentum?: number;
  nesterov?: boolean;
}

/** SGD with optional (Nesterov) momentum, Keras's formulation; learning rate 0.01 by default. */
export class SGD extends Optimizer {
  readonly momentum: number;
  readonly nesterov: boolean;
  // Plain SGD has no velocity, but the kernel's binding must exist and must not alias the parameter.
  private unusedVelocity: Tensor | null = null;

  constructor(params: ParamList, options: SGDOptions = {}) {
    super(params, options, 0.01);
    this.momentum = options.momentum ?? 0;
    this.nesterov = options.nesterov ?? false;
  }

  protected update(name: string, param: Tensor, grad: Tensor, scale: Tensor): void {
    const lr = this.learningRate;
    const mu = this.momentum;
    const velocity = mu > 0 ? this.slot(name, param, 'velocity') : null;
    const p = param.storage;
    if (p.cpu) {
      // The float64 reference of kernels/sgd.wgsl.
      const w = p.cpu;
      const g = grad.storage.cpu!;
      const s = scale.storage.cpu![0];
      const u = velocity?.storage.cpu;
      for (let i = 0; i < w.length; i++) {
        const gi = g[i] * s;
        if (!u) {
          w[i] -= lr * gi;
          continue;
        }
        u[i] = mu * u[i] - lr * gi;
        w[i] += this.nesterov ? mu * u[i] - lr * gi : u[i];
      }
      return;
    }
    const n = param.size;
    const grid = gridFor(n, 256);
    p.device!.dispatch({
      kernel: 'sgd',
      constants: { MOMENTUM: mu > 0, NESTEROV: this.nesterov },
      uniforms: new Uniforms().u32(n).f32(lr).f32(mu).u32(grid[0]).done(),
      read: [grad.storage.gpu!, scale.storage.gpu!],
      write: [p.gpu!, (velocity ?? (this.unusedVelocity ??= keep(full([1], 0, { backend: 'webgpu' })))).storage.gpu!],
      workgroups: grid,
    });
  }

  override dispose(): void {
    super.dispose();
    this.unusedVelocity?.dispose();
    this.unusedVelocity = null;
  }
}
