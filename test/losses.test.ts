import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as wg from '../src/node.js';
import { assertClose, gpu } from './helpers.js';

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const bce = (z: number, p: number) => -(z * Math.log(p) + (1 - z) * Math.log(1 - p));
const logSoftmaxRow = (r: number[]) => {
  const m = Math.max(...r);
  const lse = m + Math.log(r.reduce((s, v) => s + Math.exp(v - m), 0));
  return r.map((v) => v - lse);
};

const losses = suite('losses and metrics');
losses.before(async () => {
  await gpu();
});

for (const backend of ['cpu', 'webgpu'] as const) {
  const t = (v: number[] | number[][], shape?: number[], dtype?: 'int32') => wg.tensor(v, shape, { backend, dtype });
  const tol = { rtol: 1e-5, atol: 1e-6 };
  losses(`values match hand computations (${backend})`, async () => {
    const logits = [0.3, -1.2, 2.5, 0];
    const z = [1, 0, 1, 0];
    const expectBce = logits.reduce((s, x, i) => s + bce(z[i], sigmoid(x)), 0) / 4;
    assertClose([await wg.binaryCrossentropy({ fromLogits: true }).call(t(z, [4, 1]), t(logits, [4, 1])).item()], [expectBce], tol);
    assertClose([await wg.binaryCrossentropy().call(t(z), t(logits.map(sigmoid))).item()], [expectBce], tol);

    const rows = [[1, 2, 0.5], [-1, 0, 3]];
    const labels = [2, 0];
    const expectCe = -(logSoftmaxRow(rows[0])[2] + logSoftmaxRow(rows[1])[0]) / 2;
    assertClose([await wg.sparseCategoricalCrossentropy({ fromLogits: true }).call(t(labels, [2], 'int32'), t(rows)).item()], [expectCe], tol);
    assertClose([await wg.categoricalCrossentropy({ fromLogits: true }).call(t([[0, 0, 1], [1, 0, 0]]), t(rows)).item()], [expectCe], tol);
    const probs = rows.map((r) => logSoftmaxRow(r).map(Math.exp));
    assertClose([await wg.sparseCategoricalCrossentropy().call(t(labels, [2], 'int32'), t(probs)).item()], [expectCe], tol);
    assertClose([await wg.meanSquaredError().call(t([1, 2]), t([1.5, 1])).item()], [(0.25 + 1) / 2], tol);
  });

  losses(`stable at the edges: huge logits and probabilities of exactly 0 and 1 (${backend})`, async () => {
    const bigLogits = wg.binaryCrossentropy({ fromLogits: true }).call(t([1, 0, 0, 1]), t([1e4, 1e4, -1e4, -1e4]));
    assertClose([await bigLogits.item()], [(1e4 + 1e4) / 4], { rtol: 1e-6 });
    const hardProbs = await wg.binaryCrossentropy().call(t([1, 0]), t([0, 1])).item();
    assert.ok(Number.isFinite(hardProbs), `clipped, got ${hardProbs}`);
    // Clipped to [1e-7, 1 - 1e-7]; in float32 the upper bound rounds to 1 - 2^-23, so log(1 - p) is log(2^-23) there.
    const upper = backend === 'cpu' ? 1e-7 : 2 ** -23;
    assertClose([hardProbs], [(-Math.log(1e-7) - Math.log(upper)) / 2], { rtol: 1e-3 });
    const ce = await wg.sparseCategoricalCrossentropy({ fromLogits: true }).call(t([0], [1], 'int32'), t([[-1e4, 1e4, 0]])).item();
    assertClose([ce], [2e4], { rtol: 1e-6 });
  });

  losses(`metrics: binary (threshold), sparse and categorical accuracy, streaming (${backend})`, async () => {
    const m = wg.binaryAccuracy({ threshold: 0 });
    m.updateState(t([1, 0, 1]), t([0.5, -2, -0.1]));
    m.updateState(t([0]), t([-3]));
    assert.is(await m.result(), 3 / 4);
    const s = wg.sparseCategoricalAccuracy();
    s.updateState(t([2, 0], [2], 'int32'), t([[0, 1, 5], [0, 2, 1]]));
    assert.is(await s.result(), 0.5);
    const c = wg.categoricalAccuracy();
    c.updateState(t([[0, 0, 1], [0, 1, 0]]), t([[0, 1, 5], [0, 2, 1]]));
    assert.is(await c.result(), 1);
    c.resetState();
    assert.is(await c.result(), 0);
  });
}

losses('accuracy resolves to the right variant from the shapes, as Keras does', () => {
  const cases: [number[], number[], string][] = [
    [[4], [4, 1], 'binary_accuracy'],
    [[4], [4, 3], 'sparse_categorical_accuracy'],
    [[4, 3], [4, 3], 'categorical_accuracy'],
  ];
  for (const [labels, out, variant] of cases) {
    const a = wg.accuracy();
    a.updateState(wg.zeros(labels), wg.zeros(out));
    assert.is(a.variant, variant);
  }
});

losses("seed 1's mistake (2-way softmax, binary cross-entropy, integer labels) is refused with the fix", () => {
  const labels = wg.tensor([0, 1, 1], [3], { dtype: 'int32' });
  const softmaxOut = wg.softmax(wg.randn([3, 2], { seed: 1 }));
  assert.throws(
    () => wg.binaryCrossentropy().call(labels, softmaxOut, { activation: 'softmax' }),
    (e: Error) => e instanceof wg.LossMismatchError && /\[3\] hold one class id per example.*\[3,2\].*from a softmax.*sparseCategoricalCrossentropy.*Dense\(1, sigmoid\)/s.test(e.message),
  );
  // Even without knowing the activation, the shapes alone give it away.
  assert.throws(() => wg.binaryCrossentropy().call(labels, softmaxOut), /sparseCategoricalCrossentropy/);
});

losses('one-hot labels to a sparse loss, integer labels to a categorical loss', () => {
  const logits = wg.randn([3, 4], { seed: 2 });
  assert.throws(() => wg.sparseCategoricalCrossentropy({ fromLogits: true }).call(wg.zeros([3, 4]), logits), /look one-hot.*Use categoricalCrossentropy/);
  assert.throws(() => wg.categoricalCrossentropy({ fromLogits: true }).call(wg.zeros([3]), logits), /one class id per example.*sparseCategoricalCrossentropy/);
  assert.throws(() => wg.sparseCategoricalCrossentropy({ fromLogits: true }).call(wg.zeros([3]), wg.zeros([3, 1])), /for one output unit use binaryCrossentropy/);
  assert.throws(
    () => wg.sparseCategoricalCrossentropy({ fromLogits: true }).call(wg.tensor([0, 4, 1], [3], { dtype: 'int32' }), logits),
    /label 4 at position 1 is not a class id in 0\.\.3/,
  );
});

losses('logits fed to a loss that expects probabilities, and the reverse, when the output layer shows it', () => {
  const y = wg.tensor([1, 0], [2], { dtype: 'int32' });
  const out = wg.randn([2, 3], { seed: 3 });
  assert.throws(() => wg.sparseCategoricalCrossentropy().call(y, out, { activation: 'linear' }), /outputs logits.*fromLogits: true/);
  assert.throws(() => wg.sparseCategoricalCrossentropy({ fromLogits: true }).call(y, out, { activation: 'softmax' }), /already applies 'softmax'/);
  assert.throws(() => wg.binaryCrossentropy().call(wg.ones([2, 1]), wg.zeros([2, 1]), { activation: 'linear' }), /activation 'sigmoid'/);
});

losses('names resolve as in Keras, and unknown names list the known ones', () => {
  assert.instance(wg.getLoss('sparse_categorical_crossentropy'), wg.losses.SparseCategoricalCrossentropy);
  assert.instance(wg.getMetric('accuracy'), wg.Accuracy);
  assert.throws(() => wg.getLoss('hinge'), /Unknown loss 'hinge'; use one of binary_crossentropy/);
});

losses.run();
