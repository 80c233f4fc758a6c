// A float64 reference for scaled dot-product attention, written as loops over (batch, head, query, key) with no
// tensor ops: an explicit two-pass softmax per row, masking, causal hiding, dropout from the documented mask
// function, and the gradients from their formulas. attention() composes matmul, where, softmax, dropout and matmul,
// so this is the independent check of that composition and of its splitting into blocks.
import { dropoutUniform } from '../../src/tensor/random.js';

export type Layout = 'bthd' | 'bhtd';

export interface RefDims {
  b: number;
  tq: number;
  tk: number;
  h: number;
  d: number;
  dv: number;
  layout: Layout;
}

export interface RefOptions {
  /** [B, 1 or Tq, Tk] row-major; 0 hides a key. */
  mask?: { rows: number; values: ArrayLike<number> } | null;
  causal?: boolean;
  scale?: number;
  /** Dropout rate and seed, as attention(..., { training: true, dropout, seed }). */
  dropout?: number;
  seed?: number;
}

/** Element strides (batch, time, head) of a contiguous [B,T,H,D] or [B,H,T,D] tensor. */
function strides(layout: Layout, t: number, h: number, d: number): [number, number, number] {
  return layout === 'bthd' ? [t * h * d, h * d, d] : [h * t * d, d, t * d];
}

/** The [B, H, Tq, Tk] weights softmax(scale · q·kᵀ) over the keys each query sees; a row that sees none is 0. */
export function refWeights(q: ArrayLike<number>, k: ArrayLike<number>, x: RefDims, o: RefOptions = {}): Float64Array {
  const scale = o.scale ?? 1 / Math.sqrt(x.d);
  const [qb, qt, qh] = strides(x.layout, x.tq, x.h, x.d);
  const [kb, kt, kh] = strides(x.layout, x.tk, x.h, x.d);
  const p = new Float64Array(x.b * x.h * x.tq * x.tk);
  for (let b = 0; b < x.b; b++) {
    for (let h = 0; h < x.h; h++) {
      for (let i = 0; i < x.tq; i++) {
        const row = ((b * x.h + h) * x.tq + i) * x.tk;
        const s = new Float64Array(x.tk).fill(-Infinity);
        let m = -Infinity;
        for (let j = 0; j < x.tk; j++) {
          const mask = o.mask ? o.mask.values[b * o.mask.rows * x.tk + (o.mask.rows === 1 ? 0 : i * x.tk) + j] : 1;
          if ((o.causal && j > i) || mask === 0) continue;
          let dot = 0;
          for (let c = 0; c < x.d; c++) dot += q[b * qb + i * qt + h * qh + c] * k[b * kb + j * kt + h * kh + c];
          s[j] = dot * scale;
          m = Math.max(m, s[j]);
        }
        if (m === -Infinity) continue;
        let total = 0;
        for (let j = 0; j < x.tk; j++) total += Math.exp(s[j] - m);
        for (let j = 0; j < x.tk; j++) p[row + j] = Math.exp(s[j] - m) / total;
      }
    }
  }
  return p;
}

function keep(o: RefOptions, index: number): number {
  const rate = o.dropout ?? 0;
  if (rate === 0) return 1;
  return dropoutUniform(o.seed ?? 0, index >>> 0) >= rate ? 1 / (1 - rate) : 0;
}

/** The output, in q's layout with v's head dim, and the gradients of sum(output · g) for q, k and v. */
export function refAttention(
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  v: ArrayLike<number>,
  x: RefDims,
  o: RefOptions = {},
  g?: ArrayLike<number>,
): { output: Float64Array; weights: Float64Array; dq: Float64Array; dk: Float64Array; dv: Float64Array } {
  const scale = o.scale ?? 1 / Math.sqrt(x.d);
  const p = refWeights(q, k, x, o);
  const [qb, qt, qh] = strides(x.layout, x.tq, x.h, x.d);
  const [kb, kt, kh] = strides(x.layout, x.tk, x.h, x.d);
  const [vb, vt, vh] = strides(x.layout, x.tk, x.h, x.dv);
  const [ob, ot, oh] = strides(x.layout, x.tq, x.h, x.dv);
  const out = new Float64Array(x.b * x.tq * x.h * x.dv);
  for (let b = 0; b < x.b; b++) {
    for (let h = 0; h < x.h; h++) {
      for (let i = 0; i < x.tq; i++) {
        const row = ((b * x.h + h) * x.tq + i) * x.tk;
        for (let j = 0; j < x.tk; j++) {
          const w = p[row + j] * keep(o, row + j);
          if (w === 0) continue;
          for (let c = 0; c < x.dv; c++) out[b * ob + i * ot + h * oh + c] += w * v[b * vb + j * vt + h * vh + c];
        }
      }
    }
  }
  const dq = new Float64Array(q.length);
  const dk = new Float64Array(k.length);
  const dv = new Float64Array(v.length);
  if (!g) return { output: out, weights: p, dq, dk, dv };
  // dV = Pdᵀ·g; dP = g·Vᵀ ⊙ keep; dS = P ⊙ (dP − Σ_j P·dP) (the row sum equals g·O); dQ = dS·K·scale, dK = dSᵀ·Q·scale.
  for (let b = 0; b < x.b; b++) {
    for (let h = 0; h < x.h; h++) {
      for (let i = 0; i < x.tq; i++) {
        const row = ((b * x.h + h) * x.tq + i) * x.tk;
        const o0 = b * ob + i * ot + h * oh;
        let delta = 0;
        for (let c = 0; c < x.dv; c++) delta += g[o0 + c] * out[o0 + c];
        for (let j = 0; j < x.tk; j++) {
          const prob = p[row + j];
          if (prob === 0) continue;
          const kf = keep(o, row + j);
          const v0 = b * vb + j * vt + h * vh;
          let dp = 0;
          for (let c = 0; c < x.dv; c++) {
            dp += g[o0 + c] * v[v0 + c];
            dv[v0 + c] += prob * kf * g[o0 + c];
          }
          const ds = prob * (dp * kf - delta) * scale;
          const q0 = b * qb + i * qt + h * qh;
          const k0 = b * kb + j * kt + h * kh;
          for (let c = 0; c < x.d; c++) {
            dq[q0 + c] += ds * k[k0 + c];
            dk[k0 + c] += ds * q[q0 + c];
          }
        }
      }
    }
  }
  return { output: out, weights: p, dq, dk, dv };
}
