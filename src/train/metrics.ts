import { WgradError } from '../errors.js';
import { noGrad } from '../tensor/grad-mode.js';
import { add, equal, greater } from '../ops/binary.js';
import { cast } from '../ops/cast.js';
import { argmax, sum } from '../ops/reduce.js';
import { reshape } from '../ops/shape.js';
import { keep, tidy, type Tensor } from '../tensor/tensor.js';

/**
 * A streaming metric in Keras's style: updateState() per batch, result() for the running value, resetState() per
 * epoch. The running total stays on the device, so updating it never waits for the GPU.
 */
export abstract class Metric {
  abstract readonly name: string;
  private total: Tensor | null = null;
  private count = 0;

  /** One value per example (1 correct, 0 wrong for the accuracies). */
  abstract perExample(yTrue: Tensor, yPred: Tensor): Tensor;

  updateState(yTrue: Tensor, yPred: Tensor): void {
    const next = noGrad(() =>
      tidy(() => {
        const batch = sum(this.perExample(yTrue.dtype === 'int32' ? cast(yTrue, 'float32') : yTrue, yPred));
        return this.total ? add(this.total, batch) : batch;
      }),
    );
    this.total?.dispose();
    this.total = keep(next);
    this.count += yPred.shape[0] ?? 1;
  }

  async result(): Promise<number> {
    return this.total && this.count ? (await this.total.item()) / this.count : 0;
  }

  resetState(): void {
    this.total?.dispose();
    this.total = null;
    this.count = 0;
  }
}

/** Fraction of outputs on the right side of `threshold` (0.5 for probabilities, 0 for logits). */
export class BinaryAccuracy extends Metric {
  constructor(
    readonly threshold = 0.5,
    /** The key in logs and History ('accuracy' when compile() resolved that name to this metric). */
    readonly name: string = 'binary_accuracy',
  ) {
    super();
  }

  perExample(yTrue: Tensor, yPred: Tensor): Tensor {
    return equal(greater(yPred, this.threshold), reshape(yTrue, yPred.shape));
  }
}

/** Fraction where the predicted class (argmax) equals the integer label. */
export class SparseCategoricalAccuracy extends Metric {
  readonly name: string = 'sparse_categorical_accuracy';
  perExample(yTrue: Tensor, yPred: Tensor): Tensor {
    return equal(cast(argmax(yPred, -1), 'float32'), reshape(yTrue, [-1]));
  }
}

/** Fraction where the predicted class equals the one-hot label's class. */
export class CategoricalAccuracy extends Metric {
  readonly name: string = 'categorical_accuracy';
  perExample(yTrue: Tensor, yPred: Tensor): Tensor {
    return equal(cast(argmax(yPred, -1), 'float32'), cast(argmax(yTrue, -1), 'float32'));
  }
}

/**
 * Keras's 'accuracy': picks the variant from the shapes on first use. One output per example is binary;
 * labels shaped like the predictions are one-hot (categorical); otherwise integer labels (sparse categorical).
 */
export class Accuracy extends Metric {
  readonly name = 'accuracy';
  private resolved: Metric | null = null;

  /** The variant chosen, once known. */
  get variant(): string | null {
    return this.resolved?.name ?? null;
  }

  resolve(yTrue: Tensor, yPred: Tensor): Metric {
    if (this.resolved) return this.resolved;
    const classes = yPred.rank === 1 ? 1 : yPred.shape[yPred.rank - 1];
    if (classes === 1) this.resolved = new BinaryAccuracy();
    else if (yTrue.rank === yPred.rank && yTrue.shape[yTrue.rank - 1] === classes) this.resolved = new CategoricalAccuracy();
    else this.resolved = new SparseCategoricalAccuracy();
    return this.resolved;
  }

  perExample(yTrue: Tensor, yPred: Tensor): Tensor {
    return this.resolve(yTrue, yPred).perExample(yTrue, yPred);
  }
}

export const accuracy = (): Accuracy => new Accuracy();
export const binaryAccuracy = (options: { threshold?: number } = {}): BinaryAccuracy => new BinaryAccuracy(options.threshold);
export const sparseCategoricalAccuracy = (): SparseCategoricalAccuracy => new SparseCategoricalAccuracy();
export const categoricalAccuracy = (): CategoricalAccuracy => new CategoricalAccuracy();

/** Keras-style names to metrics. */
export function getMetric(name: string | Metric): Metric {
  if (typeof name !== 'string') return name;
  const table: Record<string, () => Metric> = {
    accuracy: accuracy,
    acc: accuracy,
    binary_accuracy: () => binaryAccuracy(),
    sparse_categorical_accuracy: sparseCategoricalAccuracy,
    categorical_accuracy: categoricalAccuracy,
  };
  const make = table[name];
  if (!make) throw new WgradError(`Unknown metric '${name}'; use one of ${Object.keys(table).join(', ')}.`);
  return make();
}
