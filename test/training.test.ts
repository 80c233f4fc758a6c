// A short training run of a small attention classifier on synthetic sequences: the loss must fall and accuracy must
// beat chance by a wide margin. The task: is the marker token's value above the median? Solving it requires attending
// from every position to the marker, wherever it sits. Not timed.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as wg from '../src/node.js';
import { Rng } from '../src/tensor/random.js';
import { gpu } from './helpers.js';

function makeData(n: number, t: number, seed: number) {
  const rng = new Rng(seed);
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const pos = rng.int(t);
    const value = rng.uniform() * 2 - 1;
    for (let s = 0; s < t; s++) {
      const noise = rng.normal() * 0.3;
      x.push(s === pos ? 1 : 0, s === pos ? value : noise, rng.normal() * 0.1, 0);
    }
    y.push(value > 0 ? 1 : 0);
  }
  return { x: wg.tensor(x, [n, t, 4]), y: wg.tensor(y, [n], { dtype: 'int32' }) };
}

const training = suite('training');
training.before(async () => {
  await gpu();
});

training('an attention classifier learns a task that needs attention', async () => {
  wg.manualSeed(0);
  const model = new wg.Sequential([
    new wg.Dense(16, { activation: 'relu' }),
    new wg.MultiHeadSelfAttention(16, 4),
    new wg.GlobalAveragePooling1D(),
    new wg.Dense(16, { activation: 'relu' }),
    new wg.Dense(2),
  ]);
  const train = makeData(256, 8, 1);
  const test = makeData(256, 8, 2);
  const loss = wg.sparseCategoricalCrossentropy({ fromLogits: true });
  model.call(train.x);
  const opt = new wg.Adam(model.namedParameters(), { learningRate: 0.01 });
  const losses: number[] = [];
  model.train();
  for (let step = 0; step < 150; step++) {
    const l = wg.tidy(() => {
      const value = loss.call(train.y, model.call(train.x));
      value.backward();
      opt.step();
      opt.zeroGrad();
      return value;
    });
    if (step % 10 === 0) losses.push(await l.item());
    l.dispose();
  }
  model.eval();
  const acc = wg.sparseCategoricalAccuracy();
  acc.updateState(test.y, model.call(test.x));
  const accuracy = await acc.result();
  assert.ok(losses[losses.length - 1] < 0.5 * losses[0], `loss fell: ${losses.map((v) => v.toFixed(3)).join(' ')}`);
  console.log(`\n  attention classifier: loss ${losses[0].toFixed(3)} -> ${losses[losses.length - 1].toFixed(3)}, held-out accuracy ${accuracy}`);
  assert.ok(accuracy > 0.85, `held-out accuracy ${accuracy} (chance is 0.5)`);
});

training.run();
