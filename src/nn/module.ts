import { WgradError } from '../errors.js';
import type { Shape } from '../tensor/dims.js';
import { keep, type Tensor } from '../tensor/tensor.js';
import { loadWeights, saveWeights } from './weights.js';

export interface CallOptions {
  /** Dropout and similar layers act only when true. Defaults to the module's mode (eval unless train() was called). */
  training?: boolean;
  /** A [batch, time] float mask (1 keeps, 0 pads) travelling with a sequence, as Keras propagates Embedding masks. */
  mask?: Tensor | null;
}

export interface ForwardOptions {
  training: boolean;
  mask: Tensor | null;
}

const nameCounts = new Map<string, number>();

/** Keras-style unique names: dense, dense_1, dense_2, ... */
export function uniqueName(base: string): string {
  const n = nameCounts.get(base) ?? 0;
  nameCounts.set(base, n + 1);
  return n === 0 ? base : `${base}_${n}`;
}

// GlobalAveragePooling1D -> global_average_pooling1d, as Keras names it.
const snakeCase = (s: string): string => s.replace(/([a-z])([A-Z])/g, '$1_$2').replace(/([A-Z])([A-Z][a-z])/g, '$1_$2').toLowerCase();

/**
 * A layer or model: parameters with stable dotted names, sub-modules, a trainable flag, train/eval modes, and a
 * build step run on the first call, when the input shape is known (as Keras builds Dense from its input).
 */
export abstract class Module {
  /** Unique in its container: layers without a given name are renamed when added, so one architecture always gets
   * the same parameter names (and weight files load into a fresh copy of it). */
  name: string;
  /** True when the name was generated rather than given. */
  readonly autoNamed: boolean;
  /** Dropout and similar layers act only in training mode. */
  training = false;
  private ownParams = new Map<string, Tensor>();
  private childModules = new Map<string, Module>();
  private isTrainable = true;
  private built = false;
  /** What build() made, apart from what the constructor made: resetParameters() drops exactly these. */
  private building = false;
  private builtParams = new Set<string>();
  private builtChildren = new Set<string>();
  /** The dtype the layer takes: int32 for token ids (Embedding), float32 for everything else. */
  readonly inputDtype: 'float32' | 'int32' = 'float32';
  /** Input shape of the first call, without the batch axis (for summaries). */
  inputShape: number[] | null = null;

  constructor(name?: string) {
    this.autoNamed = name === undefined;
    this.name = name ?? uniqueName(this.baseName);
  }

  /** The generated name's stem: GlobalAveragePooling1D -> global_average_pooling1d. */
  get baseName(): string {
    return snakeCase(this.constructor.name);
  }

  /** Creates weights that depend on the input shape. Runs once, before the first forward. */
  protected build(_inputShape: Shape): void {}

  protected abstract forward(x: Tensor, options: ForwardOptions): Tensor;

  /** The mask that travels on with this layer's output; the default passes the input's mask through. */
  computeMask(_x: Tensor, mask: Tensor | null): Tensor | null {
    return mask;
  }

  /** Output shape (without the batch axis) for an input shape (without the batch axis). */
  computeOutputShape(inputShape: readonly number[]): number[] {
    return [...inputShape];
  }

  call(x: Tensor, options: CallOptions = {}): Tensor {
    this.ensureBuilt(x.shape);
    return this.forward(x, { training: options.training ?? this.training, mask: options.mask ?? null });
  }

  protected ensureBuilt(shape: Shape): void {
    if (this.built) return;
    this.inputShape = shape.slice(1);
    this.building = true;
    try {
      this.build(shape);
    } finally {
      this.building = false;
    }
    this.built = true;
  }

  get isBuilt(): boolean {
    return this.built;
  }

  protected addParameter(name: string, value: Tensor): Tensor {
    if (this.ownParams.has(name)) throw new WgradError(`${this.name}: parameter '${name}' already exists.`);
    keep(value);
    value.requiresGrad = this.isTrainable;
    this.ownParams.set(name, value);
    if (this.building) this.builtParams.add(name);
    return value;
  }

  protected addModule<M extends Module>(name: string, module: M): M {
    if (this.childModules.has(name)) throw new WgradError(`${this.name}: sub-module '${name}' already exists.`);
    this.childModules.set(name, module);
    if (this.building) this.builtChildren.add(name);
    if (!this.isTrainable) module.trainable = false;
    return module;
  }

  /**
   * Frees the weights that building made, here and in every sub-module, so that the next call builds them afresh
   * from the current seed. Trained or loaded values are lost: Model calls this only on weights nothing has touched.
   */
  resetParameters(): void {
    for (const name of this.builtParams) {
      const p = this.ownParams.get(name)!;
      p.grad?.dispose();
      p.dispose();
      this.ownParams.delete(name);
    }
    this.builtParams.clear();
    for (const name of this.builtChildren) {
      this.childModules.get(name)!.resetParameters();
      this.childModules.delete(name);
    }
    this.builtChildren.clear();
    for (const m of this.childModules.values()) m.resetParameters();
    this.built = false;
    this.inputShape = null;
  }

  /** Sub-modules in registration order. */
  children(): [string, Module][] {
    return [...this.childModules];
  }

  /** Every parameter with its dotted path from this module (`query_dense.kernel`), in a stable order. */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, p] of this.ownParams) out.push([prefix + n, p]);
    for (const [n, m] of this.childModules) out.push(...m.namedParameters(`${prefix}${n}.`));
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  trainableParameters(): Tensor[] {
    return this.parameters().filter((p) => p.requiresGrad);
  }

  /** Frozen modules (false) give their parameters no gradient, so optimizers leave them alone. */
  get trainable(): boolean {
    return this.isTrainable;
  }

  set trainable(value: boolean) {
    this.isTrainable = value;
    for (const p of this.ownParams.values()) p.requiresGrad = value;
    for (const m of this.childModules.values()) m.trainable = value;
  }

  train(mode = true): this {
    this.training = mode;
    for (const m of this.childModules.values()) m.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Saves the parameters to a safetensors file, named as namedParameters() names them. */
  saveWeights(path: string): Promise<void> {
    return saveWeights(this, path);
  }

  /** Loads parameters saved by saveWeights(); differences in names or shapes are listed in one error. */
  loadWeights(path: string): Promise<void> {
    return loadWeights(this, path);
  }

  /** Frees the parameters (and their gradients). */
  dispose(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.dispose();
    }
  }
}
