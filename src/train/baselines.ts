import { noGrad } from '../tensor/grad-mode.js';
import { Dense } from '../nn/layers.js';
import { Adam } from '../optim/adam.js';
import { BinaryCrossentropy, SparseCategoricalCrossentropy } from './losses.js';
import { argmax, mean } from '../ops/reduce.js';
import { greater } from '../ops/binary.js';
import { tensor } from '../ops/creation.js';
import { tidy, type Tensor } from '../tensor/tensor.js';

export interface ProbeResult {
  trainAccuracy: number;
  testAccuracy: number;
}

/**
 * A softmax-regression probe: one Dense(classes) layer trained full-batch with Adam on features, the standard
 * measure of how linearly separable a frozen representation is. Features [N, ..., D] are averaged over every
 * axis between the first and the last (for a 7x7x1280 map: global average pooling).
 */
export async function softmaxProbe(
  train: { features: Tensor; labels: number[] },
  test: { features: Tensor; labels: number[] },
  classes: number,
  options: { steps?: number; learningRate?: number } = {},
): Promise<ProbeResult> {
  const pool = (f: Tensor) => (f.rank > 2 ? mean(f, [...Array(f.rank - 2).keys()].map((a) => a + 1)) : f);
  const xTrain = noGrad(() => pool(train.features));
  const xTest = noGrad(() => pool(test.features));
  const yTrain = tensor(train.labels, [train.labels.length], { dtype: 'int32' });
  const layer = new Dense(classes, { name: 'probe' });
  layer.call(xTrain);
  const opt = new Adam(layer.namedParameters(), { learningRate: options.learningRate ?? 0.01 });
  const loss = new SparseCategoricalCrossentropy({ fromLogits: true });
  for (let s = 0; s < (options.steps ?? 300); s++) {
    tidy(() => {
      loss.call(yTrain, layer.call(xTrain)).backward();
      opt.step();
      opt.zeroGrad();
    });
  }
  const accuracy = async (x: Tensor, labels: number[]) => {
    const predicted = await noGrad(() => argmax(layer.call(x), -1)).data();
    return labels.filter((l, i) => predicted[i] === l).length / labels.length;
  };
  const result = { trainAccuracy: await accuracy(xTrain, train.labels), testAccuracy: await accuracy(xTest, test.labels) };
  // Pooled copies are the probe's own; 2-D features are the caller's and stay alive.
  for (const t of [xTrain, xTest, yTrain]) if (t !== train.features && t !== test.features) t.dispose();
  opt.dispose();
  layer.dispose();
  return result;
}

/**
 * Bag-of-words logistic regression, the baseline a text model has to beat: binary presence of each vocabulary
 * token (ids from the same TextVectorization), one sigmoid unit, Adam on mini-batches built on the host.
 */
export async function bagOfWordsLogistic(
  train: { ids: Int32Array[]; labels: number[] },
  test: { ids: Int32Array[]; labels: number[] },
  vocabulary: number,
  options: { epochs?: number; batchSize?: number; learningRate?: number; classes?: number } = {},
): Promise<ProbeResult> {
  const batchSize = options.batchSize ?? 256;
  // Two classes: logistic regression on one logit; more: softmax regression, one logit per class.
  const classes = options.classes ?? [...train.labels, ...test.labels].reduce((m, l) => Math.max(m, l + 1), 2);
  const binary = classes === 2;
  const rows = (ids: Int32Array[], from: number, to: number) => {
    const x = new Float32Array((to - from) * vocabulary);
    for (let r = from; r < to; r++) for (const id of ids[r]) if (id > 1) x[(r - from) * vocabulary + id] = 1;
    return tensor(x, [to - from, vocabulary]);
  };
  const layer = new Dense(binary ? 1 : classes, { name: 'bag_of_words' });
  layer.call(rows(train.ids, 0, 1));
  const opt = new Adam(layer.namedParameters(), { learningRate: options.learningRate ?? 0.01 });
  const loss = binary ? new BinaryCrossentropy({ fromLogits: true }) : new SparseCategoricalCrossentropy({ fromLogits: true });
  const order = train.ids.map((_, i) => i);
  for (let epoch = 0; epoch < (options.epochs ?? 10); epoch++) {
    for (let start = 0; start < order.length; start += batchSize) {
      const end = Math.min(order.length, start + batchSize);
      tidy(() => {
        const x = rows(train.ids, start, end);
        const labels = train.labels.slice(start, end);
        const y = binary ? tensor(labels, [end - start, 1]) : tensor(labels, [end - start], { dtype: 'int32' });
        loss.call(y, layer.call(x)).backward();
        opt.step();
        opt.zeroGrad();
      });
    }
  }
  const accuracy = async (data: { ids: Int32Array[]; labels: number[] }) => {
    let correct = 0;
    for (let start = 0; start < data.ids.length; start += batchSize) {
      const end = Math.min(data.ids.length, start + batchSize);
      const predicted = await noGrad(() => tidy(() => {
        const logits = layer.call(rows(data.ids, start, end));
        return binary ? greater(logits, 0) : argmax(logits, -1);
      })).data();
      for (let i = 0; i < end - start; i++) if (predicted[i] === data.labels[start + i]) correct++;
    }
    return correct / data.ids.length;
  };
  const result = { trainAccuracy: await accuracy(train), testAccuracy: await accuracy(test) };
  opt.dispose();
  layer.dispose();
  return result;
}
