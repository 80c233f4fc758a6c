// The float64 reference for matmul and dense: shapes, transposes, batch broadcasting, bias and activation.
import { ShapeError } from '../../errors.js';
import { broadcastShapes, fmt, numel, type Shape } from '../../tensor/dims.js';
import { broadcastIndices, erf } from '../cpu.js';
import type { CpuInput } from '../op.js';

export interface MatmulOptions {
  /** Read a's last two axes transposed, without a copy. */
  transposeA?: boolean;
  /** Read b's last two axes transposed, without a copy. */
  transposeB?: boolean;
}

export interface MatmulAttrs {
  transA: boolean;
  transB: boolean;
}

export interface Dims {
  m: number;
  n: number;
  k: number;
  batch: number[];
}

export function matmulDims(a: Shape, b: Shape, { transA, transB }: MatmulAttrs, op = 'matmul'): Dims {
  if (a.length < 2 || b.length < 2) {
    throw new ShapeError(
      `${op}: needs tensors of rank >= 2, got ${fmt(a)} and ${fmt(b)}; reshape a vector v to [1, n] or [n, 1].`,
    );
  }
  const [m, ka] = transA ? [a[a.length - 1], a[a.length - 2]] : [a[a.length - 2], a[a.length - 1]];
  const [kb, n] = transB ? [b[b.length - 1], b[b.length - 2]] : [b[b.length - 2], b[b.length - 1]];
  if (ka !== kb) {
    throw new ShapeError(
      `${op}: inner dimensions differ: a ${fmt(a)}${transA ? ' (transposed)' : ''} has K=${ka} but ` +
        `b ${fmt(b)}${transB ? ' (transposed)' : ''} has K=${kb}. For x·W, x's last axis must equal W's first.`,
    );
  }
  const batch = broadcastShapes(op, a.slice(0, -2), b.slice(0, -2));
  return { m, n, k: ka, batch };
}

export const ACT_CODE = { none: 0, relu: 1, gelu: 2 } as const;
export type Activation = keyof typeof ACT_CODE;

/** float64 reference for one batched matmul with optional bias and activation. */
export function cpuMatmul(a: CpuInput, b: CpuInput, bias: CpuInput | null, attrs: MatmulAttrs, act: Activation): Float64Array {
  const { m, n, k, batch } = matmulDims(a.shape, b.shape, attrs);
  const [ia, ib] = broadcastIndices(batch, [a.shape.slice(0, -2), b.shape.slice(0, -2)]);
  const nb = numel(batch);
  const out = new Float64Array(nb * m * n);
  const at = (i: number, kk: number) => (attrs.transA ? kk * m + i : i * k + kk);
  const bt = (kk: number, j: number) => (attrs.transB ? j * k + kk : kk * n + j);
  for (let z = 0; z < nb; z++) {
    const ao = ia[z] * m * k;
    const bo = ib[z] * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let kk = 0; kk < k; kk++) acc += a.data[ao + at(i, kk)] * b.data[bo + bt(kk, j)];
        if (bias) acc += bias.data[j];
        if (act === 'relu') acc = Math.max(acc, 0);
        else if (act === 'gelu') acc = 0.5 * acc * (1 + erf(acc * Math.SQRT1_2));
        out[(z * m + i) * n + j] = acc;
      }
    }
  }
  return out;
}

