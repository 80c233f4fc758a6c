import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as wg from '../src/node.js';
import { assertClose, gpu } from './helpers.js';

const ag = suite('autograd');
ag.before(async () => {
  await gpu();
});

for (const backend of ['cpu', 'webgpu'] as const) {
  ag(`a tensor used twice accumulates both paths (${backend})`, async () => {
    const x = wg.tensor([1, -2, 3], [3], { backend, requiresGrad: true });
    const y = wg.sum(wg.add(wg.mul(x, x), x)); // d/dx = 2x + 1
    y.backward();
    assertClose(await x.grad!.data(), [3, -3, 7]);
  });

  ag(`backward accumulates across calls until zeroGrad (${backend})`, async () => {
    const x = wg.tensor([2], [1], { backend, requiresGrad: true });
    wg.sum(wg.mul(x, 3)).backward();
    wg.sum(wg.mul(x, 3)).backward();
    assertClose(await x.grad!.data(), [6]);
    wg.zeroGrad([x]);
    assert.is(x.grad, null);
  });

  ag(`explicit upstream gradient for a non-scalar output (${backend})`, async () => {
    const x = wg.tensor([1, 2, 3], [3], { backend, requiresGrad: true });
    const y = wg.mul(x, x);
    y.backward(wg.tensor([1, 10, 100], [3], { backend }));
    assertClose(await x.grad!.data(), [2, 40, 600]);
  });

  ag(`leaves sharing one upstream gradient get separate .grad tensors (${backend})`, async () => {
    const a = wg.tensor([1, 2], [2], { backend, requiresGrad: true });
    const b = wg.tensor([3, 4], [2], { backend, requiresGrad: true });
    wg.sum(wg.add(a, b)).backward();
    assert.is.not(a.grad, b.grad);
    wg.zeroGrad([a]);
    assertClose(await b.grad!.data(), [1, 1]);
  });
}

ag('noGrad and detach build no graph', () => {
  const x = wg.tensor([1, 2], [2], { backend: 'cpu', requiresGrad: true });
  const y = wg.noGrad(() => wg.mul(x, 2));
  assert.is(y.requiresGrad, false);
  assert.is(y.node, null);
  const z = wg.detach(wg.mul(x, 2));
  assert.is(z.requiresGrad, false);
  const w = wg.add(wg.mul(x, x), z);
  wg.sum(w).backward();
  return x.grad!.data().then((g) => assertClose(g, [2, 4]));
});

ag('comparisons and argmax carry no gradient', () => {
  const x = wg.tensor([1, 2], [2], { backend: 'cpu', requiresGrad: true });
  assert.is(wg.greater(x, 1).requiresGrad, false);
  assert.is(wg.argmax(x).requiresGrad, false);
});

ag('a 20000-op chain backpropagates without recursion', async () => {
  const x = wg.tensor([1], [1], { backend: 'cpu', requiresGrad: true });
  let y = x;
  for (let i = 0; i < 20000; i++) y = wg.add(y, 0.5);
  wg.sum(y).backward();
  assertClose(await x.grad!.data(), [1]);
});

ag('gradients are bit-identical across repeated runs (deterministic order)', async () => {
  const grads: number[][] = [];
  for (let r = 0; r < 2; r++) {
    const x = wg.randn([64, 33], { seed: 5, requiresGrad: true });
    const w = wg.randn([33, 17], { seed: 6, requiresGrad: true });
    const h = wg.relu(wg.matmul(x, w));
    wg.sum(wg.mul(wg.softmax(h), wg.sum(h, 1, true))).backward();
    grads.push([...(await x.grad!.data()), ...(await w.grad!.data())]);
  }
  assert.equal(grads[0], grads[1]);
});

ag('backward on a non-scalar without a gradient names the shape and the fix', () => {
  const x = wg.tensor([1, 2], [2], { backend: 'cpu', requiresGrad: true });
  assert.throws(() => wg.mul(x, 2).backward(), (e: Error) => e instanceof wg.AutogradError && /shape \[2\].*sum\(\) or mean\(\)/.test(e.message));
});

ag('backward on a tensor that needs no grad says so', () => {
  const x = wg.tensor([1, 2], [2], { backend: 'cpu' });
  assert.throws(() => wg.sum(x).backward(), /does not require grad/);
});

ag('backward() leaves only the gradients: each rule runs in a scope that frees its intermediates', async () => {
  const x = wg.tensor([1, 2, 3], [3], { requiresGrad: true });
  const mask = wg.tensor([1, 0, 1], [3]);
  const y = wg.sum(wg.where(wg.greater(mask, 0), wg.mul(wg.exp(x), 0.5), -Infinity));
  const before = wg.memory().tensors;
  y.backward();
  assert.is(wg.memory().tensors - before, 1, 'x.grad and nothing else');
  assert.equal(Array.from(await x.grad!.data()).map((v) => Number(v.toFixed(4))), [1.3591, 0, 10.0428]);
});

ag('rules compute no gradient for an input that needs none (a constant operand, the -Infinity of a mask)', async () => {
  const device = wg.getDevice();
  const dispatches = (cRequiresGrad: boolean) => {
    const x = wg.tensor([1, 2, 3, 4], [4], { requiresGrad: true });
    const c = wg.tensor([2, 3, 4, 5], [4], { requiresGrad: cRequiresGrad });
    const loss = wg.sum(wg.mul(wg.div(x, c), c));
    const start = device.stats.dispatches;
    loss.backward();
    return device.stats.dispatches - start;
  };
  const both = dispatches(true);
  const one = dispatches(false);
  assert.ok(one < both, `backward with a constant ran ${one} dispatches, with both inputs needing gradients ${both}`);
});

ag.run();