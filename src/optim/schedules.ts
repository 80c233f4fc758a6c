import { WgradError } from '../errors.js';

/** A learning rate as a function of the optimizer's step count (0 for the first update), as Keras's schedules. */
export interface LearningRateSchedule {
  at(step: number): number;
}

export interface CosineDecayOptions {
  /** Steps over which the rate falls from its start to `alpha` times its start. */
  decaySteps: number;
  /** The floor, as a fraction of the initial rate (Keras's alpha, default 0). */
  alpha?: number;
  /** Steps of linear warm-up from 0 to the initial rate before the decay starts (default 0). */
  warmupSteps?: number;
}

/** Cosine decay (Loshchilov & Hutter, without restarts), with Keras's formula and an optional linear warm-up. */
export class CosineDecay implements LearningRateSchedule {
  readonly decaySteps: number;
  readonly alpha: number;
  readonly warmupSteps: number;

  constructor(readonly initialLearningRate: number, options: CosineDecayOptions) {
    this.decaySteps = options.decaySteps;
    this.alpha = options.alpha ?? 0;
    this.warmupSteps = options.warmupSteps ?? 0;
    if (!(initialLearningRate > 0)) throw new WgradError(`CosineDecay: initialLearningRate must be positive, got ${initialLearningRate}.`);
    if (!(this.decaySteps > 0)) throw new WgradError(`CosineDecay: decaySteps must be positive, got ${this.decaySteps}; pass steps per epoch × epochs.`);
    if (!(this.alpha >= 0 && this.alpha <= 1)) throw new WgradError(`CosineDecay: alpha is a fraction of the initial rate in [0, 1], got ${this.alpha}.`);
    if (!(this.warmupSteps >= 0)) throw new WgradError(`CosineDecay: warmupSteps must be 0 or more, got ${this.warmupSteps}.`);
  }

  at(step: number): number {
    if (step < this.warmupSteps) return (this.initialLearningRate * step) / this.warmupSteps;
    const t = Math.min(step - this.warmupSteps, this.decaySteps) / this.decaySteps;
    return this.initialLearningRate * ((1 - this.alpha) * 0.5 * (1 + Math.cos(Math.PI * t)) + this.alpha);
  }
}

export interface ExponentialDecayOptions {
  decaySteps: number;
  decayRate: number;
  /** Decay in whole intervals of decaySteps rather than continuously (default false). */
  staircase?: boolean;
}

/** initial × decayRate^(step / decaySteps), as Keras's ExponentialDecay. */
export class ExponentialDecay implements LearningRateSchedule {
  readonly decaySteps: number;
  readonly decayRate: number;
  readonly staircase: boolean;

  constructor(readonly initialLearningRate: number, options: ExponentialDecayOptions) {
    this.decaySteps = options.decaySteps;
    this.decayRate = options.decayRate;
    this.staircase = options.staircase ?? false;
    if (!(initialLearningRate > 0)) throw new WgradError(`ExponentialDecay: initialLearningRate must be positive, got ${initialLearningRate}.`);
    if (!(this.decaySteps > 0)) throw new WgradError(`ExponentialDecay: decaySteps must be positive, got ${this.decaySteps}.`);
    if (!(this.decayRate > 0)) throw new WgradError(`ExponentialDecay: decayRate must be positive, got ${this.decayRate}.`);
  }

  at(step: number): number {
    const p = step / this.decaySteps;
    return this.initialLearningRate * this.decayRate ** (this.staircase ? Math.floor(p) : p);
  }
}
