import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as wg from '../src/node.js';
import { rmSync } from 'node:fs';
import { exportFashionMnist } from '../examples/corpora/fashion-mnist.js';
import { gpu } from './helpers.js';

/**
 * Lets the FinalizationRegistry reclaim tensors that earlier test files dropped without dispose(), so that the global
 * counts below move only with this test's own tensors. npm test runs node with --expose-gc.
 */
async function settle(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  assert.type(gc, 'function', 'run the tests with node --expose-gc (npm test does)');
  for (let i = 0; i < 3; i++) {
    gc!();
    await new Promise((r) => setTimeout(r, 5));
  }
}

const mem = suite('memory: tidy, dispose, pooling');
mem.before(async () => {
  await gpu();
});

mem('tidy frees everything but its result, parameters and leaf gradients', async () => {
  await settle();
  const before = wg.memory();
  const w = wg.randn([4, 3], { seed: 1, requiresGrad: true });
  const out = wg.tidy(() => {
    const x = wg.randn([8, 4], { seed: 2 });
    const loss = wg.mean(wg.square(wg.matmul(x, w)));
    loss.backward();
    return loss;
  });
  assert.ok(!out.isDisposed);
  assert.ok(!w.isDisposed && w.grad && !w.grad.isDisposed);
  assert.is(wg.memory().tensors, before.tensors + 3); // w, w.grad, out
  out.dispose();
  w.grad!.dispose();
  w.dispose();
  assert.is(wg.memory().tensors, before.tensors);
  assert.is(wg.memory().buffers, before.buffers);
});

mem('nested tidy hands results to the outer scope', async () => {
  await settle();
  const before = wg.memory().tensors;
  const kept = wg.tidy(() => {
    const inner = wg.tidy(() => wg.add(wg.ones([3]), 1));
    wg.mul(inner, 2); // garbage of the outer scope
    return inner;
  });
  assert.is(wg.memory().tensors, before + 1);
  kept.dispose();
});

mem('200 steps of forward, backward and SGD inside tidy leave memory flat', async () => {
  let w = wg.randn([16, 8], { seed: 3, requiresGrad: true });
  let b = wg.zeros([8], { requiresGrad: true });
  const x = wg.randn([32, 16], { seed: 4 });
  const target = wg.randn([32, 8], { seed: 5 });
  let marks: wg.MemoryInfo | null = null;
  await settle();
  let firstLoss = 0;
  let lastLoss = 0;
  for (let step = 0; step < 200; step++) {
    const [loss, nw, nb] = wg.tidy(() => {
      const pred = wg.dense(x, w, b, 'relu');
      const l = wg.mean(wg.square(wg.sub(pred, target)));
      l.backward();
      const update = wg.noGrad(() => [wg.sub(w, wg.mul(w.grad!, 0.05)), wg.sub(b, wg.mul(b.grad!, 0.05))]);
      return [l, ...update];
    });
    for (const p of [w, b]) {
      p.grad!.dispose();
      p.dispose();
    }
    w = nw;
    b = nb;
    w.requiresGrad = b.requiresGrad = true;
    w.kept = b.kept = true;
    if (step === 0) firstLoss = await loss.item();
    if (step === 199) lastLoss = await loss.item();
    loss.dispose();
    if (step === 10) {
      await settle();
      marks = wg.memory();
    }
  }
  await settle();
  const end = wg.memory();
  assert.is(end.tensors, marks!.tensors, 'live tensors');
  assert.is(end.buffers, marks!.buffers, 'live buffers');
  assert.is(end.bytes, marks!.bytes, 'live bytes');
  assert.ok(lastLoss < firstLoss, `loss fell (${firstLoss} -> ${lastLoss})`);
  for (const t of [w, b, x, target]) t.dispose();
});

mem('views share storage: disposing one keeps the other readable', async () => {
  await settle();
  const a = wg.tensor([1, 2, 3, 4], [4]);
  const v = wg.reshape(a, [2, 2]);
  const buffers = wg.memory().buffers;
  a.dispose();
  assert.is(wg.memory().buffers, buffers, 'the buffer lives while a view holds it');
  assert.equal(await v.array(), [[1, 2], [3, 4]]);
  const live = wg.memory().buffers;
  v.dispose();
  assert.is(wg.memory().buffers, live - 1);
});

mem('emptyCache frees pooled buffers and matmul textures, keeps live tensors, and later ops still run', async () => {
  await settle();
  const keepMe = wg.tensor([1, 2, 3], [3]);
  const product = () => wg.matmul(wg.rand([70, 130], { seed: 1 }), wg.rand([130, 90], { seed: 2 }));
  const first = wg.tidy(product);
  const before = Array.from(await first.data());
  first.dispose();
  const pooled = wg.memory().pooledBytes;
  assert.ok(pooled > 0, 'the disposed operands went back to the pools');
  const freed = wg.emptyCache();
  assert.ok(freed >= pooled, `freed ${freed} of ${pooled} pooled bytes`);
  assert.is(wg.memory().pooledBytes, 0);
  assert.equal(Array.from(await keepMe.data()), [1, 2, 3]);
  // The same matmul again, on freshly allocated buffers and textures: the same bits.
  const again = wg.tidy(product);
  assert.equal(Array.from(await again.data()), before);
  for (const t of [keepMe, again]) t.dispose();
});

/**
 * Runs `steps` training steps in two halves and asserts that the second half leaves live tensors, buffers and bytes
 * where the first half left them, and that the garbage collector had to free no tensor meanwhile (V8's minor
 * collections finalize short-lived leaks between steps, so the live count alone can look flat over a leak).
 */
async function flatOver(steps: number, train: (steps: number) => Promise<void>): Promise<string> {
  await train(Math.floor(steps / 2));
  await settle();
  const before = wg.memory();
  await train(steps - Math.floor(steps / 2));
  const after = wg.memory();
  // A leaked tensor is either still live or was reclaimed by the collector meanwhile: their sum cannot hide it.
  assert.is(after.tensors + after.collected, before.tensors + before.collected, 'live tensors plus tensors the GC had to free');
  assert.is(after.tensors, before.tensors, 'live tensors');
  assert.is(after.buffers, before.buffers, 'live GPU buffers');
  assert.is(after.bytes, before.bytes, 'live GPU bytes');
  return `${before.tensors} tensors, ${before.bytes} bytes`;
}

mem('1,000 steps of fit on tensors in memory leave memory() flat (float and int32 inputs)', async () => {
  const x = wg.randn([64, 8], { seed: 3 });
  const ids = wg.tensor(Array.from({ length: 64 * 4 }, (_, i) => (i * 7) % 10), [64, 4], { dtype: 'int32' });
  const y = wg.tensor(Array.from({ length: 64 }, (_, i) => i % 2), [64], { dtype: 'int32' });
  const dense = new wg.Model({ inputShape: [8], layers: [new wg.Dense(8, { activation: 'relu' }), new wg.Dense(2, { activation: 'softmax' })] });
  dense.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  const embed = new wg.Model({ inputShape: [4], layers: [new wg.Embedding(10, 4), new wg.GlobalAveragePooling1D(), new wg.Dense(2, { activation: 'softmax' })] });
  embed.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy' });
  // 8 steps an epoch: 63 + 62 epochs is 1,000 steps, with shuffling, validation and evaluate in between.
  await flatOver(1000, async (steps) => {
    await dense.fit({ x, y, batchSize: 8, shuffle: true, seed: 1 }, { epochs: Math.ceil(steps / 16), verbose: 0, validationData: { x, y } });
    await embed.fit({ x: ids, y, batchSize: 8 }, { epochs: Math.floor(steps / 16), verbose: 0 });
  });
  for (const t of [x, ids, y]) t.dispose();
});

mem('1,000 steps of fit on an image folder, and on cached backbone features, leave memory() flat', async () => {
  const root = `out/test/memory-${process.pid}`;
  rmSync(root, { recursive: true, force: true });
  await exportFashionMnist(root, { split: 'test', perClass: 2, seed: 1 });
  const classes = 10;
  const folder = wg.imageDatasetFromDirectory(root, { imageSize: [8, 8], colorMode: 'grayscale', batchSize: 4, seed: 1 });
  const pixels = new wg.Model({ inputShape: [8, 8, 1], layers: [new wg.Flatten(), new wg.Dense(classes, { activation: 'softmax' })] });
  pixels.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy' });
  await flatOver(1000, async (steps) => void (await pixels.fit(folder, { epochs: Math.ceil(steps / folder.length), verbose: 0 })));

  const backbone = await wg.MobileNetV2.load();
  const stage = new wg.FrozenBackbone(backbone, { dir: `${root}/cache` });
  const images = wg.imageDatasetFromDirectory(root, { imageSize: [224, 224], batchSize: 4, seed: 1, interpolation: backbone.interpolation });
  const head = new wg.Model({ input: stage, layers: [new wg.Reshape([49, 1280]), new wg.GlobalAveragePooling1D(), new wg.Dense(classes, { activation: 'softmax' })] });
  head.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy' });
  await head.fit(images, { epochs: 1, verbose: 0 }); // fills the cache: the backbone runs once per image
  const ran = backbone.imagesRun;
  await flatOver(1000, async (steps) => void (await head.fit(images, { epochs: Math.ceil(steps / images.length), verbose: 0 })));
  assert.is(backbone.imagesRun, ran, 'every later step read cached features');
  await backbone.dispose();
  rmSync(root, { recursive: true, force: true });
});

mem.run();