// llvmpipe silently ends an invocation's loops once it has run 65535 iterations in all (loopBudget in
// src/device/variants.ts). These shapes run past that inside one invocation if nothing splits or refuses them:
// each result is checked against the float64 reference.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as wg from '../src/node.js';
import { gpu, maxAbs } from './helpers.js';

const loops = suite('kernels within the loop budget of a software adapter');
loops.before(async () => {
  await gpu();
});

const onCpu = async (t: wg.Tensor, requiresGrad = false) => wg.tensor(await t.data(), t.shape, { backend: 'cpu', requiresGrad });
const relGap = (got: ArrayLike<number>, want: ArrayLike<number>) => maxAbs(Array.from(got, (v, i) => (v - want[i]) / (1 + Math.abs(want[i]))));

// K = 270,000: 67,500 steps of 4 in the texture kernel's K loop, where the unsplit product was 3% off.
const K = 270_000;

loops('a matmul over a K past the budget is summed from slices and matches the float64 reference, with its gradients', async () => {
  for (const [transA, transB] of [[false, false], [false, true], [true, false]]) {
    const a = wg.rand(transA ? [K, 8] : [8, K], { seed: 1, requiresGrad: true });
    const b = wg.rand(transB ? [8, K] : [K, 8], { seed: 2, requiresGrad: true });
    const [ca, cb] = [await onCpu(a, true), await onCpu(b, true)];
    const opts = { transposeA: transA, transposeB: transB };
    const got = wg.matmul(a, b, opts);
    const want = wg.matmul(ca, cb, opts);
    const gap = relGap(await got.data(), await want.data());
    assert.ok(gap < 1e-4, `transA ${transA}, transB ${transB}: relative gap ${gap}`);
    wg.sum(wg.mul(got, got)).backward();
    wg.sum(wg.mul(want, want)).backward();
    const gapA = relGap(await a.grad!.data(), await ca.grad!.data());
    const gapB = relGap(await b.grad!.data(), await cb.grad!.data());
    assert.ok(gapA < 1e-4 && gapB < 1e-4, `gradients: ${gapA}, ${gapB}`);
    for (const t of [a, b, got]) t.dispose();
  }
});

loops('a dense layer over inFeatures past the budget keeps its bias and activation, and its shape checks', async () => {
  const x = wg.rand([4, K], { seed: 3 });
  const w = wg.randn([K, 8], { seed: 4, std: 0.01 });
  const bias = wg.randn([8], { seed: 5 });
  const got = await wg.dense(x, w, bias, 'relu').data();
  const want = await wg.dense(await onCpu(x), await onCpu(w), await onCpu(bias), 'relu').data();
  assert.ok(got.some((v) => v === 0) && got.some((v) => v > 0), 'the relu clipped some outputs and kept others');
  assert.ok(relGap(got, want) < 1e-4, `relative gap ${relGap(got, want)}`);
  assert.throws(() => wg.dense(x, w, wg.zeros([7])), /bias \[7\] must be \[8\]/);
  for (const t of [x, w, bias]) t.dispose();
});

loops.run();
