import { IndexError, ShapeError } from '../errors.js';
import { isGradEnabled } from '../tensor/grad-mode.js';
import { broadcastShapes, broadcastStrides, fmt, normAxis, numel, stridesOf, type Shape } from '../tensor/dims.js';
import { Tensor } from '../tensor/tensor.js';
import { defineOp, run, type VjpContext } from './op.js';
import { cpuCopy, emptyLike, gpuCopy } from './strided.js';

/** A new tensor over the same storage (no copy); it carries no graph. */
export function view(t: Tensor, shape: Shape): Tensor {
  return new Tensor(t.storage.retain(), shape, t.dtype);
}

/** The same values cut from the graph: no gradient flows through it. Shares storage. */
export function detach(t: Tensor): Tensor {
  return view(t, t.shape);
}

function resolveShape(x: Tensor, shape: Shape): number[] {
  const out = [...shape];
  const unknown = out.indexOf(-1);
  if (unknown !== out.lastIndexOf(-1)) throw new ShapeError(`reshape: shape ${fmt(shape)} has more than one -1; give at most one -1, for the axis to infer.`);
  const known = out.reduce((a, d, i) => (i === unknown ? a : a * d), 1);
  if (unknown >= 0) {
    if (known === 0 || x.size % known !== 0) {
      throw new ShapeError(`reshape: cannot reshape ${fmt(x.shape)} (${x.size} elements) to ${fmt(shape)}.`);
    }
    out[unknown] = x.size / known;
  }
  if (out.some((d) => !Number.isInteger(d) || d < 0) || numel(out) !== x.size) {
    throw new ShapeError(
      `reshape: cannot reshape ${fmt(x.shape)} (${x.size} elements) to ${fmt(shape)} (${numel(out)} elements); ` +
        `the element counts must match.`,
    );
  }
  return out;
}

/** Reshape: a view with no copy (every wgrad tensor is contiguous). One dimension may be -1. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const target = resolveShape(x, shape);
  const out = view(x, target);
  if (x.requiresGrad && isGradEnabled()) {
    out.requiresGrad = true;
    out.node = { op: 'reshape', inputs: [x], backward: (g) => [reshape(g, x.shape)] };
  }
  return out;
}

const permuteOp = defineOp<{ perm: number[] }>({
  name: 'permute',
  infer([x], { perm }) {
    const sorted = [...perm].sort((a, b) => a - b);
    if (perm.length !== x.rank || sorted.some((p, i) => p !== i)) {
      throw new ShapeError(`permute: [${perm.join(',')}] is not a permutation of the axes of a rank-${x.rank} tensor ${fmt(x.shape)}; name each axis 0..${x.rank - 1} once.`);
    }
    return { shape: perm.map((p) => x.shape[p]), dtype: x.dtype };
  },
  cpu([x], { perm }, out) {
    const strides = stridesOf(x.shape);
    const res = emptyLike(out.dtype, numel(out.shape));
    cpuCopy(x.data, res, out.shape, { offset: 0, strides: perm.map((p) => strides[p]) }, { offset: 0, strides: stridesOf(out.shape) });
    return res;
  },
  webgpu(device, [x], { perm }, out) {
    const strides = stridesOf(x.shape);
    gpuCopy(device, x.buffer, out.buffer, out.shape, { offset: 0, strides: perm.map((p) => strides[p]) }, { offset: 0, strides: stridesOf(out.shape) });
  },
  vjp: (g, { attrs: { perm } }) => {
    const inverse = new Array<number>(perm.length);
    perm.forEach((p, i) => (inverse[p] = i));
    return [permute(g, inverse)];
  },
});

/** Reorders axes (a copy through kernels/copy_strided.wgsl). Negative axes count from the end. */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  const p = perm.map((a) => normAxis('permute', a, x.rank));
  if (p.every((a, i) => a === i)) return reshape(x, x.shape);
  return run(permuteOp, [x], { perm: p });
}

/** Swaps two axes (the last two by default). */
export function transpose(x: Tensor, axis0 = -2, axis1 = -1): Tensor {
  const a = normAxis('transpose', axis0, x.rank);
  const b = normAxis('transpose', axis1, x.rank);
  const perm = [...Array(x.rank).keys()];
  [perm[a], perm[b]] = [perm[b], perm[a]];
  return permute(x, perm);
}

interface SliceAttrs {
  begin: number[];
  size: number[];
}

const sliceOp = defineOp<SliceAttrs>({
  name: 'slice',
  infer([x], { size }) {
    return { shape: size, dtype: x.dtype };
  },
  cpu([x], { begin }, out) {
    const strides = stridesOf(x.shape);
    const res = emptyLike(out.dtype, numel(out.shape));
    const offset = begin.reduce((a, b, i) => a + b * strides[i], 0);
    cpuCopy(x.data, res, out.shape, { offset, strides }, { offset: 0, strides: stridesOf(out.shape) });
    return res;
  },
  webgpu(device, [x], { begin }, out) {
    const strides = stridesOf(x.shape);
    const offset = begin.reduce((a, b, i) => a + b * strides[i], 0);
    gpuCopy(device, x.buffer, out.buffer, out.shape, { offset, strides }, { offset: 0, strides: stridesOf(out.shape) });
  },
  vjp: (g, { inputs: [x], attrs: { begin } }) => [padInto(g, x.shape, begin)],
});

/**
 * The box of `size` starting at `begin` (TF's slice). A size of -1 runs to the end of that axis; missing trailing
 * axes are taken whole.
 */
export function slice(x: Tensor, begin: readonly number[], size?: readonly number[]): Tensor {
  if (begin.length > x.rank) throw new ShapeError(`slice: ${begin.length} begin values for a rank-${x.rank} tensor ${fmt(x.shape)}.`);
  const b = x.shape.map((_, i) => begin[i] ?? 0);
  const s = x.shape.map((d, i) => {
    const v = size?.[i] ?? -1;
    return v === -1 ? d - b[i] : v;
  });
  x.shape.forEach((d, i) => {
    if (!Number.isInteger(b[i]) || !Number.isInteger(s[i]) || b[i] < 0 || s[i] < 0 || b[i] + s[i] > d) {
      throw new IndexError(
        `slice: begin [${b.join(',')}] with size [${s.join(',')}] does not fit in ${fmt(x.shape)} (axis ${i} has ${d} elements); begin + size must stay within each axis.`,
      );
    }
  });
  return run(sliceOp, [x], { begin: b, size: s });
}

interface PadAttrs {
  shape: number[];
  begin: number[];
}

/** Writes x into a zero tensor of `shape` at offset `begin`: slice's gradient, and slice is its gradient. */
const padOp = defineOp<PadAttrs>({
  name: 'padInto',
  infer([x], { shape }) {
    return { shape, dtype: x.dtype };
  },
  cpu([x], { begin }, out) {
    const res = emptyLike(out.dtype, numel(out.shape));
    const strides = stridesOf(out.shape);
    const offset = begin.reduce((a, b, i) => a + b * strides[i], 0);
    cpuCopy(x.data, res, x.shape, { offset: 0, strides: stridesOf(x.shape) }, { offset, strides });
    return res;
  },
  webgpu(device, [x], { begin }, out) {
    device.clear(out.buffer, numel(out.shape) * 4);
    const strides = stridesOf(out.shape);
    const offset = begin.reduce((a, b, i) => a + b * strides[i], 0);
    gpuCopy(device, x.buffer, out.buffer, x.shape, { offset: 0, strides: stridesOf(x.shape) }, { offset, strides });
  },
  vjp: (g, { inputs: [x], attrs: { begin } }) => [slice(g, begin, x.shape)],
});

export function padInto(x: Tensor, shape: Shape, begin: readonly number[]): Tensor {
  return run(padOp, [x], { shape: [...shape], begin: [...begin] });
}

const concatOp = defineOp<{ axis: number }>({
  name: 'concat',
  infer(xs, { axis }) {
    const first = xs[0];
    for (const t of xs) {
      const fits = t.rank === first.rank && t.dtype === first.dtype && t.shape.every((d, i) => i === axis || d === first.shape[i]);
      if (!fits) {
        throw new ShapeError(
          `concat: shapes ${xs.map((x) => fmt(x.shape)).join(', ')} (${xs.map((x) => x.dtype).join(', ')}) must match on every axis but ${axis}.`,
        );
      }
    }
    const shape = [...first.shape];
    shape[axis] = xs.reduce((a, t) => a + t.shape[axis], 0);
    return { shape, dtype: first.dtype };
  },
  cpu(xs, { axis }, out) {
    const res = emptyLike(out.dtype, numel(out.shape));
    const strides = stridesOf(out.shape);
    let at = 0;
    for (const x of xs) {
      cpuCopy(x.data, res, x.shape, { offset: 0, strides: stridesOf(x.shape) }, { offset: at * strides[axis], strides });
      at += x.shape[axis];
    }
    return res;
  },
  webgpu(device, xs, { axis }, out) {
    const strides = stridesOf(out.shape);
    let at = 0;
    for (const x of xs) {
      gpuCopy(device, x.buffer, out.buffer, x.shape, { offset: 0, strides: stridesOf(x.shape) }, { offset: at * strides[axis], strides });
      at += x.shape[axis];
    }
  },
  vjp: (g, { inputs, attrs: { axis } }: VjpContext<{ axis: number }>) => {
    let at = 0;
    return inputs.map((x) => {
      const begin = x.shape.map((_, i) => (i === axis ? at : 0));
      at += x.shape[axis];
      return slice(g, begin, x.shape);
    });
  },
});

/** Joins tensors along an existing axis. */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new ShapeError('concat: needs at least one tensor.');
  return run(concatOp, xs, { axis: normAxis('concat', axis, xs[0].rank) });
}

const expandOp = defineOp<{ shape: number[] }>({
  name: 'expand',
  infer([x], { shape }) {
    const out = broadcastShapes('expand', x.shape, shape);
    if (out.length !== shape.length || out.some((d, i) => d !== shape[i])) {
      throw new ShapeError(`expand: ${fmt(x.shape)} cannot be expanded to ${fmt(shape)}; only size-1 or missing leading axes can grow.`);
    }
    return { shape, dtype: x.dtype };
  },
  cpu([x], _attrs, out) {
    const res = emptyLike(out.dtype, numel(out.shape));
    cpuCopy(x.data, res, out.shape, { offset: 0, strides: broadcastStrides(x.shape, out.shape) }, { offset: 0, strides: stridesOf(out.shape) });
    return res;
  },
  webgpu(device, [x], _attrs, out) {
    gpuCopy(device, x.buffer, out.buffer, out.shape, { offset: 0, strides: broadcastStrides(x.shape, out.shape) }, { offset: 0, strides: stridesOf(out.shape) });
  },
  vjp: (g, { inputs: [x] }, { sumTo }) => [sumTo(g, x.shape)],
});

/** Broadcasts to `shape` and materialises the result. */
export function expand(x: Tensor, shape: Shape): Tensor {
  return run(expandOp, [x], { shape: [...shape] });
}

/** Inserts a size-1 axis (a view). */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  const a = normAxis('unsqueeze', axis, x.rank + 1);
  const shape = [...x.shape];
  shape.splice(a, 0, 1);
  return reshape(x, shape);
}

/** Removes size-1 axes (all of them, or the ones named); a view. */
export function squeeze(x: Tensor, axes?: number | readonly number[]): Tensor {
  const list = typeof axes === 'number' ? [axes] : axes;
  const drop = new Set((list ?? x.shape.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) => normAxis('squeeze', a, x.rank)));
  for (const a of drop) {
    if (x.shape[a] !== 1) throw new ShapeError(`squeeze: axis ${a} of ${fmt(x.shape)} has size ${x.shape[a]}, not 1; squeeze only axes of size 1.`);
  }
  return reshape(x, x.shape.filter((_, i) => !drop.has(i)));
}
