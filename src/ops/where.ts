import { gridFor, MAX_WORKGROUPS } from '../device/device.js';
import { copyRowLanes } from '../device/variants.js';
import { defaultWorkgroup, padShape, params } from '../device/uniforms.js';
import { DTypeError } from '../errors.js';
import { broadcastShapes, broadcastStrides, numel } from '../tensor/dims.js';
import { Tensor } from '../tensor/tensor.js';
import type { Operand } from './binary.js';
import { broadcastIndices } from './cpu.js';
import { scalar } from './creation.js';
import { defineOp, run } from './op.js';
import { COPY_ROWS, mergeDims, ROW_WORDS_PER_LANE } from './strided.js';

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
    // Dimensions all three walk through as one are merged (the output, contiguous, always does), size-1 ones dropped.
    const walk = mergeDims(out.shape, [c, a, b].map((t) => broadcastStrides(t.shape, out.shape)));
    const inner = walk.shape.length - 1;
    // One walk per vec4: each operand is contiguous along the inner dimension on whole vec4s, or broadcast along it.
    const fits = (strides: number[]) => strides[inner] === 0 || (strides[inner] === 1 && strides.every((s, d) => d === inner || s % 4 === 0));
    const vecInner = inner >= 0 && walk.shape[inner] % 4 === 0 && walk.strides.every(fits);
    const splat = (k: number) => vecInner && walk.strides[k][inner] === 0;
    const constants = { VEC_INNER: vecInner, C_SPLAT: splat(0), A_SPLAT: splat(1), B_SPLAT: splat(2) };
    // Rows on the grid, no division (main_rows): up to 3 outer dimensions, each within the grid, and rows of as many
    // words as copy_rows.wgsl takes, with its lanes.
    const lanes = copyRowLanes(device.report);
    const words = vecInner ? walk.shape[inner] / 4 : 0;
    if (vecInner && inner <= 3 && words >= lanes && words <= lanes * ROW_WORDS_PER_LANE) {
      const pad = <T>(v: T[], fill: T): T[] => [...Array<T>(3 - inner).fill(fill), ...v];
      const [dims, ...strides] = [pad(walk.shape, 1), ...walk.strides.map((s) => pad(s, 0))];
      const grid: [number, number, number] = [Math.ceil(dims[2] / COPY_ROWS), dims[1], dims[0]];
      if (grid.every((g) => g <= MAX_WORKGROUPS)) {
        device.dispatch({
          kernel: 'where',
          entryPoint: 'main_rows',
          constants: { ...constants, WG: lanes, ROWS: COPY_ROWS },
          uniforms: params('where', { n, rank: 4, grid_x: grid[0], shape: padShape(dims), c_strides: strides[0], a_strides: strides[1], b_strides: strides[2] }),
          read: [c.buffer, a.buffer, b.buffer],
          write: [out.buffer],
          workgroups: grid,
        });
        return;
      }
    }
    const grid = gridFor(Math.ceil(n / 4), defaultWorkgroup('where', 'WG'));
    device.dispatch({
      kernel: 'where',
      constants,
      uniforms: params('where', {
        n,
        rank: walk.shape.length,
        grid_x: grid[0],
        shape: padShape(walk.shape),
        c_strides: walk.strides[0],
        a_strides: walk.strides[1],
        b_strides: walk.strides[2],
      }),
      read: [c.buffer, a.buffer, b.buffer],
      write: [out.buffer],
      workgroups: grid,
    });
  },
  vjp: (grad, { inputs: [c, a, b] }, { sumTo }) => {
    // The -Infinity of where(mask, scores, -Infinity) needs no gradient, so none is computed for it. The zeros are
    // a scalar, which the kernel broadcasts, not a tensor of the gradient's size.
    return [null, a.requiresGrad ? sumTo(where(c, grad, 0), a.shape) : null, b.requiresGrad ? sumTo(where(c, 0, grad), b.shape) : null];
  },
});

/** Picks a where cond is non-zero, else b, with broadcasting over all three. */
export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  const ta = a instanceof Tensor ? a : scalar(a, cond);
  const tb = b instanceof Tensor ? b : scalar(b, cond);
  return run(whereOp, [cond, ta, tb], {});
}
