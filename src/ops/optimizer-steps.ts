/**
 * Optimizer updates as in-place primitives: one Adam or SGD step over one parameter, its slots (moments, velocity)
 * and its gradient, with the float64 reference beside the kernel (kernels/adam.wgsl, kernels/sgd.wgsl). Each update
 * reads the gradient scaled by `scale`, a one-element tensor (the global-norm clip factor, 1 without clipping), so
 * the clip never leaves the device.
 */
import { gridFor } from '../device/device.js';
import { defaultWorkgroup, params } from '../device/uniforms.js';
import { DTypeError, ShapeError } from '../errors.js';
import { fmt, numel, sameShape } from '../tensor/dims.js';
import type { Tensor } from '../tensor/tensor.js';
import { defineUpdate, runUpdate } from './op.js';
import { readInputs } from './staged.js';

function checkSlots(op: string, [param, ...rest]: readonly Tensor[], scale: Tensor): void {
  for (const t of [param, ...rest, scale]) {
    if (t.dtype !== 'float32') throw new DTypeError(`${op}: expects float32 tensors, got ${t.dtype} ${fmt(t.shape)}.`);
  }
  for (const t of rest) {
    if (!sameShape(t.shape, param.shape)) throw new ShapeError(`${op}: ${fmt(t.shape)} does not match the parameter ${fmt(param.shape)}.`);
  }
  if (scale.size !== 1) throw new ShapeError(`${op}: the gradient scale must have one element, got ${fmt(scale.shape)}.`);
}

export interface AdamStep {
  /** The step size with both bias corrections folded in: lr * sqrt(1 - beta2^t) / (1 - beta1^t). */
  alpha: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Decoupled weight decay for this step (lr * weightDecay, AdamW); 0 for Adam. */
  decay: number;
}

// Inputs: param, m, v (written), grad, scale (read).
const adamOp = defineUpdate<AdamStep>({
  name: 'adam',
  check(inputs) {
    checkSlots('adam', inputs.slice(0, 4), inputs[4]);
  },
  cpu([w, m, v, g, s], { alpha, beta1, beta2, epsilon, decay }) {
    const scale = s.data[0];
    for (let i = 0; i < w.data.length; i++) {
      const gi = g.data[i] * scale;
      w.data[i] -= w.data[i] * decay;
      m.data[i] = beta1 * m.data[i] + (1 - beta1) * gi;
      v.data[i] = beta2 * v.data[i] + (1 - beta2) * gi * gi;
      w.data[i] -= (alpha * m.data[i]) / (Math.sqrt(v.data[i]) + epsilon);
    }
  },
  webgpu(device, [w, m, v, g, s], { alpha, beta1, beta2, epsilon, decay }) {
    const n = numel(w.shape);
    const grid = gridFor(Math.ceil(n / 4), defaultWorkgroup('adam', 'WG'));
    // The gradient, parameter and moments may be read from staged textures (staged.ts), copied before the update.
    const inputs = readInputs(device, [g.buffer, w.buffer, m.buffer, v.buffer], Math.ceil(n / 4));
    device.dispatch({
      kernel: 'adam',
      entryPoint: inputs.staged ? 'main_staged' : 'main',
      uniforms: params('adam', { n, alpha, beta1, beta2, epsilon, decay, grid_x: grid[0], stage_shift: inputs.shift }),
      textures: inputs.textures,
      read: inputs.staged ? [s.buffer] : [g.buffer, s.buffer],
      write: [w.buffer, m.buffer, v.buffer],
      workgroups: grid,
    });
    inputs.release();
  },
});

/** One Adam (or AdamW) step: updates param and its moments m and v in place from grad * scale. */
export function adamUpdate(param: Tensor, m: Tensor, v: Tensor, grad: Tensor, scale: Tensor, step: AdamStep): void {
  runUpdate(adamOp, [param, m, v, grad, scale], step);
}

export interface SgdStep {
  lr: number;
  momentum: number;
  nesterov: boolean;
}

// Inputs: param and, with momentum, velocity (written); grad and scale (read).
const sgdOp = defineUpdate<SgdStep>({
  name: 'sgd',
  check(inputs, { momentum }) {
    const slots = momentum > 0 ? 2 : 1;
    if (inputs.length !== slots + 2) throw new ShapeError(`sgd: expected ${slots + 2} inputs (${momentum > 0 ? 'param, velocity' : 'param'}, grad, scale), got ${inputs.length}.`);
    checkSlots('sgd', inputs.slice(0, -1), inputs[inputs.length - 1]);
  },
  cpu(inputs, { lr, momentum, nesterov }) {
    const [w, u] = momentum > 0 ? inputs : [inputs[0], null];
    const [g, s] = inputs.slice(-2);
    const scale = s.data[0];
    for (let i = 0; i < w.data.length; i++) {
      const gi = g.data[i] * scale;
      if (!u) {
        w.data[i] -= lr * gi;
        continue;
      }
      u.data[i] = momentum * u.data[i] - lr * gi;
      w.data[i] += nesterov ? momentum * u.data[i] - lr * gi : u.data[i];
    }
  },
  webgpu(device, inputs, { lr, momentum, nesterov }) {
    const w = inputs[0];
    const [g, s] = inputs.slice(-2);
    const n = numel(w.shape);
    const grid = gridFor(Math.ceil(n / 4), defaultWorkgroup('sgd', 'WG'));
    // Without momentum the kernel never touches the velocity binding, but the binding must exist.
    const velocity = momentum > 0 ? inputs[1].buffer : device.alloc(16);
    // The gradient and parameter may be read from staged textures (staged.ts); the velocity is read from its buffer.
    const staged = readInputs(device, [g.buffer, w.buffer], Math.ceil(n / 4));
    device.dispatch({
      kernel: 'sgd',
      entryPoint: staged.staged ? 'main_staged' : 'main',
      constants: { MOMENTUM: momentum > 0, NESTEROV: nesterov },
      uniforms: params('sgd', { n, lr, momentum, grid_x: grid[0], stage_shift: staged.shift }),
      textures: staged.textures,
      read: staged.staged ? [s.buffer] : [g.buffer, s.buffer],
      write: [w.buffer, velocity],
      workgroups: grid,
    });
    staged.release();
    if (momentum <= 0) device.free(velocity);
  },
});

/** One SGD step (with momentum and Nesterov when asked): updates param, and velocity when given, in place. */
export function sgdUpdate(param: Tensor, velocity: Tensor | null, grad: Tensor, scale: Tensor, step: SgdStep): void {
  runUpdate(sgdOp, velocity ? [param, velocity, grad, scale] : [param, grad, scale], step);
}
