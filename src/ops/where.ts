import { gridFor } from '../device/device.js';
import { defaultWorkgroup, padShape, params } from '../device/uniforms.js';
import { DTypeError } from '../errors.js';
import { broadcastShapes, broadcastStrides, numel } from '../tensor/dims.js';
import { Tensor } from '../tensor/tensor.js';
import type { Operand } from './binary.js';
import { broadcastIndices } from './cpu.js';
import { scalar, zerosLike } from './creation.js';
import { defineOp, run } from './op.js';

const whereOp = defineOp<Record<string, never>>({
  name: 'where',
  infer([c, a, b]) {
    for (const t of [c, a, b]) {
      if (t.dtype !== 'float32') throw new DTypeError(`where: expects float32 operands (a 0/1 mask as condition), got ${t.dtype}.`);
    }
    return { shape: broadcastShapes('where', c.shape, a.shape, b.shape), dtype: 'float32' };
  },
  cpu([c, a, b], _attrs, out) {
    const n = numel(out.shape);
    const [ic, ia, ib] = broadcastIndices(out.shape, [c.shape, a.shape, b.shape]);
    const res = new Float64Array(n);
    for (let i = 0; i < n; i++) res[i] = c.data[ic[i]] !== 0 ? a.data[ia[i]] : b.data[ib[i]];
    return res;
  },
  webgpu(device, [c, a, b], _attrs, out) {
    const n = numel(out.shape);
    const grid = gridFor(n, defaultWorkgroup('where', 'WG'));
    device.dispatch({
      kernel: 'where',
      uniforms: params('where', {
        n,
        rank: out.shape.length,
        grid_x: grid[0],
        shape: padShape(out.shape),
        c_strides: broadcastStrides(c.shape, out.shape),
        a_strides: broadcastStrides(a.shape, out.shape),
        b_strides: broadcastStrides(b.shape, out.shape),
      }),
      read: [c.buffer, a.buffer, b.buffer],
      write: [out.buffer],
      workgroups: grid,
    });
  },
  vjp: (grad, { inputs: [c, a, b] }, { sumTo }) => {
    // The -Infinity of where(mask, scores, -Infinity) needs no gradient, so none is computed for it.
    const zero = zerosLike(grad);
    return [null, a.requiresGrad ? sumTo(where(c, grad, zero), a.shape) : null, b.requiresGrad ? sumTo(where(c, zero, grad), b.shape) : null];
  },
});

/** Picks a where cond is non-zero, else b, with broadcasting over all three. */
export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  const ta = a instanceof Tensor ? a : scalar(a, cond);
  const tb = b instanceof Tensor ? b : scalar(b, cond);
  return run(whereOp, [cond, ta, tb], {});
}
