import { WgradError } from '../errors.js';
import { abs, exp, log, relu, square } from '../ops/unary.js';
import { add, div, equal, maximum, minimum, mul, sub } from '../ops/binary.js';
import { arange } from '../ops/creation.js';
import { cast } from '../ops/cast.js';
import { mean, sum } from '../ops/reduce.js';
import { reshape } from '../ops/shape.js';
import { logSoftmax } from '../ops/softmax.js';
import { fmt } from '../tensor/dims.js';
import type { Tensor } from '../tensor/tensor.js';

/** Raised when labels, model output and loss do not fit together; the message says what to use instead. */
export class LossMismatchError extends WgradError {
  override name = 'LossMismatchError';
}

/** What a loss can know about the model's output layer, to catch logits fed as probabilities and the reverse. */
export interface LossContext {
  /** The final layer's activation: 'softmax', 'sigmoid', 'linear', ... (undefined when unknown). */
  activation?: string;
}

export interface LossOptions {
  /** The predictions are logits (no softmax/sigmoid applied); the loss applies it stably itself. */
  fromLogits?: boolean;
}

const EPSILON = 1e-7; // Keras's backend epsilon: probabilities are clipped to [eps, 1 - eps] before the log.

/** A loss: a scalar mean over the batch, after checking that labels and predictions fit it. */
export abstract class Loss {
  abstract readonly name: string;
  readonly fromLogits: boolean;

  constructor(options: LossOptions = {}) {
    this.fromLogits = options.fromLogits ?? false;
  }

  /** Throws LossMismatchError when the labels, the output or its activation do not fit this loss. */
  abstract validate(yTrue: Tensor, yPred: Tensor, context?: LossContext): void;
  protected abstract compute(yTrue: Tensor, yPred: Tensor): Tensor;

  call(yTrue: Tensor, yPred: Tensor, context: LossContext = {}): Tensor {
    this.validate(yTrue, yPred, context);
    return this.compute(yTrue.dtype === 'int32' ? cast(yTrue, 'float32') : yTrue, yPred);
  }

  protected checkActivation(context: LossContext, probability: 'softmax' | 'sigmoid'): void {
    const act = context.activation;
    if (act === undefined) return;
    if (!this.fromLogits && (act === 'linear' || act === 'relu' || act === 'gelu' || act === 'none')) {
      throw new LossMismatchError(
        `${this.name}: the model's last layer has activation '${act}', so it outputs logits, but the loss expects probabilities. ` +
          `Pass { fromLogits: true } to the loss, or give the last layer activation '${probability}'.`,
      );
    }
    if (this.fromLogits && (act === 'softmax' || act === 'sigmoid')) {
      throw new LossMismatchError(
        `${this.name}: { fromLogits: true } but the model's last layer already applies '${act}'. ` +
          `Use { fromLogits: false }, or drop the activation from the last layer (the stable choice).`,
      );
    }
  }
}

const isLabelVector = (yTrue: Tensor, yPred: Tensor): boolean =>
  yTrue.shape[0] === yPred.shape[0] && (yTrue.rank === 1 || (yTrue.rank === 2 && yTrue.shape[1] === 1));

/** Binary cross-entropy for one probability (or logit) per example, or independent multi-label outputs. */
/**
 * Binary labels must be 0 or 1: others give a loss without meaning (labels 0, 3, 2 gave -1.85), and a 4-class folder
 * trained as binary reached chance accuracy without a word.
 */
export function checkBinaryLabels(values: ArrayLike<number>): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== 0 && v !== 1) {
      throw new LossMismatchError(
        `binary_crossentropy: label ${v} at position ${i} is not 0 or 1. For more than two classes use sparseCategoricalCrossentropy ` +
          `(integer class ids) with a softmax output; for two, map the labels to 0 and 1.`,
      );
    }
  }
}

export class BinaryCrossentropy extends Loss {
  readonly name = 'binary_crossentropy';

  validate(yTrue: Tensor, yPred: Tensor, context: LossContext = {}): void {
    const units = yPred.rank === 1 ? 1 : yPred.shape[yPred.rank - 1];
    if (units > 1 && isLabelVector(yTrue, yPred)) {
      throw new LossMismatchError(
        `binary_crossentropy: labels ${fmt(yTrue.shape)} hold one class id per example, but the model outputs ${fmt(yPred.shape)}, ` +
          `${units} values per example${context.activation === 'softmax' ? ' from a softmax' : ''}. Binary cross-entropy would score each of ` +
          `the ${units} outputs against the same label. For integer class labels use sparseCategoricalCrossentropy ` +
          `(the loss for a ${units}-way softmax), or end the model in Dense(1, sigmoid) for binary cross-entropy.`,
      );
    }
    const same = yTrue.size === yPred.size && (yTrue.shape[0] === yPred.shape[0] || yPred.rank === 0);
    if (!same) {
      throw new LossMismatchError(`binary_crossentropy: labels ${fmt(yTrue.shape)} do not match predictions ${fmt(yPred.shape)}; give one 0/1 label per output.`);
    }
    if (context.activation === 'softmax') {
      throw new LossMismatchError(
        `binary_crossentropy: the model ends in a softmax, which couples its outputs into one categorical distribution. ` +
          `Use categoricalCrossentropy (one-hot labels) or sparseCategoricalCrossentropy (integer labels), or a sigmoid output.`,
      );
    }
    this.checkActivation(context, 'sigmoid');
    if (yTrue.hostInts) checkBinaryLabels(yTrue.hostInts);
  }

  protected compute(yTrue: Tensor, yPred: Tensor): Tensor {
    const z = reshape(yTrue, yPred.shape);
    if (this.fromLogits) {
      // max(x, 0) - x z + log(1 + exp(-|x|)): never overflows, never takes log(0).
      return mean(add(sub(relu(yPred), mul(yPred, z)), log(add(exp(mul(abs(yPred), -1)), 1))));
    }
    const p = minimum(maximum(yPred, EPSILON), 1 - EPSILON);
    return mul(mean(add(mul(z, log(p)), mul(sub(1, z), log(sub(1, p))))), -1);
  }
}

/** Cross-entropy against one-hot (or soft) labels of the same shape as the predictions. */
export class CategoricalCrossentropy extends Loss {
  readonly name = 'categorical_crossentropy';

  validate(yTrue: Tensor, yPred: Tensor, context: LossContext = {}): void {
    if (isLabelVector(yTrue, yPred) && yPred.shape[yPred.rank - 1] > 1) {
      throw new LossMismatchError(
        `categorical_crossentropy: labels ${fmt(yTrue.shape)} are one class id per example, but this loss expects one-hot labels ` +
          `${fmt(yPred.shape)}. Use sparseCategoricalCrossentropy for integer labels.`,
      );
    }
    if (yTrue.rank !== yPred.rank || yTrue.shape.some((d, i) => d !== yPred.shape[i])) {
      throw new LossMismatchError(`categorical_crossentropy: labels ${fmt(yTrue.shape)} must have the predictions' shape ${fmt(yPred.shape)}; give one-hot labels ${fmt(yPred.shape)}.`);
    }
    this.checkActivation(context, 'softmax');
  }

  protected compute(yTrue: Tensor, yPred: Tensor): Tensor {
    const logp = this.fromLogits ? logSoftmax(yPred) : log(clipProbabilities(yPred));
    return mul(mean(sum(mul(yTrue, logp), -1)), -1);
  }
}

/** Probabilities renormalised over the last axis and clipped away from 0 and 1, as Keras does. */
function clipProbabilities(p: Tensor): Tensor {
  return minimum(maximum(div(p, sum(p, -1, true)), EPSILON), 1 - EPSILON);
}

/** Cross-entropy against integer class ids, [batch] or [batch, 1]. */
export class SparseCategoricalCrossentropy extends Loss {
  readonly name = 'sparse_categorical_crossentropy';

  validate(yTrue: Tensor, yPred: Tensor, context: LossContext = {}): void {
    const classes = yPred.shape[yPred.rank - 1];
    if (yTrue.rank === yPred.rank && yTrue.shape.every((d, i) => d === yPred.shape[i]) && classes > 1) {
      throw new LossMismatchError(
        `sparse_categorical_crossentropy: labels ${fmt(yTrue.shape)} look one-hot (the predictions' shape), but this loss expects ` +
          `integer class ids of shape [${yPred.shape[0]}]. Use categoricalCrossentropy for one-hot labels.`,
      );
    }
    if (yPred.rank < 2 || classes < 2) {
      throw new LossMismatchError(
        `sparse_categorical_crossentropy: predictions ${fmt(yPred.shape)} need a class axis of at least 2; ` +
          `for one output unit use binaryCrossentropy.`,
      );
    }
    if (!isLabelVector(yTrue, yPred)) {
      throw new LossMismatchError(`sparse_categorical_crossentropy: labels ${fmt(yTrue.shape)} must be [${yPred.shape[0]}] class ids for predictions ${fmt(yPred.shape)}.`);
    }
    if (yTrue.dtype !== 'int32') {
      throw new LossMismatchError(`sparse_categorical_crossentropy: labels must be int32 class ids, got ${yTrue.dtype} ${fmt(yTrue.shape)}; make them with tensor(ids, shape, { dtype: 'int32' }).`);
    }
    const ids = yTrue.hostInts;
    if (ids) {
      const bad = ids.findIndex((c) => c < 0 || c >= classes);
      if (bad >= 0) throw new LossMismatchError(`sparse_categorical_crossentropy: label ${ids[bad]} at position ${bad} is not a class id in 0..${classes - 1}.`);
    }
    this.checkActivation(context, 'softmax');
  }

  protected compute(yTrue: Tensor, yPred: Tensor): Tensor {
    const classes = yPred.shape[yPred.rank - 1];
    // One-hot on the device by comparing each label with 0..C-1: no host round trip for the labels.
    const oneHot = equal(reshape(yTrue, [-1, 1]), arange(classes, undefined, 1, { backend: yPred.backend }));
    const logp = this.fromLogits ? logSoftmax(yPred) : log(clipProbabilities(yPred));
    return mul(mean(sum(mul(oneHot, logp), -1)), -1);
  }
}

export class MeanSquaredError extends Loss {
  readonly name = 'mean_squared_error';

  validate(yTrue: Tensor, yPred: Tensor): void {
    if (yTrue.size !== yPred.size) {
      throw new LossMismatchError(`mean_squared_error: labels ${fmt(yTrue.shape)} and predictions ${fmt(yPred.shape)} differ in size; give one label per output.`);
    }
  }

  protected compute(yTrue: Tensor, yPred: Tensor): Tensor {
    return mean(square(sub(yPred, reshape(yTrue, yPred.shape))));
  }
}

export const binaryCrossentropy = (o?: LossOptions): Loss => new BinaryCrossentropy(o);
export const categoricalCrossentropy = (o?: LossOptions): Loss => new CategoricalCrossentropy(o);
export const sparseCategoricalCrossentropy = (o?: LossOptions): Loss => new SparseCategoricalCrossentropy(o);
export const meanSquaredError = (): Loss => new MeanSquaredError();

/** Keras-style names ('sparse_categorical_crossentropy', 'mse', ...) to losses. */
export function getLoss(name: string | Loss): Loss {
  if (typeof name !== 'string') return name;
  const table: Record<string, () => Loss> = {
    binary_crossentropy: () => new BinaryCrossentropy(),
    categorical_crossentropy: () => new CategoricalCrossentropy(),
    sparse_categorical_crossentropy: () => new SparseCategoricalCrossentropy(),
    mean_squared_error: () => new MeanSquaredError(),
    mse: () => new MeanSquaredError(),
  };
  const make = table[name];
  if (!make) throw new WgradError(`Unknown loss '${name}'; use one of ${Object.keys(table).join(', ')}.`);
  return make();
}
