import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as wg from '../src/node.js';
import { exportFashionMnist } from '../examples/corpora/fashion-mnist.js';
import { assertClose, gpu } from './helpers.js';

const root = `out/test/fit-${process.pid}`;

/** Separable synthetic data in memory: class = which half of the features carries the signal. */
function arrayData(n: number, seed: number, batchSize = 16): wg.ArrayData {
  const rng = new wg.Rng(seed);
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 2;
    for (let f = 0; f < 8; f++) x.push(rng.normal() * 0.5 + ((f < 4) === (c === 0) ? 1 : 0));
    y.push(c);
  }
  return { x: wg.tensor(x, [n, 8]), y: wg.tensor(y, [n], { dtype: 'int32' }), batchSize, shuffle: true, seed };
}

const smallModel = () =>
  new wg.Model({ name: 'small', inputShape: [8], layers: [new wg.Dense(16, { activation: 'relu' }), new wg.Dropout(0.2), new wg.Dense(2, { activation: 'softmax' })] });

const fit = suite('compile / fit / evaluate / predict');
fit.before(async () => {
  await gpu();
  rmSync(root, { recursive: true, force: true });
});

fit('fit on a tiny image folder through the frozen backbone: loss falls, History has every key per epoch', async () => {
  const backbone = await wg.MobileNetV2.load();
  await exportFashionMnist(join(root, 'images'), { split: 'test', perClass: 6, seed: 1 });
  const opts = { imageSize: [224, 224] as [number, number], batchSize: 4, seed: 7, classNames: ['Sandal', 'Trouser'], interpolation: backbone.interpolation };
  const [train, val] = wg.imageDatasetFromDirectory(join(root, 'images'), { ...opts, validationSplit: 0.25, subset: 'both' });
  wg.manualSeed(0);
  const model = new wg.Model({
    input: new wg.FrozenBackbone(backbone),
    // A narrow head keeps this test quick; the seed-1 head itself is the example's.
    layers: [
      new wg.Reshape([49, 1280]),
      new wg.Dense(64, { activation: 'relu' }),
      new wg.MultiHeadSelfAttention(64, 2),
      new wg.GlobalAveragePooling1D(),
      new wg.Dense(2, { activation: 'softmax' }),
    ],
  });
  model.compile({ optimizer: (p) => new wg.Adam(p, { learningRate: 0.003 }), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  const history = await model.fit(train, { epochs: 4, validationData: val, verbose: 0 });
  assert.equal(Object.keys(history.history).sort(), ['accuracy', 'loss', 'val_accuracy', 'val_loss']);
  for (const v of Object.values(history.history)) assert.is(v.length, 4);
  assert.equal(history.epoch, [0, 1, 2, 3]);
  const losses = history.history.loss;
  assert.ok(losses[3] < losses[0], `loss went down: ${losses.map((l) => l.toFixed(3))}`);
  const evaluated = await model.evaluate(val);
  assert.ok(evaluated.accuracy >= 0 && Number.isFinite(evaluated.loss));
  let predicted = 0;
  for await (const { output } of model.predictBatches(val)) {
    assert.equal(output.shape.slice(1), [2]);
    predicted += output.shape[0];
  }
  assert.is(predicted, val.samples.length);
  // predict(dataset) is every batch's output in one tensor; predict(pixels) runs the backbone on them first.
  const all = await model.predict(val);
  assert.equal(all.shape, [val.samples.length, 2]);
  const pixels = await val.loadBatch(val.sampleBatches(0).flat());
  const fromPixels = await model.predict(wg.tensor(pixels!.pixels, pixels!.shape), { batchSize: 3 });
  const byBatches: number[] = [];
  for await (const { output } of model.predictBatches(val)) byBatches.push(...(await output.data()));
  assertClose(await fromPixels.data(), byBatches, { rtol: 1e-4, atol: 1e-5 }, 'predict(pixels)');
  await model.predict(wg.zeros([2, 100, 100, 3])).then(
    () => assert.unreachable(),
    (e: Error) => assert.match(e.message, /backbone takes pixels \[N, 224, 224, 3\].*got \[2, 100, 100, 3\].*resizeBilinear/),
  );
});

fit('predict(tensor) returns one tensor of outputs in batches; predict(texts) runs the TextVectorization first', async () => {
  const model = new wg.Model({ inputShape: [3], layers: [new wg.Dense(2)] });
  model.compile({ optimizer: 'sgd', loss: 'mse' });
  const x = wg.randn([10, 3], { seed: 4 });
  const out = await model.predict(x, { batchSize: 4 });
  assert.equal(out.shape, [10, 2]);
  const [w, b] = model.parameters();
  assertClose(await out.data(), await wg.add(wg.matmul(x, w), b).data(), { rtol: 1e-5, atol: 1e-6 });
  await model.predict(wg.scalar(1, x)).then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /needs a batch axis/));
  await model.predict(x, { batchSize: 0 }).then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /batchSize must be a positive whole number/));

  const vectorizer = new wg.TextVectorization({ maxTokens: 20, outputSequenceLength: 4 });
  vectorizer.adapt(['good film', 'bad film', 'good good plot']);
  const text = new wg.Model({ input: vectorizer, layers: [new wg.Embedding(20, 4), new wg.GlobalAveragePooling1D(), new wg.Dense(1)] });
  text.compile({ optimizer: 'sgd', loss: 'mse' });
  assert.equal((await text.predict(['good film', 'a plot', 'bad'])).shape, [3, 1]);
  await text.predict(x).then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /TextVectorization input stage takes texts; pass a string\[\]/));
});

fit("fit accepts Keras names, refuses seed 1's loss mistake before training", async () => {
  const data = arrayData(32, 1);
  const model = smallModel();
  model.compile({ optimizer: 'adam', loss: 'binary_crossentropy', metrics: ['accuracy'] });
  await model.fit(data, { epochs: 1, verbose: 0 }).then(
    () => assert.unreachable('should refuse'),
    (e: Error) => assert.match(e.message, /binary_crossentropy: labels \[16\] hold one class id per example.*sparseCategoricalCrossentropy/s),
  );
});

fit('with a seed, two runs give identical histories (weights, shuffles and dropout masks)', async () => {
  const run = async () => {
    const model = smallModel();
    model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    return (await model.fit(arrayData(64, 3), { epochs: 3, validationData: arrayData(32, 4), seed: 11, verbose: 0 })).history;
  };
  assert.equal(await run(), await run());
});

fit('EarlyStopping stops after `patience` epochs without improvement and restores the best weights', async () => {
  const model = smallModel();
  model.build();
  const es = new wg.EarlyStopping({ monitor: 'val_loss', patience: 2, restoreBestWeights: true });
  es.onTrainBegin();
  const losses = [1.0, 0.8, 0.9, 0.85, 0.7];
  let stoppedAt = -1;
  for (let e = 0; e < losses.length && !model.stopTraining; e++) {
    for (const p of model.parameters()) wg.writeHost(p, new Array(p.size).fill(e));
    await es.onEpochEnd(e, { val_loss: losses[e] }, model);
    stoppedAt = e;
  }
  assert.is(stoppedAt, 3, 'epochs 2 and 3 did not improve on epoch 1');
  es.onTrainEnd(model);
  assert.ok((await model.parameters()[0].data()).every((v) => v === 1), 'weights of epoch 1 are back');

  // In fit: nothing beats an impossible minDelta, so training stops after patience + 1 epochs.
  const fitted = smallModel();
  fitted.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy' });
  const h = await fitted.fit(arrayData(32, 2), { epochs: 10, callbacks: [new wg.EarlyStopping({ monitor: 'loss', patience: 1, minDelta: 100 })], verbose: 0 });
  assert.is(h.epoch.length, 2);
  assert.is(h.stopped, 'early-stopping');
});

fit('ReduceLROnPlateau drops the rate after `patience` flat epochs, waits out the cooldown, and stops at minLr', async () => {
  const model = smallModel();
  model.compile({ optimizer: (p) => new wg.SGD(p, { learningRate: 1 }), loss: 'sparse_categorical_crossentropy' });
  // Keras's sequence for a flat val_loss, patience 2, factor 0.5, cooldown 1, min_lr 0.2, worked by hand.
  const h = await model.fit(arrayData(16, 3), { epochs: 1, verbose: 0 });
  assert.is(h.epoch.length, 1);
  const plateau = new wg.ReduceLROnPlateau({ patience: 2, factor: 0.5, cooldown: 1, minLr: 0.2 });
  plateau.onTrainBegin(model);
  for (let e = 0; e < 9; e++) plateau.onEpochEnd(e, { val_loss: 1 }, model);
  assert.equal(plateau.rates, [1, 1, 0.5, 0.5, 0.25, 0.25, 0.2, 0.2, 0.2]);
  // An improvement resets the count.
  const again = new wg.ReduceLROnPlateau({ patience: 2, factor: 0.5 });
  model.optimizer!.learningRate = 1;
  again.onTrainBegin(model);
  [1, 1, 0.5, 0.6, 0.7].forEach((v, e) => again.onEpochEnd(e, { val_loss: v }, model));
  assert.equal(again.rates, [1, 1, 1, 1, 0.5]);

  // In fit, monitoring training loss against an impossible minDelta: the rate halves every epoch after the first.
  const fitted = smallModel();
  fitted.compile({ optimizer: (p) => new wg.SGD(p, { learningRate: 0.1 }), loss: 'sparse_categorical_crossentropy' });
  const cb = new wg.ReduceLROnPlateau({ monitor: 'loss', patience: 1, factor: 0.5, minDelta: 100 });
  await fitted.fit(arrayData(32, 2), { epochs: 3, callbacks: [cb], verbose: 0 });
  assert.equal(cb.rates, [0.1, 0.05, 0.025]);

  assert.throws(() => new wg.ReduceLROnPlateau({ factor: 1 }), /factor must be in \(0, 1\)/);
  const scheduled = smallModel();
  scheduled.compile({ optimizer: (p) => new wg.Adam(p, { learningRate: new wg.CosineDecay(0.01, { decaySteps: 10 }) }), loss: 'sparse_categorical_crossentropy' });
  let refused = '';
  try {
    await scheduled.fit(arrayData(16, 3), { epochs: 1, verbose: 0, callbacks: [new wg.ReduceLROnPlateau()] });
  } catch (e) {
    refused = (e as Error).message;
  }
  assert.match(refused, /follows a learning-rate schedule/);
});

fit('softmaxProbe learns separable features and leaves 2-D features it was given alive', async () => {
  const data = arrayData(64, 5);
  const labels = Array.from(await data.y!.data());
  const first = await wg.softmaxProbe({ features: data.x, labels }, { features: data.x, labels }, 2);
  assert.ok(first.testAccuracy > 0.9, `accuracy ${first.testAccuracy}`);
  // Reused for a second probe, as when one set of pooled features is scored against two splits.
  const second = await wg.softmaxProbe({ features: data.x, labels }, { features: data.x, labels }, 2);
  assert.is(second.testAccuracy, first.testAccuracy);
  data.x.dispose();
  data.y!.dispose();
});

fit('ModelCheckpoint saves best-only as complete safetensors files; the CSV logger keeps one row per epoch', async () => {
  const model = smallModel();
  model.build();
  const ckpt = new wg.ModelCheckpoint(join(root, 'ckpt/best-{epoch}.safetensors'), { monitor: 'val_loss', saveBestOnly: true });
  for (const [e, v] of [0.9, 0.7, 0.8, 0.6].entries()) await ckpt.onEpochEnd(e, { val_loss: v }, model);
  assert.equal(ckpt.saved.map((p) => p.split('/').pop()), ['best-1.safetensors', 'best-2.safetensors', 'best-4.safetensors']);
  assert.ok(readdirSync(join(root, 'ckpt')).every((f) => !f.includes('partial')), 'no half-written files');
  const fresh = smallModel();
  await fresh.loadWeights(ckpt.saved[2]);
  const csv = new wg.CSVLogger(join(root, 'log.csv'));
  csv.onTrainBegin();
  await csv.onEpochEnd(0, { loss: 0.5, accuracy: 0.7 });
  await csv.onEpochEnd(1, { loss: 0.4, accuracy: 0.8 });
  assert.is(readFileSync(join(root, 'log.csv'), 'utf8'), 'epoch,loss,accuracy\n0,0.5,0.7\n1,0.4,0.8\n');
});

fit('Ctrl-C during fit stops after the current step and keeps the history so far', async () => {
  const model = smallModel();
  model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy' });
  const interrupt: wg.Callback = { onEpochEnd: (e) => void (e === 1 && process.emit('SIGINT')) };
  const h = await model.fit(arrayData(32, 5), { epochs: 10, callbacks: [interrupt], verbose: 0 });
  assert.is(h.stopped, 'interrupted');
  assert.is(h.epoch.length, 2);
  assert.is(process.listenerCount('SIGINT'), 0, 'the handler is removed after fit');
});

fit('summary(): seed-1 head counts checked by hand, frozen backbone non-trainable', async () => {
  const backbone = await wg.MobileNetV2.load();
  const model = new wg.Model({
    name: 'seed1',
    input: new wg.FrozenBackbone(backbone),
    layers: [new wg.Reshape([49, 1280]), new wg.MultiHeadSelfAttention(1280, 8), new wg.GlobalAveragePooling1D(), new wg.Dense(256, { activation: 'relu' }), new wg.Dropout(0.5), new wg.Dense(2, { activation: 'softmax' })],
  });
  const text = model.summary({ print: false });
  // MHSA: 4 dense layers of 1280x1280 weights + 1280 biases; Dense(256): 1280*256 + 256; Dense(2): 256*2 + 2.
  const mhsa = 4 * (1280 * 1280 + 1280);
  assert.is(mhsa, 6_558_720);
  assert.is(1280 * 256 + 256, 327_936);
  assert.match(text, /multi_head_self_attention\S* \(MultiHeadSelfAttention\) *│ \(None, 49, 1280\) *│ 6,558,720 │/);
  assert.match(text, /\(Dense\) *│ \(None, 256\) *│ +327,936 │/);
  assert.match(text, /mobilenet_v2 \(MobileNetV2, frozen\) *│ \(None, 7, 7, 1280\) *│ 2,206,816 │/);
  const trainable = mhsa + 327_936 + 514;
  assert.match(text, new RegExp(`Total params: ${(trainable + 2_206_816).toLocaleString('en-US')} `));
  assert.match(text, new RegExp(`Trainable params: ${trainable.toLocaleString('en-US')} `));
  assert.match(text, /Non-trainable params: 2,206,816 /);
});

fit('plotHistory and plotAttention write valid PNGs of the stated size with the curves drawn', async () => {
  const path = join(root, 'history.png');
  wg.plotHistory({ loss: [1, 0.6, 0.4], accuracy: [0.5, 0.7, 0.9], val_loss: [0.9, 0.7, 0.6], val_accuracy: [0.6, 0.7, 0.8] }, path, { width: 900, height: 400 });
  const { data, info } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
  assert.equal([info.width, info.height], [900, 400]);
  const count = (r: number, g: number, b: number) => {
    let n = 0;
    for (let i = 0; i < data.length; i += info.channels) if (Math.abs(data[i] - r) < 8 && Math.abs(data[i + 1] - g) < 8 && Math.abs(data[i + 2] - b) < 8) n++;
    return n;
  };
  assert.ok(count(31, 119, 180) > 500, 'train curves (blue)');
  assert.ok(count(255, 127, 14) > 500, 'validation curves (orange)');
  // The two panels differ: the accuracy curve rises where the loss curve falls.
  const blueRows = (x0: number, x1: number) => {
    const rows: number[] = [];
    for (let y = 0; y < info.height; y++) for (let x = x0; x < x1; x++) {
      const i = (y * info.width + x) * info.channels;
      if (Math.abs(data[i] - 31) < 8 && Math.abs(data[i + 1] - 119) < 8 && Math.abs(data[i + 2] - 180) < 8) rows.push(y);
    }
    return rows;
  };
  assert.ok(blueRows(150, 220).length > 0 && blueRows(600, 670).length > 0);

  const scores = new Float32Array(2 * 49 * 49).fill(1 / 49);
  scores[30] = 5;
  const image = { pixels: new Float32Array(28 * 28).map((_, i) => (i % 28) * 9), width: 28, height: 28, channels: 1 };
  wg.plotAttention(image, scores, join(root, 'attention.png'), { heads: 2 });
  const att = await sharp(join(root, 'attention.png')).metadata();
  assert.ok(att.width! > 500 && att.height! > 250);
  assert.throws(() => wg.plotAttention(image, scores.subarray(1), join(root, 'x.png'), { heads: 2 }), /do not make 2 heads of \[49, 49\]/);
});

fit('the example scripts run end to end with tiny settings (so the README commands cannot rot)', () => {
  const run = (script: string, args: string[]) =>
    execFileSync(process.execPath, ['--import', 'tsx', script, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000 });
  const image = run('examples/image-classification.ts', ['--classes', '2', '--per-class', '4', '--test-per-class', '2', '--validation-split', '0.25', '--epochs', '1', '--batch-size', '4', '--lr-schedule', 'cosine', '--patience', '1', '--out', join(root, 'ex1')]);
  assert.match(image, /Total params: 9,093,986/);
  assert.match(image, /test \(official Fashion-MNIST test file\): loss/);
  assert.match(image, /softmax-regression probe/);
  for (const f of ['history.png', 'history.csv', 'attention-1.png']) assert.ok(existsSync(join(root, 'ex1', f)), f);
  assert.throws(() => run('examples/image-classification.ts', ['--lr-schedule', 'linear']), /--lr-schedule takes one of constant, cosine, got 'linear'/);
  // A saved head evaluates again without training: the same test loss as the run that trained it.
  const again = run('examples/image-classification.ts', ['--classes', '2', '--per-class', '4', '--test-per-class', '2', '--validation-split', '0.25', '--epochs', '0', '--batch-size', '4', '--weights', join(root, 'ex1', 'head.safetensors'), '--out', join(root, 'ex1')]);
  assert.match(again, /loaded the head from/);
  const testLine = (out: string) => /test \(official Fashion-MNIST test file\): loss ([\d.]+)/.exec(out)?.[1];
  assert.is(testLine(again), testLine(image));
  const text = run('examples/text-classification.ts', ['--limit-per-class', '12', '--epochs', '1', '--sequence-length', '16', '--out', join(root, 'ex2')]);
  assert.match(text, /test: loss .* accuracy/);
  assert.match(text, /bag-of-words logistic regression/);
  assert.ok(existsSync(join(root, 'ex2', 'history.png')));
});

fit('fit({ seed }) repeats exactly whether or not summary() built the weights first; loaded weights are kept', async () => {
  const x = wg.randn([16, 6, 8], { seed: 5 });
  const y = wg.tensor(Array.from({ length: 16 }, (_, i) => i % 3), [16], { dtype: 'int32' });
  const make = () => {
    const model = new wg.Model({
      inputShape: [6, 8],
      layers: [new wg.MultiHeadAttention(2, 4), new wg.GlobalAveragePooling1D(), new wg.Dense(3, { activation: 'softmax' })],
    });
    model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy' });
    return model;
  };
  const weights = async (m: wg.Model) => Promise.all(m.parameters().map(async (p) => Array.from(await p.data())));
  const plain = make();
  await plain.fit({ x, y, batchSize: 8 }, { epochs: 2, seed: 7, verbose: 0 });
  const summarised = make();
  summarised.summary({ print: false });
  wg.manualSeed(12345); // whatever the global stream did in between
  await summarised.fit({ x, y, batchSize: 8 }, { epochs: 2, seed: 7, verbose: 0 });
  assert.equal(await weights(summarised), await weights(plain));
  assert.is(summarised.parameters().length, plain.parameters().length);

  const other = make();
  other.summary({ print: false });
  await other.fit({ x, y, batchSize: 8 }, { epochs: 2, seed: 8, verbose: 0 });
  assert.not.equal(await weights(other), await weights(plain), 'another seed, other weights');

  // Weights loaded after summary() are not redrawn by the seed.
  const path = `${root}/seeded.safetensors`;
  await plain.saveWeights(path);
  const loaded = make();
  loaded.summary({ print: false });
  await loaded.loadWeights(path);
  const before = await weights(loaded);
  assert.equal(before, await weights(plain));
  await loaded.fit({ x, y, batchSize: 8 }, { epochs: 0, seed: 9, verbose: 0 });
  assert.equal(await weights(loaded), before);
});

fit('the examples read train/, validation/ and test/ as splits, refuse split names as classes, and train 3 text classes', () => {
  const run = (script: string, args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { encoding: 'utf8', timeout: 240_000 });
  const tree = join(root, 'splits');
  for (const [split, perClass, from] of [['train', 2, 'train'], ['validation', 1, 'train'], ['test', 1, 'test']] as const) {
    execFileSync(process.execPath, ['--import', 'tsx', '-e', `import { exportFashionMnist } from './examples/corpora/fashion-mnist.ts'; await exportFashionMnist(${JSON.stringify(join(tree, split))}, { split: '${from}', perClass: ${perClass}, seed: ${perClass} });`]);
  }
  const image = run('examples/image-classification.ts', ['--data', tree, '--epochs', '1', '--batch-size', '5', '--out', join(root, 'ex3')]);
  assert.is(image.status, 0, image.stderr);
  assert.match(image.stdout, new RegExp(`test \\(${join(tree, 'test').replace(/\//g, '\\/')}\\): loss [\\d.]+, accuracy`));
  assert.match(image.stdout, /dense_1 \(Dense\)\s+│ \(None, 10\)/, 'ten classes, not three splits');
  // A root whose class folders are split names, without train/: refused, with the layout to use.
  rmSync(join(tree, 'train'), { recursive: true });
  const refused = run('examples/image-classification.ts', ['--data', tree, '--epochs', '1', '--out', join(root, 'ex3')]);
  assert.is(refused.status, 2);
  assert.match(refused.stderr, /class folders named test, validation, which look like splits, not classes\. Put the training images in .*train\/<class>\//);
  assert.not.match(refused.stderr, /\n\s+at /);
  const missing = run('examples/image-classification.ts', ['--test', join(root, 'nowhere')]);
  assert.is(missing.status, 2);
  assert.match(missing.stderr, /--test .*nowhere does not exist/);

  // Three classes of text: a softmax head, and the baseline is softmax regression.
  const texts = join(root, 'three');
  const words = { ant: 'ant beetle moth wasp', cod: 'cod eel trout carp', elm: 'elm oak ash birch' };
  for (const split of ['train', 'test']) {
    for (const [name, vocab] of Object.entries(words)) {
      mkdirSync(join(texts, split, name), { recursive: true });
      for (let i = 0; i < 8; i++) writeFileSync(join(texts, split, name, `${i}.txt`), `${vocab.split(' ').slice(i % 4).join(' ')} the and a ${i}`);
    }
  }
  const text = run('examples/text-classification.ts', ['--data', texts, '--epochs', '3', '--sequence-length', '8', '--embedding-dim', '8', '--heads', '2', '--batch-size', '8', '--out', join(root, 'ex4')]);
  assert.is(text.status, 0, text.stderr);
  assert.match(text.stdout, /classes ant, cod, elm/);
  assert.match(text.stdout, /dense \(Dense\)\s+│ \(None, 3\)/);
  assert.match(text.stdout, /test: loss [\d.]+, accuracy [\d.]+%/);
  assert.match(text.stdout, /bag-of-words softmax regression on the same split: [\d.]+%/);
});

fit.run();