import { getDevice } from '../device/runtime.js';
import { ShapeError, WgradError } from '../errors.js';
import { isGradEnabled } from '../tensor/grad-mode.js';
import { nextSeed } from '../tensor/random.js';
import { fmt, type Shape } from '../tensor/dims.js';
import { tidy, type Tensor } from '../tensor/tensor.js';
import { mul } from './binary.js';
import { fromHost } from './op.js';
import { dropoutBlock } from './dropout.js';
import { matmul } from './matmul/index.js';
import { concat, reshape, slice, transpose } from './shape.js';
import { softmax } from './softmax.js';
import { where } from './where.js';

/** Axis order of q, k, v and the output: [batch, time, heads, dim] (heads split in place) or [batch, heads, time, dim]. */
export type AttentionLayout = 'bthd' | 'bhtd';

interface AttentionAttrs {
  layout: AttentionLayout;
  scale: number;
  causal: boolean;
  rate: number;
  seed: number;
}

interface Dims {
  b: number;
  tq: number;
  tk: number;
  h: number;
  d: number;
  dv: number;
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
  };
}

/** Which rows of the [B, H, Tq, Tk] weights a block covers: batches b0.., heads h0.., query rows i0... */
interface Block {
  b0: number;
  nb: number;
  h0: number;
  nh: number;
  i0: number;
  ni: number;
}

/** The part of t ([B, H, T, d], or a [B, 1, Tm, Tk] mask) that a block reads; the whole tensor when that is all of it. */
function part(t: Tensor, blk: Block, rows: 'query' | 'all'): Tensor {
  const [b, h, n] = t.shape;
  const hs = h === 1 ? [0, 1] : [blk.h0, blk.nh];
  const is = rows === 'all' || n === 1 ? [0, n] : [blk.i0, blk.ni];
  if (blk.nb === b && hs[1] === h && is[1] === n) return t;
  return slice(t, [blk.b0, hs[0], is[0], 0], [blk.nb, hs[1], is[1], t.shape[3]]);
}

/**
 * One block of softmax(scale · q·kᵀ + mask) · v on [B, H, T, d] operands: matmul, where, softmax, dropout, matmul.
 * Its dropout draws the elements of the whole weights' mask that it covers, so a split run draws what one run would.
 */
function attendBlock(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | null, a: AttentionAttrs, x: Dims, blk: Block): { output: Tensor; weights: Tensor } {
  // The scale goes on the smaller of the query block and the scores (Keras scales the query): for a text model's
  // [32,4,200,16] queries over 200 keys that is 12x fewer elements, forward and backward.
  const qb = part(q, blk, 'query');
  const scaleQuery = x.d < x.tk;
  let scores = matmul(scaleQuery ? mul(qb, a.scale) : qb, part(k, blk, 'all'), { transposeB: true });
  if (!scaleQuery) scores = mul(scores, a.scale);
  if (mask) scores = where(part(mask, blk, 'query'), scores, -Infinity);
  if (a.causal) {
    const lower = Array.from({ length: blk.ni * x.tk }, (_, n) => (n % x.tk <= blk.i0 + Math.floor(n / x.tk) ? 1 : 0));
    scores = where(fromHost(lower, [blk.ni, x.tk], { backend: q.backend }), scores, -Infinity);
  }
  const weights = softmax(scores);
  const dropped = a.rate > 0 ? dropoutBlock(weights, a.rate, a.seed, ((blk.b0 * x.h + blk.h0) * x.tq + blk.i0) * x.tk) : weights;
  return { output: matmul(dropped, part(v, blk, 'all')), weights };
}

/** q, k, v in [B, H, T, d] and the mask as [B, 1, 1 or Tq, Tk], for attendBlock. */
function prepare(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions) {
  const attrs = resolve(q, options);
  const x = dims(q.shape, k.shape, v.shape, attrs.layout);
  const mask = options.mask ?? null;
  if (mask) checkMask(mask.shape, x);
  const heads = (t: Tensor) => (attrs.layout === 'bthd' ? transpose(t, 1, 2) : t);
  const mask4 = mask ? reshape(mask, [x.b, 1, mask.shape[1], x.tk]) : null;
  return { attrs, x, heads, qh: heads(q), kh: heads(k), vh: heads(v), mask4 };
}

/**
 * The blocks attention() splits the [B, H, Tq, Tk] weights into so that each fits `limitBytes` (one storage
 * binding): whole batches while a batch fits, then ranges of heads within one batch, then ranges of query rows
 * within one (batch, head). Each block is contiguous in the weights' flat order.
 */
function blocks(x: Dims, limitBytes: number): Block[][][] {
  const all = { b0: 0, nb: x.b, h0: 0, nh: x.h, i0: 0, ni: x.tq };
  // At least one row a block: k alone holds Tk·d floats, so a row that does not fit means k did not either.
  const rows = Math.max(1, Math.floor(limitBytes / (Math.max(x.tk, 1) * 4)));
  if (rows >= x.b * x.h * x.tq) return [[[all]]];
  const steps = (n: number, step: number) => Array.from({ length: Math.ceil(n / step) }, (_, s) => [s * step, Math.min(step, n - s * step)]);
  // Indexed [batch range][head range][query-row range]; attention() joins them along axes 0, 1 and 2.
  if (rows >= x.h * x.tq) return steps(x.b, Math.floor(rows / (x.h * x.tq))).map(([b0, nb]) => [[{ ...all, b0, nb }]]);
  return Array.from({ length: x.b }, (_, b0) =>
    rows >= x.tq
      ? steps(x.h, Math.floor(rows / x.tq)).map(([h0, nh]) => [{ ...all, b0, nb: 1, h0, nh }])
      : Array.from({ length: x.h }, (_, h0) => steps(x.tq, rows).map(([i0, ni]) => ({ b0, nb: 1, h0, nh: 1, i0, ni }))),
  );
}

/**
 * softmax(scale · q·kᵀ + mask) · v, composed of matmul, where, softmax, dropout and matmul (the only attention path:
 * on every adapter measured it ran faster than fused kernels did; docs/kernel-choices.md). With the default 'bthd'
 * layout heads are split and merged by transposes.
 *
 * The [B, H, Tq, Tk] weights are formed in blocks that each fit one storage binding (whole batches, then heads,
 * then query rows), so long sequences run where the whole weights would not fit; the result, gradients and dropout
 * mask are those of one unsplit run. Without gradients each block's intermediates are freed as it finishes.
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions = {}): Tensor {
  const limit = q.backend === 'webgpu' ? getDevice().maxBindingBytes : Infinity;
  const tracking = isGradEnabled() && [q, k, v].some((t) => t.requiresGrad);
  const scoped = <T>(fn: () => T): T => (tracking ? fn() : tidy(fn));
  return scoped(() => {
    const { attrs, x, heads, qh, kh, vh, mask4 } = prepare(q, k, v, options);
    const plan = blocks(x, limit);
    const join = (ts: Tensor[], axis: number) => (ts.length === 1 ? ts[0] : concat(ts, axis));
    const out = join(
      plan.map((perBatch) => join(perBatch.map((perHead) => join(perHead.map((blk) => scoped(() => attendBlock(qh, kh, vh, mask4, attrs, x, blk).output)), 2)), 1)),
      0,
    );
    return heads(out);
  });
}

/**
 * attention() that also returns the [B, H, Tq, Tk] attention weights (before dropout), for visualisation and
 * returnAttentionScores. The weights are one tensor, so they must fit one storage binding.
 */
export function attentionWithWeights(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions = {}): { output: Tensor; weights: Tensor } {
  const { attrs, x, heads, qh, kh, vh, mask4 } = prepare(q, k, v, options);
  const { output, weights } = attendBlock(qh, kh, vh, mask4, attrs, x, { b0: 0, nb: x.b, h0: 0, nh: x.h, i0: 0, ni: x.tq });
  return { output: heads(output), weights };
}
