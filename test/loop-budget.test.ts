// llvmpipe silently ends an invocation's loops once it has run 65535 iterations in all (loopBudget in
// src/device/variants.ts). These shapes run past that inside one invocation if nothing splits or refuses them:
// each result is checked against the float64 reference, and what cannot be split must refuse with the reason.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as wg from '../src/node.js';
import { loopBudget } from '../src/device/variants.js';
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

loops('argmax along an axis past the budget finds the first largest, in both layouts, and keeps NaN from winning', async () => {
  // 100,000 values: argmax looped once over them per output and was wrong in 39% (axis 1) and 90% (axis 0).
  const values = Float32Array.from({ length: 4 * 100_000 }, (_, i) => Math.sin(i * 12.9898) * 43758.5453 % 1);
  values[3 * 100_000 + 99_999] = 5;  // row 3's largest is its last value
  values[2 * 100_000 + 70_000] = 5;  // row 2's largest twice, past the first piece: the first wins
  values[2 * 100_000 + 90_000] = 5;
  values[1 * 100_000 + 80_000] = NaN;  // NaN never wins
  const x = wg.tensor(values, [4, 100_000]);
  const want = await wg.argmax(await onCpu(x), 1).data();
  assert.equal(Array.from(await wg.argmax(x, 1).data()), Array.from(want));
  assert.equal([want[2], want[3]], [70_000, 99_999]);
  const xt = wg.transpose(x);
  assert.equal(Array.from(await wg.argmax(xt, 0).data()), Array.from(want));
  for (const t of [x, xt]) t.dispose();
});

loops("gather's gradient sums a row gathered more times than the budget, exactly", async () => {
  // Row 0 gathered 98,000 times and row 1 2,000 times: the scatter's loop over one row's positions was a third off.
  const n = 100_000;
  const table = wg.rand([5, 8], { seed: 11, requiresGrad: true });
  const ids = Int32Array.from({ length: n }, (_, i) => (i % 50 === 0 ? 1 : 0));
  const w = wg.rand([n, 8], { seed: 12 });
  wg.sum(wg.mul(wg.gather(table, wg.tensor(ids, [n], { dtype: 'int32' })), w)).backward();
  const wv = await w.data();
  const want = new Float64Array(5 * 8);
  for (let i = 0; i < n; i++) for (let c = 0; c < 8; c++) want[ids[i] * 8 + c] += wv[i * 8 + c];
  const gap = relGap(await table.grad!.data(), want);
  assert.ok(gap < 1e-5, `relative gap ${gap}`);
  for (const t of [table, w]) t.dispose();
});

loops.run();
