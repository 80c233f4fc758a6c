import { noGrad } from '../grad-mode.ts';
import { Dense } from '../nn/layers.ts';
import { Adam } from '../optim/adam.ts';
import { SparseCategoricalCrossentropy } from '../losses.ts';
import { mean } from '../ops/reduce.ts';
import { argmax } from '../ops/reduce.ts';
import { tensor } from '../ops/creation.ts';
import { tidy, type Tensor } from '../tensor.ts';

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
  for (const t of [xTrain, xTest, yTrain]) t.dispose();
  opt.dispose();
  layer.dispose();
  return result;
}
