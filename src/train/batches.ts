import { WgradError } from '../errors.ts';
import { FrozenBackbone } from '../backbone/frozen.ts';
import { ImageDataset, batchImages } from '../data/image-dataset.ts';
import { TextDataset } from '../data/text-dataset.ts';
import { TextVectorization } from '../data/text-vectorization.ts';
import { cast } from '../ops/cast.ts';
import { fromHost } from '../ops/op.ts';
import { gather } from '../ops/gather.ts';
import { reshape } from '../ops/shape.ts';
import { Rng } from '../random.ts';
import type { Tensor } from '../tensor.ts';

/** Tensors already in memory, split into batches (reshuffled per epoch from the seed when shuffle is true). */
export interface ArrayData {
  x: Tensor;
  y?: Tensor;
  batchSize?: number;
  shuffle?: boolean;
  seed?: number;
}

export type Data = ImageDataset | TextDataset | ArrayData;

/** What the model's first stage turns raw data into: backbone features, or token ids. */
export type InputStage = FrozenBackbone | TextVectorization;

/** One batch as the trainable layers see it. `x` and `y` belong to the caller, who disposes them. */
export interface Batch {
  x: Tensor;
  y: Tensor | null;
  size: number;
  /** Pixels of image batches (for attention plots), when at hand. */
  pixels: Float32Array | null;
}

export function batchCount(data: Data): number {
  if (data instanceof ImageDataset || data instanceof TextDataset) return data.length;
  return Math.ceil(data.x.shape[0] / (data.batchSize ?? 32));
}

/** Rows of x (and y) at host-known indices, on the device. */
function rows(t: Tensor, index: Tensor): Tensor {
  const flat = reshape(t.dtype === 'int32' ? cast(t, 'float32') : t, [t.shape[0], -1]);
  const picked = reshape(gather(flat, index), [index.shape[0], ...t.shape.slice(1)]);
  return t.dtype === 'int32' ? cast(picked, 'int32') : picked;
}

/** One epoch of batches from any supported data, through the model's input stage. */
export async function* epochBatches(data: Data, stage: InputStage | null, epoch: number): AsyncGenerator<Batch> {
  if (data instanceof ImageDataset) {
    if (stage instanceof FrozenBackbone) {
      for await (const b of stage.epoch(data, epoch)) yield { x: b.features, y: b.labels, size: b.samples.length, pixels: b.pixels };
      return;
    }
    if (stage) throw new WgradError('An image dataset needs a model whose input stage is a backbone (or none).');
    for await (const b of data.epoch(epoch)) yield { x: batchImages(b), y: b.labels, size: b.samples.length, pixels: b.pixels };
    return;
  }
  if (data instanceof TextDataset) {
    if (!(stage instanceof TextVectorization)) throw new WgradError('A text dataset needs a model whose input stage is a TextVectorization.');
    for await (const b of data.epoch(epoch)) yield { x: stage.call(b.texts), y: b.labels, size: b.texts.length, pixels: null };
    return;
  }
  const n = data.x.shape[0];
  const size = data.batchSize ?? 32;
  const order = Array.from({ length: n }, (_, i) => i);
  if (data.shuffle) new Rng(((data.seed ?? 0) * 1000003 + epoch) >>> 0).shuffle(order);
  for (let start = 0; start < n; start += size) {
    const index = fromHost(order.slice(start, start + size), [Math.min(size, n - start)], { dtype: 'int32', backend: data.x.backend });
    const x = rows(data.x, index);
    const y = data.y ? rows(data.y, index) : null;
    index.dispose();
    yield { x, y, size: x.shape[0], pixels: null };
  }
}
