import type { GpuDevice } from '../device/device.js';
import { gridFor } from '../device/device.js';
import { defaultWorkgroup, params } from '../device/uniforms.js';
import { loopBudget } from '../device/variants.js';
import { DTypeError } from '../errors.js';
import { fmt, normAxes, normAxis, numel, sameShape, stridesOf, type Shape } from '../tensor/dims.js';
import type { Tensor } from '../tensor/tensor.js';
import { div, equal, mul, sub, add } from './binary.js';
import { defineOp, noGradient, run } from './op.js';
import { detach, expand, reshape } from './shape.js';
import { readInputs } from './staged.js';
import { gpuCopy } from './strided.js';
import { exp, log } from './unary.js';
import { where } from './where.js';

export type ReduceKind = 'sum' | 'max' | 'min';
const KIND_CODE: Record<ReduceKind, number> = { sum: 0, max: 1, min: 2 };
const IDENTITY: Record<ReduceKind, number> = { sum: 0, max: -Infinity, min: Infinity };

interface ReduceAttrs {
  kind: ReduceKind;
  axes: number[];
  keepdims: boolean;
  /** Multiplies the result: 1/count turns sum into mean in the same pass. */
  scale: number;
}

function reducedShape(shape: Shape, axes: number[], keepdims: boolean): number[] {
  return keepdims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

/** Views a reduction as [outer, R, inner] when its axes are adjacent; otherwise null (they need a permute first). */
function asBlock(shape: Shape, axes: number[]): [number, number, number] | null {
  if (axes.length === 0) return [numel(shape), 1, 1];
  const lo = axes[0];
  const hi = axes[axes.length - 1];
  if (hi - lo + 1 !== axes.length) return null;
  return [numel(shape.slice(0, lo)), numel(shape.slice(lo, hi + 1)), numel(shape.slice(hi + 1))];
}

// Below this many outputs a long reduction is split in chunks, so that more invocations share the work.
const SPLIT_OUTPUTS = 4096;
const CHUNK = 256;
// The chunk when the rows are read as vec4 words along R (main_along): 512 words. A 16M-float sum on llvmpipe
// (2 Xeon cores, 2026-12-02) took 15-16 ms at 256 to 4096 words a chunk and 12-16 at 512, against 30-48 from floats.
const CHUNK_ALONG = 2048;

/** Whether kernels/reduce.wgsl reads [outer, rows, inner] as words along R (main_along), along inner (main_vec4), or as floats. */
function wordsOf(rows: number, inner: number, chunk: number): 'along' | 'inner' | null {
  if (inner === 1 && rows % 4 === 0 && chunk % 4 === 0) return 'along';
  return inner % 4 === 0 ? 'inner' : null;
}

/**
 * One pass of kernels/reduce.wgsl: [outer, rows, inner] to [outer, chunks, inner], each the fold of `chunk` rows.
 * A pass that reads words may read them from a staged texture (staged.ts); the partials of a second pass are few
 * and read from the buffer.
 */
function reducePass(device: GpuDevice, input: GPUBuffer, output: GPUBuffer, kind: ReduceKind, outer: number, rows: number, inner: number, chunk: number, scale: number, mayStage: boolean): void {
  const chunks = Math.max(1, Math.ceil(rows / chunk));  // an empty reduction still writes its identity
  const words = wordsOf(rows, inner, chunk);
  // The kernel counts in words along the axis read as words.
  const [r, n, c] = words === 'along' ? [rows / 4, 1, chunk / 4] : words === 'inner' ? [rows, inner / 4, chunk] : [rows, inner, chunk];
  const grid = gridFor(outer * chunks * n, defaultWorkgroup('reduce', 'WG'));
  const inputs = readInputs(device, [input], (outer * rows * inner) / 4, { stage: words !== null && mayStage });
  const entry = words === 'along' ? 'main_along' : words === 'inner' ? 'main_vec4' : 'main';
  device.dispatch({
    kernel: 'reduce',
    entryPoint: inputs.staged ? `${entry}_staged` : entry,
    constants: { OP: KIND_CODE[kind] },
    uniforms: params('reduce', { outer, r, inner: n, chunk: c, chunks, scale, grid_x: grid[0], stage_shift: inputs.shift }),
    textures: inputs.textures,
    read: inputs.read,
    write: [output],
    workgroups: grid,
  });
  inputs.release();
}

function dispatchReduce(device: GpuDevice, src: GPUBuffer, dst: GPUBuffer, kind: ReduceKind, outer: number, r: number, inner: number, scale: number): void {
  let input = src;
  let rows = r;
  const temps: GPUBuffer[] = [];
  // Few outputs split for parallelism; rows past the loop budget split on any adapter that has one, since the
  // last pass folds all its rows in one invocation (on llvmpipe a 128 MiB binding keeps 4,096 or more outputs under
  // 8,192 rows, but another software adapter may bind more).
  const budget = loopBudget(device.report);
  while ((outer * inner < SPLIT_OUTPUTS || rows > budget) && rows > CHUNK) {
    const chunk = wordsOf(rows, inner, CHUNK_ALONG) === 'along' ? CHUNK_ALONG : CHUNK;
    const chunks = Math.ceil(rows / chunk);
    const partial = device.alloc(outer * chunks * inner * 4);
    temps.push(partial);
    reducePass(device, input, partial, kind, outer, rows, inner, chunk, 1, input === src);
    input = partial;
    rows = chunks;
  }
  reducePass(device, input, dst, kind, outer, rows, inner, Math.max(rows, 1), scale, input === src);
  // Safe to pool now: later dispatches that reuse them are ordered after these reads.
  for (const t of temps) device.free(t);
}

const reduceOp = defineOp<ReduceAttrs>({
  name: 'reduce',
  infer([x], { kind, axes, keepdims }) {
    if (x.dtype !== 'float32') throw new DTypeError(`${kind}: expects a float32 tensor, got ${x.dtype}; convert with cast(x, 'float32').`);
    return { shape: reducedShape(x.shape, axes, keepdims), dtype: 'float32' };
  },
  cpu([x], { kind, axes, scale }) {
    const outShape = reducedShape(x.shape, axes, true);
    const outStrides = stridesOf(outShape).map((s, i) => (axes.includes(i) ? 0 : s));
    const res = new Float64Array(numel(outShape)).fill(IDENTITY[kind]);
    const idx = new Array<number>(x.shape.length).fill(0);
    let o = 0;
    for (let i = 0; i < x.data.length; i++) {
      const v = x.data[i];
      if (kind === 'sum') res[o] += v;
      else if (kind === 'max') res[o] = Math.max(res[o], v);
      else res[o] = Math.min(res[o], v);
      for (let d = x.shape.length - 1; d >= 0; d--) {
        idx[d]++;
        o += outStrides[d];
        if (idx[d] < x.shape[d]) break;
        o -= outStrides[d] * idx[d];
        idx[d] = 0;
      }
    }
    for (let i = 0; i < res.length; i++) res[i] *= scale;
    return res;
  },
  webgpu(device, [x], { kind, axes, scale }, out) {
    if (numel(out.shape) === 0) return;
    const block = asBlock(x.shape, axes);
    if (block) {
      dispatchReduce(device, x.buffer, out.buffer, kind, ...block, scale);
      return;
    }
    // Non-adjacent axes: move the reduced axes last with one strided copy, then reduce rows.
    const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
    const perm = [...kept, ...axes];
    const strides = stridesOf(x.shape);
    const permShape = perm.map((p) => x.shape[p]);
    const tmp = device.alloc(numel(x.shape) * 4);
    gpuCopy(device, x.buffer, tmp, permShape, { offset: 0, strides: perm.map((p) => strides[p]) }, { offset: 0, strides: stridesOf(permShape) });
    dispatchReduce(device, tmp, out.buffer, kind, numel(kept.map((k) => x.shape[k])), numel(axes.map((a) => x.shape[a])), 1, scale);
    device.free(tmp);
  },
  vjp: (g, { inputs: [x], attrs: { kind, axes, scale }, output }) => {
    const keptShape = reducedShape(x.shape, axes, true);
    // A mean's 1/count scales the reduced gradient before it is spread, not the spread one: the same products, on
    // count times fewer elements (the head step's mean over 49 tokens: a 29.7 ms broadcast multiply on llvmpipe).
    if (kind === 'sum') return [expand(reshape(scale === 1 ? g : mul(g, scale), keptShape), x.shape)];
    const gk = expand(reshape(g, keptShape), x.shape);
    // max/min: the gradient is shared evenly between the tied extreme values.
    const hit = equal(x, reshape(detach(output), keptShape));
    const count = sum(hit, axes, true);
    return [div(mul(gk, hit), count)];
  },
});

export type Axes = number | readonly number[];

function reduce(kind: ReduceKind, x: Tensor, axes: Axes | undefined, keepdims: boolean, mean = false): Tensor {
  const list = normAxes(kind, axes, x.rank);
  const count = numel(list.map((a) => x.shape[a]));
  return run(reduceOp, [x], { kind, axes: list, keepdims, scale: mean ? 1 / count : 1 });
}

/** Sum over `axes` (all when omitted). */
export const sum = (x: Tensor, axes?: Axes, keepdims = false): Tensor => reduce('sum', x, axes, keepdims);
/** Mean over `axes` (all when omitted). */
export const mean = (x: Tensor, axes?: Axes, keepdims = false): Tensor => reduce('sum', x, axes, keepdims, true);
export const max = (x: Tensor, axes?: Axes, keepdims = false): Tensor => reduce('max', x, axes, keepdims);
export const min = (x: Tensor, axes?: Axes, keepdims = false): Tensor => reduce('min', x, axes, keepdims);

const argmaxOp = defineOp<{ axis: number; keepdims: boolean }>({
  name: 'argmax',
  infer([x], { axis, keepdims }) {
    if (x.dtype !== 'float32') throw new DTypeError(`argmax: expects a float32 tensor, got ${x.dtype}; convert with cast(x, 'float32').`);
    return { shape: reducedShape(x.shape, [axis], keepdims), dtype: 'int32' };
  },
  cpu([x], { axis }) {
    const [outer, r, inner] = asBlock(x.shape, [axis])!;
    const res = new Int32Array(outer * inner);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        let best = -Infinity;
        let arg = 0;
        for (let k = 0; k < r; k++) {
          const v = x.data[(o * r + k) * inner + j];
          if (v > best) [best, arg] = [v, k];
        }
        res[o * inner + j] = arg;
      }
    }
    return res;
  },
  webgpu(device, [x], { axis }, out) {
    const [outer, r, inner] = asBlock(x.shape, [axis])!;
    if (outer * inner === 0) return;
    const grid = gridFor(outer * inner, defaultWorkgroup('argmax', 'WG'));
    // R in pieces within the loop budget (llvmpipe ended longer loops silently: argmax over 100,000 was wrong).
    const piece = Math.min(Math.max(r, 1), loopBudget(device.report));
    const best = device.alloc(outer * inner * 4);
    for (let r0 = 0; r0 < Math.max(r, 1); r0 += piece) {
      device.dispatch({
        kernel: 'argmax',
        uniforms: params('argmax', { outer, r, inner, grid_x: grid[0], r0, r1: Math.min(r, r0 + piece) }),
        read: [x.buffer],
        write: [out.buffer, best],
        workgroups: grid,
      });
    }
    device.free(best);
  },
  vjp: noGradient('argmax returns integer indices'),
});

/** Index of the largest value along one axis (first on ties), as int32. */
export function argmax(x: Tensor, axis = -1, keepdims = false): Tensor {
  return run(argmaxOp, [x], { axis: normAxis('argmax', axis, x.rank), keepdims });
}

/** log(sum(exp(x))) over `axes`, shifted by the max so that large logits neither overflow nor lose precision. */
export function logsumexp(x: Tensor, axes?: Axes, keepdims = false): Tensor {
  const list = normAxes('logsumexp', axes, x.rank);
  const peak = detach(max(x, list, true));
  // A slice that is all -inf has max -inf; shifting by 0 there keeps the result -inf instead of NaN.
  const shift = where(equal(peak, -Infinity), 0, peak);
  const out = add(log(sum(exp(sub(x, shift)), list, true)), shift);
  return keepdims ? out : reshape(out, reducedShape(x.shape, list, false));
}

/** Sums a broadcast result back to `shape`: the gradient rule for every broadcasting op. */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  if (lead < 0) throw new Error(`sumTo: ${fmt(g.shape)} has lower rank than ${fmt(shape)}`);
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  return reshape(sum(g, axes, true), shape);
}
