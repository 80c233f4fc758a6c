import type { GpuDevice } from '../device/device.js';
import { defaultWorkgroup, params } from '../device/uniforms.js';
import { loopBudget } from '../device/variants.js';
import { DeviceError, ShapeError, WgradError } from '../errors.js';
import { dropoutUniform, nextSeed } from '../tensor/random.js';
import { fmt, type Shape } from '../tensor/dims.js';
import type { Tensor } from '../tensor/tensor.js';
import { mul } from './binary.js';
import { defineMultiOp, defineOp, fromHost, run, runMulti, type CpuInput, type GpuInput, type Meta } from './op.js';
import { dropout } from './dropout.js';
import { matmul } from './matmul/index.js';
import { reshape, transpose } from './shape.js';
import { softmax } from './softmax.js';
import { where } from './where.js';

/** Axis order of q, k, v and the output: [batch, time, heads, dim] (heads split in place) or [batch, heads, time, dim]. */
export type AttentionLayout = 'bthd' | 'bhtd';

/** Head dims above this fall back to the unfused path (the kernels keep one row per invocation in private arrays). */
export const FUSED_MAX_HEAD_DIM = 256;

interface AttentionAttrs {
  layout: AttentionLayout;
  scale: number;
  causal: boolean;
  rate: number;
  seed: number;
  hasMask: boolean;
}

interface Dims {
  b: number;
  tq: number;
  tk: number;
  h: number;
  d: number;
  dv: number;
}

/** Element strides (batch, time, head) of a contiguous [B,T,H,D] or [B,H,T,D] tensor. */
function strides(layout: AttentionLayout, t: number, h: number, d: number): [number, number, number] {
  return layout === 'bthd' ? [t * h * d, h * d, d] : [h * t * d, d, t * d];
}

function dims(q: Shape, k: Shape, v: Shape, layout: AttentionLayout): Dims {
  const ok = q.length === 4 && k.length === 4 && v.length === 4;
  const [tAxis, hAxis] = layout === 'bthd' ? [1, 2] : [2, 1];
  if (!ok || q[0] !== k[0] || k[0] !== v[0] || q[hAxis] !== k[hAxis] || k[hAxis] !== v[hAxis] || q[3] !== k[3] || k[tAxis] !== v[tAxis]) {
    throw new ShapeError(
      `attention: q ${fmt(q)}, k ${fmt(k)}, v ${fmt(v)} do not fit layout '${layout}' ` +
        `(${layout === 'bthd' ? '[batch, time, heads, dim]' : '[batch, heads, time, dim]'}, with q and k sharing dim and k and v sharing time).`,
    );
  }
  return { b: q[0], tq: q[tAxis], tk: k[tAxis], h: q[hAxis], d: q[3], dv: v[3] };
}

function checkMask(mask: Shape, { b, tq, tk }: Dims): void {
  if (mask.length !== 3 || mask[0] !== b || (mask[1] !== 1 && mask[1] !== tq) || mask[2] !== tk) {
    throw new ShapeError(`attention: mask ${fmt(mask)} must be [${b}, 1 or ${tq}, ${tk}] (batch, query or 1, key); 0 hides a key.`);
  }
}

type AttentionKernel = 'attention' | 'attention_backward_q' | 'attention_backward_kv';

function uniforms(kernel: AttentionKernel, x: Dims, a: AttentionAttrs, maskRows: number): ArrayBuffer {
  const [qb, qt, qh] = strides(a.layout, x.tq, x.h, x.d);
  const [kb, kt, kh] = strides(a.layout, x.tk, x.h, x.d);
  const [vb, vt, vh] = strides(a.layout, x.tk, x.h, x.dv);
  const [ob, ot, oh] = strides(a.layout, x.tq, x.h, x.dv);
  // The three kernels declare the same Params, so one set of values fills each.
  return params(kernel, {
    tq: x.tq, tk: x.tk, heads: x.h, d: x.d, dv: x.dv,
    q_b: qb, q_t: qt, q_h: qh, k_b: kb, k_t: kt, k_h: kh, v_b: vb, v_t: vt, v_h: vh, o_b: ob, o_t: ot, o_h: oh,
    mask_b: maskRows * x.tk, mask_q: maskRows === 1 ? 0 : x.tk,
    scale: a.scale, rate: a.rate, seed: a.seed,
  });
}

function constants(a: AttentionAttrs) {
  return { HAS_MASK: a.hasMask, CAUSAL: a.causal, DROPOUT: a.rate > 0 };
}

/** Each kernel's vec4 entry point (main_vec4) serves head dims that are whole vec4s. */
const vec4Heads = (x: Dims): boolean => x.d % 4 === 0 && x.dv % 4 === 0;

/**
 * Loop iterations (exit tests included) one invocation of each fused kernel runs, from the loops in its WGSL: the
 * scalar entry points loop over every key (query) and head element, the vec4 ones over blocks of 4 and vec4s.
 */
function fusedLoops(x: Dims): { forward: number; backward: number } {
  if (vec4Heads(x)) {
    const [d, dv, kb, qb] = [x.d / 4, x.dv / 4, Math.ceil(x.tk / 4), Math.ceil(x.tq / 4)];
    const forward = d + 1 + kb * (d + dv + 3) + dv + 2;
    const backwardQ = d + dv + 2 + kb * (d + 2) + kb * (2 * d + dv + 4) + d + 2;
    const backwardKV = d + dv + 2 + qb * (2 * d + dv + 9) + d + dv + 2;
    return { forward, backward: Math.max(backwardQ, backwardKV) };
  }
  const forward = x.d + 1 + x.tk * (x.d + x.dv + 3) + 1 + x.dv + 1;
  const backwardQ = x.d + x.dv + 3 + x.tk * (x.d + 2) + x.tk * (2 * x.d + x.dv + 4) + 1 + x.d + 1;
  const backwardKV = x.d + x.dv + 3 + x.tq * (2 * x.d + x.dv + 4) + 1 + x.d + x.dv + 2;
  return { forward, backward: Math.max(backwardQ, backwardKV) };
}

/**
 * Whether the fused kernels give exact results at these shapes on this adapter: their loops run Tk (or Tq) times
 * over the head dims in one invocation, and llvmpipe silently ends loops past its budget (loopBudget).
 */
export function fusedFits(device: GpuDevice, q: Shape, k: Shape, v: Shape, layout: AttentionLayout, withBackward: boolean): boolean {
  const loops = fusedLoops(dims(q, k, v, layout));
  return Math.max(loops.forward, withBackward ? loops.backward : 0) <= loopBudget(device.report);
}

function checkLoops(device: GpuDevice, x: Dims, pass: 'forward' | 'backward'): void {
  const loops = fusedLoops(x)[pass];
  if (loops > loopBudget(device.report)) {
    throw new DeviceError(
      `attention: the fused ${pass} at Tq=${x.tq}, Tk=${x.tk}, head dims ${x.d}/${x.dv} runs ${loops} loop iterations per invocation, ` +
        `past the ${loopBudget(device.report)} this software adapter runs correctly (llvmpipe ends longer loops silently, so the result would be wrong). ` +
        `Use attentionUnfused(), or attention: 'unfused' (or 'auto') on the layer.`,
    );
  }
}

function dispatch(device: GpuDevice, kernel: AttentionKernel, x: Dims, a: AttentionAttrs, read: GPUBuffer[], write: GPUBuffer[], rows: number, maskRows: number): void {
  if (x.b * x.h * rows === 0) return;
  const vec4 = vec4Heads(x);
  device.dispatch({
    kernel,
    entryPoint: vec4 ? 'main_vec4' : 'main',
    constants: vec4 ? { ...constants(a), D4: x.d / 4, DV4: x.dv / 4 } : constants(a),
    uniforms: uniforms(kernel, x, a, maskRows),
    read,
    write,
    workgroups: [Math.ceil(rows / defaultWorkgroup(kernel, 'WG')), x.h, x.b],
  });
}

/** The float64 reference: explicit two-pass softmax per row, then the same masking and dropout rules. */
function cpuWeights(ins: CpuInput[], a: AttentionAttrs, x: Dims): Float64Array {
  const [q, k] = ins;
  const mask = a.hasMask ? ins[3] : null;
  const [qb, qt, qh] = strides(a.layout, x.tq, x.h, x.d);
  const [kb, kt, kh] = strides(a.layout, x.tk, x.h, x.d);
  const p = new Float64Array(x.b * x.h * x.tq * x.tk);
  for (let b = 0; b < x.b; b++) {
    for (let h = 0; h < x.h; h++) {
      for (let i = 0; i < x.tq; i++) {
        const row = ((b * x.h + h) * x.tq + i) * x.tk;
        let m = -Infinity;
        const s = new Float64Array(x.tk).fill(-Infinity);
        for (let j = 0; j < x.tk; j++) {
          const hidden = (a.causal && j > i) || (mask && mask.data[b * mask.shape[1] * x.tk + (mask.shape[1] === 1 ? 0 : i * x.tk) + j] === 0);
          if (hidden) continue;
          let dot = 0;
          for (let c = 0; c < x.d; c++) dot += q.data[b * qb + i * qt + h * qh + c] * k.data[b * kb + j * kt + h * kh + c];
          s[j] = dot * a.scale;
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

function keepFactor(a: AttentionAttrs, index: number): number {
  if (a.rate === 0) return 1;
  return dropoutUniform(a.seed, index) >= a.rate ? 1 / (1 - a.rate) : 0;
}

const attentionGradOp = defineMultiOp<AttentionAttrs>({
  name: 'attentionGrad',
  infer([q, k, v], a) {
    return [q, k, v].map((t): Meta => ({ shape: t.shape, dtype: 'float32' }));
  },
  cpu(ins, a) {
    const [q, k, v] = ins;
    const [out, g] = ins.slice(a.hasMask ? 4 : 3);
    const x = dims(q.shape, k.shape, v.shape, a.layout);
    const p = cpuWeights(ins, a, x);
    const [qb, qt, qh] = strides(a.layout, x.tq, x.h, x.d);
    const [kb, kt, kh] = strides(a.layout, x.tk, x.h, x.d);
    const [vb, vt, vh] = strides(a.layout, x.tk, x.h, x.dv);
    const [ob, ot, oh] = strides(a.layout, x.tq, x.h, x.dv);
    const dq = new Float64Array(q.data.length);
    const dk = new Float64Array(k.data.length);
    const dv = new Float64Array(v.data.length);
    for (let b = 0; b < x.b; b++) {
      for (let h = 0; h < x.h; h++) {
        for (let i = 0; i < x.tq; i++) {
          const row = ((b * x.h + h) * x.tq + i) * x.tk;
          const o0 = b * ob + i * ot + h * oh;
          let delta = 0;
          for (let c = 0; c < x.dv; c++) delta += g.data[o0 + c] * out.data[o0 + c];
          for (let j = 0; j < x.tk; j++) {
            const prob = p[row + j];
            if (prob === 0) continue;
            const keep = keepFactor(a, row + j);
            const v0 = b * vb + j * vt + h * vh;
            let dp = 0;
            for (let c = 0; c < x.dv; c++) {
              dp += g.data[o0 + c] * v.data[v0 + c];
              dv[v0 + c] += prob * keep * g.data[o0 + c];
            }
            const ds = prob * (dp * keep - delta) * a.scale;
            const q0 = b * qb + i * qt + h * qh;
            const k0 = b * kb + j * kt + h * kh;
            for (let c = 0; c < x.d; c++) {
              dq[q0 + c] += ds * k.data[k0 + c];
              dk[k0 + c] += ds * q.data[q0 + c];
            }
          }
        }
      }
    }
    return [dq, dk, dv];
  },
  webgpu(device, ins, a, [dq, dk, dv]) {
    const [q, k, v] = ins;
    const mask = a.hasMask ? ins[3] : null;
    const [out, g] = ins.slice(a.hasMask ? 4 : 3);
    const x = dims(q.shape, k.shape, v.shape, a.layout);
    const maskBuf = mask?.buffer ?? q.buffer;
    const maskRows = mask?.shape[1] ?? 1;
    checkLoops(device, x, 'backward');
    const stats = device.alloc(x.b * x.h * x.tq * 2 * 4);
    dispatch(device, 'attention_backward_q', x, a, [q.buffer, k.buffer, v.buffer, maskBuf, out.buffer, g.buffer], [dq.buffer, stats], x.tq, maskRows);
    dispatch(device, 'attention_backward_kv', x, a, [q.buffer, k.buffer, v.buffer, maskBuf, g.buffer, stats], [dk.buffer, dv.buffer], x.tk, maskRows);
    device.free(stats);
  },
});

const attentionOp = defineOp<AttentionAttrs>({
  name: 'attention',
  infer([q, k, v, mask], a) {
    const x = dims(q.shape, k.shape, v.shape, a.layout);
    if (mask) checkMask(mask.shape, x);
    if (x.d > FUSED_MAX_HEAD_DIM || x.dv > FUSED_MAX_HEAD_DIM) {
      throw new WgradError(`attention: the fused kernel takes head dims up to ${FUSED_MAX_HEAD_DIM}, got ${x.d}/${x.dv}; use attentionUnfused().`);
    }
    return { shape: a.layout === 'bthd' ? [x.b, x.tq, x.h, x.dv] : [x.b, x.h, x.tq, x.dv], dtype: 'float32' };
  },
  cpu(ins, a) {
    const [q, k, v] = ins;
    const x = dims(q.shape, k.shape, v.shape, a.layout);
    const p = cpuWeights(ins, a, x);
    const [vb, vt, vh] = strides(a.layout, x.tk, x.h, x.dv);
    const [ob, ot, oh] = strides(a.layout, x.tq, x.h, x.dv);
    const out = new Float64Array(x.b * x.tq * x.h * x.dv);
    for (let b = 0; b < x.b; b++) {
      for (let h = 0; h < x.h; h++) {
        for (let i = 0; i < x.tq; i++) {
          const row = ((b * x.h + h) * x.tq + i) * x.tk;
          for (let j = 0; j < x.tk; j++) {
            const w = p[row + j] * keepFactor(a, row + j);
            if (w === 0) continue;
            for (let c = 0; c < x.dv; c++) out[b * ob + i * ot + h * oh + c] += w * v.data[b * vb + j * vt + h * vh + c];
          }
        }
      }
    }
    return out;
  },
  webgpu(device, ins: GpuInput[], a, out) {
    const [q, k, v, mask] = ins;
    const x = dims(q.shape, k.shape, v.shape, a.layout);
    checkLoops(device, x, 'forward');
    dispatch(device, 'attention', x, a, [q.buffer, k.buffer, v.buffer, mask?.buffer ?? q.buffer], [out.buffer], x.tq, mask?.shape[1] ?? 1);
  },
  vjp: (g, { inputs, attrs, output }) => {
    const [q, k, v, mask] = inputs;
    const ins = mask ? [q, k, v, mask, output, g] : [q, k, v, output, g];
    const [dq, dk, dv] = runMulti(attentionGradOp, ins, attrs);
    return mask ? [dq, dk, dv, null] : [dq, dk, dv];
  },
});

export interface AttentionOptions {
  /** [B, 1 or Tq, Tk]: 0 hides a key from a query (padding, or any attention mask). */
  mask?: Tensor | null;
  /** Hide keys j > i. */
  causal?: boolean;
  /** Multiplies q·k; default 1/sqrt(head dim). */
  scale?: number;
  /** Dropout on the attention weights, applied when `training` is true. */
  dropout?: number;
  seed?: number;
  training?: boolean;
  layout?: AttentionLayout;
}

function resolve(q: Tensor, options: AttentionOptions): AttentionAttrs {
  const rate = options.training ? options.dropout ?? 0 : 0;
  if (!(rate >= 0 && rate < 1)) throw new WgradError(`attention: dropout rate ${rate} must be in [0, 1).`);
  return {
    layout: options.layout ?? 'bthd',
    scale: options.scale ?? 1 / Math.sqrt(q.shape[3]),
    causal: options.causal ?? false,
    rate,
    seed: rate > 0 ? (options.seed ?? nextSeed()) >>> 0 : 0,
    hasMask: !!options.mask,
  };
}

/**
 * softmax(scale · q·kᵀ + mask) · v in one fused kernel per direction: the Tq×Tk weights are never written to memory,
 * and with the default 'bthd' layout the heads are split and merged in place, with no transposes.
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions = {}): Tensor {
  const attrs = resolve(q, options);
  const inputs = options.mask ? [q, k, v, options.mask] : [q, k, v];
  return run(attentionOp, inputs, attrs);
}

/**
 * The same function as attention() composed from matmul, where, softmax and dropout (the same dropout mask for the
 * same seed). Returns the output and the [B, H, Tq, Tk] weights, for visualisation and as a cross-check.
 */
export function attentionUnfused(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions = {}): { output: Tensor; weights: Tensor } {
  const attrs = resolve(q, options);
  const x = dims(q.shape, k.shape, v.shape, attrs.layout);
  if (options.mask) checkMask(options.mask.shape, x);
  const heads = (t: Tensor) => (attrs.layout === 'bthd' ? transpose(t, 1, 2) : t);
  let scores = mul(matmul(heads(q), heads(k), { transposeB: true }), attrs.scale);
  if (options.mask) scores = where(reshape(options.mask, [x.b, 1, options.mask.shape[1], x.tk]), scores, -Infinity);
  if (attrs.causal) {
    const lower = Array.from({ length: x.tq * x.tk }, (_, n) => (n % x.tk <= Math.floor(n / x.tk) ? 1 : 0));
    scores = where(fromHost(lower, [x.tq, x.tk], { backend: q.backend }), scores, -Infinity);
  }
  const weights = softmax(scores);
  const dropped = attrs.rate > 0 ? dropout(weights, attrs.rate, { seed: attrs.seed }) : weights;
  const output = heads(matmul(dropped, heads(v)));
  return { output, weights };
}

