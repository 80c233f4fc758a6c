import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as wg from '../src/node.js';
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

mem.run();
