import { ShapeError, WgradError } from '../errors.js';
import { attention, attentionWithWeights } from '../ops/scaled-dot-product.js';
import { reshape, unsqueeze } from '../ops/shape.js';
import { nextSeed } from '../tensor/random.js';
import { fmt, type Shape } from '../tensor/dims.js';
import type { Tensor } from '../tensor/tensor.js';
import { Dense } from './layers.js';
import { Module, type ForwardOptions } from './module.js';

export interface AttendOptions {
  training?: boolean;
  /** [B, Tk] key padding mask or [B, Tq, Tk] attention mask; 0 hides a key. */
  mask?: Tensor | null;
  causal?: boolean;
  /** Also return the [B, heads, Tq, Tk] attention weights (one tensor, so they must fit one storage binding). */
  returnAttentionScores?: boolean;
}

export interface Attended {
  output: Tensor;
  scores: Tensor | null;
}

/**
 * The fused attention kernels (kernels/attention*.wgsl) were retired: the composed path ran faster on every adapter
 * measured (docs/kernel-choices.md). A layer built with the old option says so rather than ignoring it.
 */
function refuseImpl(layer: string, options: object): void {
  if ('attention' in options) {
    throw new WgradError(
      `${layer}: the 'attention' option is gone; the fused kernels it chose were retired because composing matmul, softmax and matmul ` +
        `ran faster on every adapter measured, and attention() now splits long sequences itself. Remove the option.`,
    );
  }
}

/** Heads of q [B,Tq,H·dk], k, v [B,Tk,H·dv] attended in [B,T,H,d] layout: splitting heads is a view. */
function attendHeads(q: Tensor, k: Tensor, v: Tensor, heads: number, dropoutRate: number, o: AttendOptions): Attended {
  const [b, tq] = q.shape;
  const tk = k.shape[1];
  const dk = q.shape[2] / heads;
  const dv = v.shape[2] / heads;
  let mask = o.mask ?? null;
  if (mask && mask.rank === 2) mask = unsqueeze(mask, 1);
  const opts = {
    mask,
    causal: o.causal,
    dropout: dropoutRate,
    training: o.training,
    seed: o.training && dropoutRate > 0 ? nextSeed() : 0,
    layout: 'bthd' as const,
  };
  const qh = reshape(q, [b, tq, heads, dk]);
  const kh = reshape(k, [b, tk, heads, dk]);
  const vh = reshape(v, [b, tk, heads, dv]);
  if (!o.returnAttentionScores) return { output: reshape(attention(qh, kh, vh, opts), [b, tq, heads * dv]), scores: null };
  const { output, weights } = attentionWithWeights(qh, kh, vh, opts);
  return { output: reshape(output, [b, tq, heads * dv]), scores: weights };
}

/**
 * The seeds' layer: dense Q, K and V (embedDim → embedDim), heads split [B,T,D] → [B,h,T,D/h],
 * softmax(Q·Kᵀ/√(D/h))·V, heads merged, then a dense output. A [B,T] mask from an Embedding hides padded keys.
 */
export class MultiHeadSelfAttention extends Module {
  readonly queryDense: Dense;
  readonly keyDense: Dense;
  readonly valueDense: Dense;
  readonly combineHeads: Dense;
  readonly dropout: number;

  constructor(
    readonly embedDim: number,
    readonly numHeads: number,
    options: { dropout?: number; name?: string } = {},
  ) {
    super(options.name);
    refuseImpl('MultiHeadSelfAttention', options);
    if (!Number.isInteger(numHeads) || numHeads <= 0 || embedDim % numHeads !== 0) {
      throw new WgradError(
        `MultiHeadSelfAttention: embedDim ${embedDim} is not divisible by numHeads ${numHeads}; each head needs embedDim / numHeads features. ` +
          `Choose numHeads among the divisors of ${embedDim}.`,
      );
    }
    this.dropout = options.dropout ?? 0;
    this.queryDense = this.addModule('query_dense', new Dense(embedDim, { name: 'query_dense' }));
    this.keyDense = this.addModule('key_dense', new Dense(embedDim, { name: 'key_dense' }));
    this.valueDense = this.addModule('value_dense', new Dense(embedDim, { name: 'value_dense' }));
    this.combineHeads = this.addModule('combine_heads', new Dense(embedDim, { name: 'combine_heads' }));
  }

  get projDim(): number {
    return this.embedDim / this.numHeads;
  }

  protected override build(shape: Shape): void {
    if (shape.length !== 3 || shape[2] !== this.embedDim) {
      throw new ShapeError(`${this.name}: expects [batch, time, ${this.embedDim}], got ${fmt(shape)}.`);
    }
  }

  /** The layer's function with its options spelled out; returns the weights too when asked. */
  attend(x: Tensor, options: AttendOptions = {}): Attended {
    this.ensureBuilt(x.shape);
    const training = options.training ?? this.training;
    const q = this.queryDense.call(x);
    const k = this.keyDense.call(x);
    const v = this.valueDense.call(x);
    const heads = attendHeads(q, k, v, this.numHeads, this.dropout, { ...options, training });
    return { output: this.combineHeads.call(heads.output), scores: heads.scores };
  }

  protected forward(x: Tensor, { training, mask }: ForwardOptions): Tensor {
    return this.attend(x, { training, mask }).output;
  }
}

export interface MultiHeadAttentionOptions {
  valueDim?: number;
  dropout?: number;
  useBias?: boolean;
  /** Size of the output's last axis; defaults to the query's. */
  outputShape?: number;
  name?: string;
}

export interface MultiHeadAttentionCall {
  /** [B, Tq, Tk]; 0 hides a key from a query. A [B, Tk] padding mask also works. */
  attentionMask?: Tensor | null;
  useCausalMask?: boolean;
  returnAttentionScores?: boolean;
  training?: boolean;
}

/**
 * Keras's MultiHeadAttention: query/key/value projections to numHeads × keyDim (valueDim for values), scaled
 * dot-product attention per head, and an output projection. Kernels start Glorot-uniform, biases zero. Keras stores
 * the projection kernels as [D, heads, dim]; here they are [D, heads·dim], the same numbers in the same order.
 */
export class MultiHeadAttention extends Module {
  readonly valueDim: number;
  readonly dropout: number;
  readonly useBias: boolean;
  private queryDense: Dense | null = null;
  private keyDense: Dense | null = null;
  private valueDense: Dense | null = null;
  private outputDense: Dense | null = null;
  private outputUnits: number | undefined;

  constructor(
    readonly numHeads: number,
    readonly keyDim: number,
    options: MultiHeadAttentionOptions = {},
  ) {
    super(options.name);
    refuseImpl('MultiHeadAttention', options);
    this.valueDim = options.valueDim ?? keyDim;
    this.dropout = options.dropout ?? 0;
    this.useBias = options.useBias ?? true;
    this.outputUnits = options.outputShape;
  }

  protected override build(shape: Shape): void {
    const useBias = this.useBias;
    this.queryDense = this.addModule('query', new Dense(this.numHeads * this.keyDim, { useBias, name: 'query' }));
    this.keyDense = this.addModule('key', new Dense(this.numHeads * this.keyDim, { useBias, name: 'key' }));
    this.valueDense = this.addModule('value', new Dense(this.numHeads * this.valueDim, { useBias, name: 'value' }));
    this.outputDense = this.addModule('attention_output', new Dense(this.outputUnits ?? shape[shape.length - 1], { useBias, name: 'attention_output' }));
  }

  /** Keras's call: (query, value, key = value, { attentionMask, useCausalMask, returnAttentionScores, training }). */
  attend(query: Tensor, value: Tensor, key: Tensor = value, options: MultiHeadAttentionCall = {}): Attended {
    if (query.rank !== 3 || value.rank !== 3 || key.rank !== 3 || key.shape[1] !== value.shape[1] || query.shape[0] !== value.shape[0]) {
      throw new ShapeError(
        `${this.name}: query ${fmt(query.shape)}, value ${fmt(value.shape)} and key ${fmt(key.shape)} must be [batch, time, features], with key and value sharing time.`,
      );
    }
    this.ensureBuilt(query.shape);
    const training = options.training ?? this.training;
    const q = this.queryDense!.call(query);
    const k = this.keyDense!.call(key);
    const v = this.valueDense!.call(value);
    // Keras scales the query by 1/sqrt(keyDim) before the dot product; the kernels fold that into `scale`.
    const heads = attendHeads(q, k, v, this.numHeads, this.dropout, {
      mask: options.attentionMask,
      causal: options.useCausalMask,
      returnAttentionScores: options.returnAttentionScores,
      training,
    });
    return { output: this.outputDense!.call(heads.output), scores: heads.scores };
  }

  /** As a layer in a Sequential: self-attention, with the travelling mask as key padding. */
  protected forward(x: Tensor, { training, mask }: ForwardOptions): Tensor {
    return this.attend(x, x, x, { attentionMask: mask, training }).output;
  }

  override computeOutputShape(input: readonly number[]): number[] {
    return [...input.slice(0, -1), this.outputUnits ?? input[input.length - 1]];
  }
}

