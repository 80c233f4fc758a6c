// NaN and ±Inf through every op family on WebGPU, against the float64 reference (which follows JavaScript's Math,
// that is IEEE 754: NaN in, NaN out; max and min are NaN when either operand is). WGSL lets an implementation assume
// no NaN occurs, and llvmpipe's max/min returned the other operand: relu(NaN) was 0, max([1, NaN, 3]) was 3, and a
// dense layer's ReLU epilogue turned a NaN row into zeros, so one bad input trained silently. The kernels now test
// the bits (kernels/include/nan.wgsl). Non-finite values sit in several lanes of a vec4 and in both halves of a
// chunked reduction, since the kernels handle those apart.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as wg from '../src/node.js';
import type { Tensor } from '../src/node.js';
import { assertClose, gpu } from './helpers.js';

const nf = suite('non-finite values: NaN and ±Inf as the float64 reference has them');
nf.before(async () => {
  await gpu();
});

/** n values in [-2, 2] with NaN, +Inf and -Inf at the given positions. */
function values(n: number, at: { nan?: number[]; inf?: number[]; ninf?: number[] }): number[] {
  const v = Array.from({ length: n }, (_, i) => Math.round((Math.sin(i * 1.7 + 0.3) * 2) * 64) / 64);
  for (const i of at.nan ?? []) v[i] = NaN;
  for (const i of at.inf ?? []) v[i] = Infinity;
  for (const i of at.ninf ?? []) v[i] = -Infinity;
  return v;
}

async function same(name: string, inputs: { values: number[]; shape: number[]; dtype?: 'float32' | 'int32' }[], fn: (...xs: Tensor[]) => Tensor, rtol = 1e-4): Promise<void> {
  const run = async (backend: 'cpu' | 'webgpu') => {
    const xs = inputs.map((i) => wg.tensor(i.values, i.shape, { backend, dtype: i.dtype }));
    const out = fn(...xs);
    const data = Array.from(await out.data());
    for (const t of [...xs, out]) t.dispose();
    return data;
  };
  assertClose(await run('webgpu'), await run('cpu'), { rtol, atol: 1e-5 }, name);
}

const X7 = values(7, { nan: [1], inf: [4], ninf: [6] });
const X33 = values(33, { nan: [0, 30], inf: [5], ninf: [17] });

nf('unary ops propagate NaN and map ±Inf as Math does', async () => {
  const ops: [string, (x: Tensor) => Tensor][] = [
    ['neg', wg.neg], ['exp', wg.exp], ['log', wg.log], ['sqrt', wg.sqrt], ['abs', wg.abs], ['relu', wg.relu], ['gelu', wg.gelu],
    ['tanh', wg.tanh], ['sigmoid', wg.sigmoid], ['square', wg.square], ['reciprocal', wg.reciprocal], ['sign', wg.sign],
    ['pow 2', (x) => wg.pow(x, 2)], ['pow 3', (x) => wg.pow(x, 3)], ['pow 2.5', (x) => wg.pow(x, 2.5)], ['pow 0', (x) => wg.pow(x, 0)],
  ];
  for (const [name, fn] of ops) for (const x of [X7, X33]) await same(`${name} [${x.length}]`, [{ values: x, shape: [x.length] }], fn);
});

nf('binary ops: maximum and minimum are NaN when either side is, comparisons with NaN are false (not equal: true)', async () => {
  const ops: [string, (a: Tensor, b: Tensor) => Tensor][] = [
    ['add', wg.add], ['sub', wg.sub], ['mul', wg.mul], ['div', wg.div], ['maximum', wg.maximum], ['minimum', wg.minimum],
    ['equal', wg.equal], ['notEqual', wg.notEqual], ['greater', wg.greater], ['greaterEqual', wg.greaterEqual], ['less', wg.less], ['lessEqual', wg.lessEqual],
  ];
  const b7 = values(7, { nan: [2], inf: [1, 4], ninf: [6] });
  for (const [name, fn] of ops) {
    await same(`${name} same shape`, [{ values: X7, shape: [7] }, { values: b7, shape: [7] }], fn);
    await same(`${name} broadcast`, [{ values: X33, shape: [3, 11] }, { values: [NaN, 0, Infinity], shape: [3, 1] }], fn);
    await same(`${name} with a scalar`, [{ values: X33, shape: [33] }], (a) => fn(a, wg.scalar(0, a)));
  }
  await same('relu as maximum(x, 0) from the left', [{ values: X7, shape: [7] }], (a) => wg.maximum(0, a));
  await same('where picks NaN through', [{ values: X7, shape: [7] }], (a) => wg.where(wg.greater(a, 0), a, -1));
});

nf('reductions: a NaN anywhere makes sum, mean, max, min and logsumexp NaN; Inf sums to Inf', async () => {
  const long = values(1025, { nan: [700], inf: [3] });   // chunked: two passes over partial results
  const infOnly = values(1025, { inf: [1000] });
  for (const [name, fn] of [['sum', wg.sum], ['mean', wg.mean], ['max', wg.max], ['min', wg.min]] as [string, (x: Tensor, axes?: number | number[]) => Tensor][]) {
    await same(`${name} all [1025] with NaN`, [{ values: long, shape: [1025] }], (x) => fn(x));
    await same(`${name} all [1025] with Inf`, [{ values: infOnly, shape: [1025] }], (x) => fn(x));
    await same(`${name} rows [3, 11]`, [{ values: X33, shape: [3, 11] }], (x) => fn(x, 1));
    await same(`${name} columns [3, 11]`, [{ values: X33, shape: [3, 11] }], (x) => fn(x, 0));
  }
  await same('logsumexp rows', [{ values: X33, shape: [3, 11] }], (x) => wg.logsumexp(x, 1));
  await same('argmax rows', [{ values: X33, shape: [3, 11] }], (x) => wg.argmax(x, 1));
});

nf('softmax and logSoftmax: a NaN in a row makes that row NaN, short rows and long rows alike', async () => {
  const long = values(3 * 100, { nan: [150], inf: [260] });
  for (const fn of [wg.softmax, wg.logSoftmax]) {
    await same(`${fn.name} short rows`, [{ values: X33, shape: [3, 11] }], (x) => fn(x));
    await same(`${fn.name} long rows`, [{ values: long, shape: [3, 100] }], (x) => fn(x));
  }
});

nf('matmul and dense with a ReLU epilogue keep NaN, on every matmul variant', async () => {
  const a = values(5 * 9, { nan: [3], inf: [20] });
  const w = values(9 * 6, { ninf: [7] });
  try {
    for (const variant of wg.MATMUL_VARIANTS) {
      wg.setMatmulVariant(variant);
      await same(`matmul (${variant})`, [{ values: a, shape: [5, 9] }, { values: w, shape: [9, 6] }], (x, k) => wg.matmul(x, k));
      await same(`dense relu (${variant})`, [{ values: a, shape: [5, 9] }, { values: w, shape: [9, 6] }, { values: [0, 1, NaN, -1, 2, 0], shape: [6] }], (x, k, b) => wg.dense(x, k, b, 'relu'));
    }
  } finally {
    wg.setMatmulVariant(null);
  }
});

nf('attention: a NaN query row gives NaN outputs for that row, with and without the weights returned', async () => {
  const q = values(2 * 5 * 8, { nan: [9] });
  const k = values(2 * 5 * 8, {});
  const v = values(2 * 5 * 8, {});
  const inputs = [{ values: q, shape: [1, 2, 5, 8] }, { values: k, shape: [1, 2, 5, 8] }, { values: v, shape: [1, 2, 5, 8] }];
  await same('attention', inputs, (a, b, c) => wg.attention(a, b, c));
  await same('attentionWithWeights', inputs, (a, b, c) => wg.attentionWithWeights(a, b, c).output);
});

nf('losses: NaN logits give a NaN loss, never a clipped finite one', async () => {
  const logits = values(4 * 3, { nan: [4] });
  const labels = { values: [0, 2, 1, 0], shape: [4], dtype: 'int32' as const };
  await same('sparse categorical cross-entropy from logits', [{ values: logits, shape: [4, 3] }, labels], (x, y) => wg.sparseCategoricalCrossentropy({ fromLogits: true }).call(y, x));
  const probs = [0.2, 0.5, 0.3, NaN, 0.5, 0.5, 0.1, 0.1, 0.8, 1, 0, 0];
  await same('sparse categorical cross-entropy from probabilities', [{ values: probs, shape: [4, 3] }, labels], (x, y) => wg.sparseCategoricalCrossentropy().call(y, x));
  const got = await wg.sparseCategoricalCrossentropy().call(wg.tensor([0, 1, 0], [3], { dtype: 'int32' }), wg.tensor([NaN, 0.5, 1, 0, 0.5, 0.5], [3, 2])).item();
  assert.ok(Number.isNaN(got), `the loss is ${got}`);
});

nf('fit() stops on a NaN loss before that step updates the weights, naming the epoch and step', async () => {
  const x = wg.tensor(Array.from({ length: 64 * 4 }, (_, i) => (i === 4 * 40 + 2 ? NaN : Math.sin(i))), [64, 4]);
  const y = wg.tensor(Array.from({ length: 64 }, (_, i) => i % 2), [64], { dtype: 'int32' });
  const model = new wg.Model({ inputShape: [4], layers: [new wg.Dense(2, { activation: 'softmax' })] });
  model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy' });
  model.build();
  // Row 40 is in batch 3 of 4 (batch size 16, no shuffle): steps 1 and 2 train, step 3 must not.
  const before = await Promise.all(model.parameters().map((p) => p.data()));
  let after: Float32Array[] = [];
  const err = await model.fit({ x, y, batchSize: 16 }, { epochs: 2, verbose: 0 }).then(
    () => assert.unreachable('fit() trained on a NaN loss'),
    async (e: Error) => {
      after = (await Promise.all(model.parameters().map((p) => p.data()))) as Float32Array[];
      return e;
    },
  );
  assert.instance(err, wg.NonFiniteLossError);
  const e = err as InstanceType<typeof wg.NonFiniteLossError>;
  assert.match(e.message, /the loss is NaN at epoch 1, step 3 of 4.*before that step changed the weights.*Check the inputs and labels for NaN.*nonFinite: 'continue'/);
  assert.is(e.epoch, 0);
  assert.is(e.step, 3);
  assert.ok(after.every((w) => w.every(Number.isFinite)), 'no weight became NaN');
  assert.ok(after.some((w, i) => w.some((v, j) => v !== before[i][j])), 'steps 1 and 2 did train');
  // 'continue' trains on, as Keras does without TerminateOnNaN, and the History records the NaN.
  const history = await model.fit({ x, y, batchSize: 16 }, { epochs: 1, verbose: 0, nonFinite: 'continue' });
  assert.ok(Number.isNaN(history.history.loss[0]));
  await model.fit({ x, y }, { verbose: 0, nonFinite: 'sometimes' as 'raise' }).then(
    () => assert.unreachable(),
    (e2: Error) => assert.match(e2.message, /nonFinite is 'raise' or 'continue', got 'sometimes'/),
  );
});

nf('EarlyStopping counts a NaN epoch against patience, and ModelCheckpoint never saves one as the best', async () => {
  const fake = { stopTraining: false, parameters: () => [], saved: [] as string[], async saveWeights(path: string) { this.saved.push(path); } };
  const model = fake as unknown as wg.Model;
  const early = new wg.EarlyStopping({ monitor: 'val_loss', patience: 2 });
  early.onTrainBegin();
  await early.onEpochEnd(0, { val_loss: NaN }, model);
  assert.is(fake.stopTraining, false);
  await early.onEpochEnd(1, { val_loss: NaN }, model);
  assert.is(fake.stopTraining, true, 'two NaN epochs exhaust a patience of 2');
  assert.is(early.bestEpoch, -1, 'a NaN epoch is never the best');

  const checkpoint = new wg.ModelCheckpoint('out/test/ckpt-{epoch}.safetensors', { monitor: 'val_loss', saveBestOnly: true });
  for (const [epoch, v] of [[0, NaN], [1, 0.9], [2, NaN], [3, 0.95], [4, 0.5]]) await checkpoint.onEpochEnd(epoch, { val_loss: v }, model);
  assert.equal(checkpoint.saved, ['out/test/ckpt-2.safetensors', 'out/test/ckpt-5.safetensors']);
});

nf.run();
