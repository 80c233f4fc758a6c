import { WgradError } from '../errors.js';
import { noGrad } from '../tensor/grad-mode.js';
import { add, div, maximum } from '../ops/binary.js';
import { full, zerosLike } from '../ops/creation.js';
import { writeHost } from '../ops/op.js';
import { sum } from '../ops/reduce.js';
import { reshape } from '../ops/shape.js';
import { sqrt, square } from '../ops/unary.js';
import { keep, tidy, Tensor } from '../tensor/tensor.js';
import { readSafetensors, writeSafetensors } from '../io/safetensors.js';
import type { LearningRateSchedule } from './schedules.js';

export interface OptimizerOptions {
  /** A fixed rate, or a schedule evaluated at each step (CosineDecay, ExponentialDecay). */
  learningRate?: number | LearningRateSchedule;
  /** Rescale all gradients together so their global L2 norm is at most this (Keras's global_clipnorm). */
  globalClipNorm?: number;
}

export type ParamList = Iterable<Tensor> | Iterable<[string, Tensor]>;

const PARAMS_HINT = 'pass model.parameters(), model.namedParameters(), an array such as [w, b], or Object.entries() of an object of tensors';

/** The parameters as [name, tensor] pairs, unnamed ones named param_<i>; anything else is refused with the fix. */
function paramList(params: ParamList): [string, Tensor][] {
  if (params == null || typeof (params as Iterable<unknown>)[Symbol.iterator] !== 'function') {
    const got = params === null ? 'null' : Array.isArray(params) ? 'an array' : typeof params;
    throw new WgradError(`optimizer: the parameters must be an iterable of tensors or [name, tensor] pairs, got ${got}; ${PARAMS_HINT}.`);
  }
  return [...(params as Iterable<unknown>)].map((p, i) => {
    if (p instanceof Tensor) return [`param_${i}`, p];
    if (Array.isArray(p) && p.length === 2 && typeof p[0] === 'string' && p[1] instanceof Tensor) return [p[0], p[1]];
    throw new WgradError(`optimizer: parameter ${i} is neither a tensor nor a [name, tensor] pair (got ${Array.isArray(p) ? `an array of ${p.length}` : typeof p}); ${PARAMS_HINT}.`);
  });
}

/** State of an optimizer: its step count and its slot tensors (moments, velocities) as host arrays, by name. */
export interface OptimizerState {
  iterations: number;
  slots: Record<string, ArrayLike<number>>;
}

/**
 * Base of the optimizers: holds named parameters and per-parameter slot tensors, computes the clipping factor on the
 * device (no readback), and runs each parameter's update as one in-place kernel (kernels/adam.wgsl, sgd.wgsl).
 */
export abstract class Optimizer {
  readonly params: [string, Tensor][];
  /** The rate the next (or, after step(), the last) update uses; a schedule rewrites it every step. */
  learningRate: number;
  readonly schedule: LearningRateSchedule | undefined;
  readonly globalClipNorm: number | undefined;
  iterations = 0;
  protected slots = new Map<string, Tensor>();

  constructor(params: ParamList, options: OptimizerOptions, defaultLearningRate: number) {
    this.params = paramList(params);
    const rate = options.learningRate ?? defaultLearningRate;
    this.schedule = typeof rate === 'number' ? undefined : rate;
    this.learningRate = typeof rate === 'number' ? rate : rate.at(0);
    this.globalClipNorm = options.globalClipNorm;
    if (!this.schedule && !(this.learningRate > 0)) throw new WgradError(`optimizer: learningRate must be positive, got ${this.learningRate}.`);
  }

  /** A zero-initialised slot tensor named `${param}/${slot}`, made on first use. */
  protected slot(paramName: string, param: Tensor, slot: string): Tensor {
    const key = `${paramName}/${slot}`;
    let t = this.slots.get(key);
    if (!t) {
      t = keep(noGrad(() => zerosLike(param)));
      this.slots.set(key, t);
    }
    return t;
  }

  /** min(1, clip / ||g||) over every gradient, as a one-element tensor that stays on the device. */
  private clipScale(grads: Tensor[]): Tensor {
    const backend = grads[0].backend;
    if (this.globalClipNorm === undefined) return full([1], 1, { backend });
    const clip = this.globalClipNorm;
    return tidy(() => {
      const total = grads.map((g) => sum(square(g))).reduce((a, b) => add(a, b));
      return reshape(div(clip, maximum(sqrt(total), clip)), [1]);
    });
  }

  /** Applies one update to every parameter that has a gradient, in place. */
  step(): void {
    const withGrad = this.params.filter(([, p]) => p.requiresGrad && p.grad);
    if (withGrad.length === 0) return;
    if (this.schedule) this.learningRate = this.schedule.at(this.iterations);
    this.iterations++;
    noGrad(() => {
      const scale = this.clipScale(withGrad.map(([, p]) => p.grad!));
      for (const [name, p] of withGrad) this.update(name, p, p.grad!, scale);
      scale.dispose();
    });
  }

  protected abstract update(name: string, param: Tensor, grad: Tensor, scale: Tensor): void;

  /** Clears every parameter's gradient. */
  zeroGrad(): void {
    for (const [, p] of this.params) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  async stateDict(): Promise<OptimizerState> {
    const slots: OptimizerState['slots'] = {};
    for (const [k, t] of this.slots) slots[k] = await t.data();
    return { iterations: this.iterations, slots };
  }

  loadStateDict(state: OptimizerState): void {
    const byName = new Map(this.params);
    for (const [key, values] of Object.entries(state.slots)) {
      const [paramName, slot] = [key.slice(0, key.lastIndexOf('/')), key.slice(key.lastIndexOf('/') + 1)];
      const p = byName.get(paramName);
      if (!p) throw new WgradError(`optimizer state has a slot '${key}' for a parameter this optimizer does not hold.`);
      writeHost(this.slot(paramName, p, slot), values);
    }
    this.iterations = state.iterations;
  }

  /** Writes the state to a safetensors file (slots as tensors, the step count in the metadata). */
  async save(path: string): Promise<void> {
    const tensors: Record<string, { shape: readonly number[]; data: ArrayLike<number> }> = {};
    for (const [k, t] of this.slots) tensors[k] = { shape: t.shape, data: await t.data() };
    await writeSafetensors(path, tensors, { iterations: String(this.iterations), optimizer: this.constructor.name });
  }

  async load(path: string): Promise<void> {
    const file = await readSafetensors(path);
    const slots: OptimizerState['slots'] = {};
    for (const [k, t] of Object.entries(file.tensors)) slots[k] = t.data;
    this.loadStateDict({ iterations: Number(file.metadata.iterations ?? 0), slots });
  }

  dispose(): void {
    for (const t of this.slots.values()) t.dispose();
    this.slots.clear();
  }
}
