import { WgradError } from '../errors.js';
import { cast } from '../ops/cast.js';
import { gather } from '../ops/gather.js';
import { reshape } from '../ops/shape.js';
import { Rng } from '../tensor/random.js';
import { fromHost, tidy, type Tensor } from '../tensor/tensor.js';
import { isDataset, type Batch, type Dataset, type InputStage } from './dataset.js';

/** Tensors already in memory, split into batches (reshuffled per epoch from the seed when shuffle is true). */
export interface ArrayData {
  x: Tensor;
  y?: Tensor;
  batchSize?: number;
  shuffle?: boolean;
  seed?: number;
}

export type Data = Dataset | ArrayData;

/**
 * Rows of x (and y) at the given indices. int32 tensors built from host values (token ids, class labels) are picked
 * on the host, so the batch keeps its host copy: an Embedding's gradient and label validation read it there.
 */
function rows(t: Tensor, index: () => Tensor, order: number[]): Tensor {
  if (t.dtype === 'int32' && t.hostInts) {
    const per = t.size / t.shape[0];
    const picked = new Int32Array(order.length * per);
    order.forEach((r, i) => picked.set(t.hostInts!.subarray(r * per, (r + 1) * per), i * per));
    return fromHost(picked, [order.length, ...t.shape.slice(1)], { dtype: 'int32', backend: t.backend });
  }
  // Made outside the scope, since y's rows use the same index; the cast, view and gather in between are freed here.
  const at = index();
  return tidy(() => {
    const flat = reshape(t.dtype === 'int32' ? cast(t, 'float32') : t, [t.shape[0], -1]);
    const picked = reshape(gather(flat, at), [order.length, ...t.shape.slice(1)]);
    return t.dtype === 'int32' ? cast(picked, 'int32') : picked;
  });
}

/** In-memory tensors as a Dataset. */
export function arrayDataset(data: ArrayData): Dataset {
  const n = data.x.shape[0];
  const size = data.batchSize ?? 32;
  if (!Number.isInteger(size) || size < 1) throw new WgradError(`batchSize must be a positive whole number, got ${size}.`);
  if (data.x.rank === 0) throw new WgradError('x must have a batch axis: give it shape [examples, ...].');
  if (data.y && (data.y.rank === 0 || data.y.shape[0] !== n)) {
    throw new WgradError(`x has ${n} examples but y has ${data.y.rank === 0 ? 'no batch axis' : data.y.shape[0]}: give one label row per example.`);
  }
  return {
    length: Math.ceil(n / size),
    async *batches(epoch: number, stage: InputStage | null): AsyncGenerator<Batch> {
      if (stage) throw new WgradError(`A model with a ${stage.summaryRow.type} input stage takes ${stage.accepts}, not tensors: pass a dataset of ${stage.accepts}.`);
      const order = Array.from({ length: n }, (_, i) => i);
      if (data.shuffle) new Rng(((data.seed ?? 0) * 1000003 + epoch) >>> 0).shuffle(order);
      for (let start = 0; start < n; start += size) {
        const picked = order.slice(start, start + size);
        // The row indices go to the device only when a tensor is picked there (token ids with labels need none).
        let uploaded: Tensor | null = null;
        const index = () => (uploaded ??= fromHost(picked, [picked.length], { dtype: 'int32', backend: data.x.backend }));
        const x = rows(data.x, index, picked);
        const y = data.y ? rows(data.y, index, picked) : null;
        (uploaded as Tensor | null)?.dispose();
        yield { x, y, size: x.shape[0], pixels: null };
      }
    },
  };
}

export function asDataset(data: Data): Dataset {
  return isDataset(data) ? data : arrayDataset(data);
}
