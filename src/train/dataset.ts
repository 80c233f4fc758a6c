import type { DType, Tensor } from '../tensor/tensor.js';

/**
 * The one interface the training loop batches through. fit(), evaluate() and predict() take a Dataset (or tensors
 * in memory, which batches.ts wraps as one) and never ask what kind of data it is: image folders, text folders and
 * in-memory arrays each implement it, and a model's input stage (a frozen backbone, a TextVectorization) is handed
 * to the dataset, which knows how to feed it.
 */

/** One batch as the trainable layers see it. `x` and `y` belong to the consumer, who disposes them. */
export interface Batch {
  x: Tensor;
  y: Tensor | null;
  size: number;
  /** Pixels of image batches (for attention plots), when at hand. */
  pixels: Float32Array | null;
}

/** A model's frozen first stage: images to features, or texts to token ids. */
export interface InputStage {
  /** The kind of examples it consumes; a dataset of another kind refuses it. */
  readonly accepts: 'images' | 'texts';
  /** Shape of one example it gives the trainable layers, without the batch axis; null while unknown. */
  readonly outputShape: readonly number[] | null;
  readonly outputDtype: DType;
  /** Its row in Model.summary(). */
  readonly summaryRow: { name: string; type: string; params: number };
  /** Raw examples as a tensor (an image stage: pixels [N, H, W, C], 0..255) to what the stage gives the layers. */
  transform?(x: Tensor): Promise<Tensor>;
}

/** An input stage that turns texts into token ids (TextVectorization). */
export interface TextStage extends InputStage {
  readonly accepts: 'texts';
  call(texts: string[]): Tensor;
}

/** A source of batches: `length` batches per epoch, reshuffled per epoch where the source shuffles. */
export interface Dataset {
  readonly length: number;
  batches(epoch: number, stage: InputStage | null): AsyncGenerator<Batch>;
}

export function isDataset(data: unknown): data is Dataset {
  return typeof data === 'object' && data !== null && typeof (data as Dataset).batches === 'function' && typeof (data as Dataset).length === 'number';
}
