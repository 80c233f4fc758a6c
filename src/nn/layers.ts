import { DTypeError, ShapeError, WgradError } from '../errors.js';
import { add, div, maximum, mul, notEqual, sub } from '../ops/binary.js';
import { cast } from '../ops/cast.js';
import { ones, zeros } from '../ops/creation.js';
import { dropout } from '../ops/dropout.js';
import { gather } from '../ops/gather.js';
import { dense, type Activation } from '../ops/matmul/index.js';
import { mean, sum } from '../ops/reduce.js';
import { reshape, unsqueeze } from '../ops/shape.js';
import { softmax } from '../ops/softmax.js';
import { sigmoid, sqrt, square, tanh } from '../ops/unary.js';
import { nextSeed } from '../tensor/random.js';
import { fmt, numel, type Shape } from '../tensor/dims.js';
import type { Tensor } from '../tensor/tensor.js';
import { glorotUniform, uniform } from './initializers.js';
import { Module, type ForwardOptions } from './module.js';

/** Activations a Dense layer accepts; relu and gelu run inside the fused dense kernel. */
export type DenseActivation = 'linear' | 'relu' | 'gelu' | 'sigmoid' | 'softmax' | 'tanh';
const FUSED: Record<string, Activation> = { linear: 'none', relu: 'relu', gelu: 'gelu' };

export interface DenseOptions {
  activation?: DenseActivation;
  useBias?: boolean;
  name?: string;
}

/** x·W + b with an activation. W is built on the first call from the input's last axis (Glorot uniform), b is 0. */
export class Dense extends Module {
  readonly units: number;
  readonly activation: DenseActivation;
  readonly useBias: boolean;
  kernel: Tensor | null = null;
  bias: Tensor | null = null;

  constructor(units: number, options: DenseOptions = {}) {
    super(options.name);
    if (!Number.isInteger(units) || units <= 0) throw new WgradError(`Dense: units must be a positive integer, got ${units}.`);
    this.units = units;
    this.activation = options.activation ?? 'linear';
    if (!['linear', 'relu', 'gelu', 'sigmoid', 'softmax', 'tanh'].includes(this.activation)) {
      throw new WgradError(`Dense: unknown activation '${this.activation}'; use linear, relu, gelu, sigmoid, softmax or tanh.`);
    }
    this.useBias = options.useBias ?? true;
  }

  protected override build(shape: Shape): void {
    const inFeatures = shape[shape.length - 1];
    this.kernel = this.addParameter('kernel', glorotUniform([inFeatures, this.units], inFeatures, this.units));
    if (this.useBias) this.bias = this.addParameter('bias', zeros([this.units]));
  }

  protected forward(x: Tensor): Tensor {
    const inFeatures = this.kernel!.shape[0];
    if (x.shape[x.rank - 1] !== inFeatures) {
      throw new ShapeError(`${this.name}: input ${fmt(x.shape)} has ${x.shape[x.rank - 1]} features, but the layer was built for ${inFeatures}; give it inputs of ${inFeatures} features, or use a new layer.`);
    }
    const fused = FUSED[this.activation];
    const z = dense(x, this.kernel!, this.bias, fused ?? 'none');
    if (fused) return z;
    if (this.activation === 'sigmoid') return sigmoid(z);
    if (this.activation === 'tanh') return tanh(z);
    return softmax(z);
  }

  override computeOutputShape(input: readonly number[]): number[] {
    return [...input.slice(0, -1), this.units];
  }
}

/** Inverted dropout, active only in training mode; each call draws its mask from the global seed (manualSeed). */
export class Dropout extends Module {
  constructor(
    readonly rate: number,
    options: { name?: string } = {},
  ) {
    super(options.name);
    if (!(rate >= 0 && rate < 1)) throw new WgradError(`Dropout: rate ${JSON.stringify(rate)} must be a number in [0, 1).`);
  }

  protected forward(x: Tensor, { training }: ForwardOptions): Tensor {
    return dropout(x, this.rate, { training, seed: training ? nextSeed() : 0 });
  }
}

/** Rows of a [inputDim, outputDim] table for int32 ids; with maskZero, id 0 is padding and masks its position. */
export class Embedding extends Module {
  readonly table: Tensor;
  readonly maskZero: boolean;

  constructor(
    readonly inputDim: number,
    readonly outputDim: number,
    options: { maskZero?: boolean; name?: string } = {},
  ) {
    super(options.name);
    this.maskZero = options.maskZero ?? false;
    this.table = this.addParameter('embeddings', uniform([inputDim, outputDim]));
  }

  override readonly inputDtype = 'int32' as const;

  protected forward(ids: Tensor): Tensor {
    // Keras casts float ids to int, which truncates 2.7 to 2 without a word; wgrad asks for whole ids instead.
    if (ids.dtype !== 'int32') {
      throw new DTypeError(`${this.name}: Embedding takes int32 token ids, got ${ids.dtype} ${fmt(ids.shape)}; make them with tensor(values, shape, { dtype: 'int32' }) or cast(x, 'int32').`);
    }
    return gather(this.table, ids);
  }

  override computeMask(ids: Tensor): Tensor | null {
    if (!this.maskZero) return null;
    return notEqual(ids.dtype === 'float32' ? ids : cast(ids, 'float32'), 0);
  }

  override computeOutputShape(input: readonly number[]): number[] {
    return [...input, this.outputDim];
  }
}

/** Reshapes everything after the batch axis; one entry may be -1. */
export class Reshape extends Module {
  constructor(
    readonly targetShape: readonly number[],
    options: { name?: string } = {},
  ) {
    super(options.name);
  }

  protected forward(x: Tensor): Tensor {
    return reshape(x, [x.shape[0], ...this.targetShape]);
  }

  override computeOutputShape(input: readonly number[]): number[] {
    const known = this.targetShape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    return this.targetShape.map((d) => (d === -1 ? numel(input) / known : d));
  }
}

/** Flattens everything after the batch axis. */
export class Flatten extends Module {
  protected forward(x: Tensor): Tensor {
    return reshape(x, [x.shape[0], -1]);
  }

  override computeMask(): null {
    return null;
  }

  override computeOutputShape(input: readonly number[]): number[] {
    return [numel(input)];
  }
}

/** Mean over the time axis of [batch, time, features]; padded steps (mask 0) are left out of the mean. */
export class GlobalAveragePooling1D extends Module {
  protected forward(x: Tensor, { mask }: ForwardOptions): Tensor {
    if (x.rank !== 3) throw new ShapeError(`${this.name}: expects [batch, time, features], got ${fmt(x.shape)}.`);
    if (!mask) return mean(x, 1);
    if (mask.rank !== 2 || mask.shape[0] !== x.shape[0] || mask.shape[1] !== x.shape[1]) {
      throw new ShapeError(`${this.name}: mask ${fmt(mask.shape)} does not fit input ${fmt(x.shape)}; it must be [batch, time].`);
    }
    const m = unsqueeze(mask, 2);
    // A row with every step padded has a zero sum; dividing by max(count, 1) keeps it 0 instead of NaN.
    return div(sum(mul(x, m), 1), maximum(sum(m, 1), 1));
  }

  override computeMask(): null {
    return null;
  }

  override computeOutputShape(input: readonly number[]): number[] {
    return input.slice(1);
  }
}

/** (x - mean) / sqrt(var + epsilon) * gamma + beta over the last axis (Keras's default epsilon 1e-3). */
export class LayerNormalization extends Module {
  gamma: Tensor | null = null;
  beta: Tensor | null = null;
  readonly epsilon: number;

  constructor(options: { epsilon?: number; name?: string } = {}) {
    super(options.name);
    this.epsilon = options.epsilon ?? 1e-3;
  }

  protected override build(shape: Shape): void {
    if (shape.length < 2) throw new ShapeError(`${this.name}: LayerNormalization: input ${fmt(shape)} has no feature axis to normalise; give it [batch, ..., features].`);
    const d = shape[shape.length - 1];
    this.gamma = this.addParameter('gamma', ones([d]));
    this.beta = this.addParameter('beta', zeros([d]));
  }

  protected forward(x: Tensor): Tensor {
    const mu = mean(x, -1, true);
    const centered = sub(x, mu);
    const variance = mean(square(centered), -1, true);
    return add(mul(div(centered, sqrt(add(variance, this.epsilon))), this.gamma!), this.beta!);
  }
}

/** Layers applied in order; a mask made by one layer (Embedding) travels to the next ones. */
export class Sequential extends Module {
  private layers: Module[] = [];

  constructor(layers: Module[] = [], options: { name?: string } = {}) {
    super(options.name);
    for (const l of layers) this.add(l);
  }

  add(layer: Module): this {
    if (layer.autoNamed) {
      // Named within this model (dense, dense_1, ...), independent of other models made in the process.
      const taken = new Set(this.layers.map((l) => l.name));
      let name = layer.baseName;
      for (let i = 1; taken.has(name); i++) name = `${layer.baseName}_${i}`;
      layer.name = name;
    }
    this.layers.push(this.addModule(layer.name, layer));
    return this;
  }

  get modules(): readonly Module[] {
    return this.layers;
  }

  protected forward(x: Tensor, options: ForwardOptions): Tensor {
    let h = x;
    let mask = options.mask;
    for (const layer of this.layers) {
      const nextMask = layer.computeMask(h, mask);
      h = layer.call(h, { training: options.training, mask });
      mask = nextMask;
    }
    return h;
  }

  override computeOutputShape(input: readonly number[]): number[] {
    return this.layers.reduce((shape, l) => l.computeOutputShape(shape), [...input]);
  }
}
