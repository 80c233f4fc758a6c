import { broadcastStrides, type Shape } from '../tensor/dims.js';

/**
 * Flat source indices of each operand for every output element under broadcasting: out[i] reads
 * operand k at result[k][i]. The CPU reference uses this instead of re-deriving multi-indices per op.
 */
export function broadcastIndices(outShape: Shape, shapes: Shape[]): Int32Array[] {
  const n = outShape.reduce((a, b) => a * b, 1);
  const rank = outShape.length;
  const strides = shapes.map((s) => broadcastStrides(s, outShape));
  const result = shapes.map(() => new Int32Array(n));
  const idx = new Array<number>(rank).fill(0);
  const offsets = shapes.map(() => 0);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < shapes.length; k++) result[k][i] = offsets[k];
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      for (let k = 0; k < shapes.length; k++) offsets[k] += strides[k][d];
      if (idx[d] < outShape[d]) break;
      for (let k = 0; k < shapes.length; k++) offsets[k] -= strides[k][d] * idx[d];
      idx[d] = 0;
    }
  }
  return result;
}

/** Flat source index for each element of a strided view: offset + sum(idx * strides) over `shape`. */
export function stridedIndices(shape: Shape, strides: readonly number[], offset: number): Int32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Int32Array(n);
  const idx = new Array<number>(shape.length).fill(0);
  let at = offset;
  for (let i = 0; i < n; i++) {
    out[i] = at;
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d]++;
      at += strides[d];
      if (idx[d] < shape[d]) break;
      at -= strides[d] * idx[d];
      idx[d] = 0;
    }
  }
  return out;
}


/**
 * erf in float64, accurate to ~1e-15: the Taylor series for |x| <= 2 (little cancellation there), and erfc's
 * continued fraction, evaluated bottom-up from a fixed depth, beyond that.
 */
export function erf(x: number): number {
  const a = Math.abs(x);
  if (a <= 2) {
    let term = a;
    let sum = a;
    const a2 = a * a;
    for (let n = 1; n < 100; n++) {
      term *= -a2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(a) = exp(-a^2)/sqrt(pi) / (a + (1/2)/(a + 1/(a + (3/2)/(a + 2/(a + ...)))))
  let k = a;
  for (let n = 120; n >= 1; n--) k = a + n / 2 / k;
  const erfc = Math.exp(-a * a) / Math.sqrt(Math.PI) / k;
  return Math.sign(x) * (1 - erfc);
}
