// The fused attention kernel against the unfused composition (matmul, where, softmax, dropout, matmul), forward and
// backward, on both backends; and gradchecks of the fused op's float64 reference. Tolerances as in parity.test.ts:
// each output sums Tk products of length D, so atol scales with sqrt(Tk * D).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as wg from '../src/node.js';
import { bindingLimitOverride } from '../src/device/test-hooks.js';
import type { Tensor } from '../src/node.js';
import { assertClose, cpuInputs, disposeAll, gpu, makeInputs, maxAbs } from './helpers.js';

interface Case {
  name: string;
  b: number;
  tq: number;
  tk: number;
  h: number;
  d: number;
  dv: number;
  layout: 'bthd' | 'bhtd';
  mask?: 'padding' | 'full' | 'all-masked-row';
  causal?: boolean;
  dropout?: number;
}

function maskValues(c: Case): { shape: number[]; values: number[] } | null {
  if (!c.mask) return null;
  if (c.mask === 'padding') {
    // Each batch row keeps a different prefix of keys, as padded text does.
    const values = Array.from({ length: c.b * c.tk }, (_, n) => ((n % c.tk) < Math.max(1, c.tk - (Math.floor(n / c.tk) * 2) % c.tk) ? 1 : 0));
    return { shape: [c.b, 1, c.tk], values };
  }
  const rows = c.b * c.tq;
  const values = Array.from({ length: rows * c.tk }, (_, n) => ((n * 7919) % 5 === 0 ? 0 : 1));
  if (c.mask === 'all-masked-row') for (let j = 0; j < c.tk; j++) values[j] = 0; // query 0 of batch 0 sees nothing
  return { shape: [c.b, c.tq, c.tk], values };
}

function shapes(c: Case): number[][] {
  const s = (t: number, d: number) => (c.layout === 'bthd' ? [c.b, t, c.h, d] : [c.b, c.h, t, d]);
  return [s(c.tq, c.d), s(c.tk, c.d), s(c.tk, c.dv)];
}

const cases: Case[] = [
  { name: 'T=1 single key', b: 1, tq: 1, tk: 1, h: 1, d: 3, dv: 3, layout: 'bthd' },
  { name: 'odd dims', b: 2, tq: 7, tk: 7, h: 3, d: 5, dv: 7, layout: 'bthd' },
  { name: 'seed-1 shape, small batch', b: 2, tq: 49, tk: 49, h: 8, d: 20, dv: 20, layout: 'bthd' },
  { name: 'bhtd layout, cross attention', b: 2, tq: 5, tk: 9, h: 2, d: 4, dv: 6, layout: 'bhtd' },
  { name: 'padding mask', b: 3, tq: 11, tk: 11, h: 2, d: 8, dv: 8, layout: 'bthd', mask: 'padding' },
  { name: 'full mask with a fully masked row', b: 2, tq: 6, tk: 5, h: 2, d: 3, dv: 4, layout: 'bthd', mask: 'all-masked-row' },
  { name: 'causal', b: 2, tq: 9, tk: 9, h: 2, d: 6, dv: 5, layout: 'bthd', causal: true },
  { name: 'causal + padding + dropout', b: 2, tq: 8, tk: 8, h: 2, d: 4, dv: 4, layout: 'bthd', causal: true, mask: 'padding', dropout: 0.3 },
  { name: 'long sequence T=257', b: 1, tq: 257, tk: 257, h: 2, d: 33, dv: 33, layout: 'bthd', mask: 'padding' },
  // Head dims that are whole vec4s take the kernels' main_vec4 (keys and queries 4 at a time): block tails past Tq
  // and Tk, both layouts, every mask kind, dropout.
  { name: 'vec4 heads: cross attention, bhtd, block tails', b: 2, tq: 6, tk: 9, h: 2, d: 8, dv: 12, layout: 'bhtd' },
  { name: 'vec4 heads: full mask with a fully masked row', b: 2, tq: 7, tk: 5, h: 2, d: 4, dv: 8, layout: 'bthd', mask: 'all-masked-row' },
  { name: 'vec4 heads: causal + dropout', b: 2, tq: 13, tk: 13, h: 2, d: 12, dv: 4, layout: 'bthd', causal: true, dropout: 0.2 },
  { name: 'vec4 heads: long sequence T=301 with padding', b: 1, tq: 301, tk: 301, h: 1, d: 16, dv: 16, layout: 'bthd', mask: 'padding' },
];

const att = suite('attention: fused kernel vs unfused composition');
att.before(async () => {
  await gpu();
});

for (const c of cases) {
  for (const backend of ['cpu', 'webgpu'] as const) {
    att(`${c.name} (${backend})`, async () => {
      const m = maskValues(c);
      const specs = shapes(c).map((shape) => ({ shape }));
      const inputs = makeInputs(specs, 3);
      const [q, k, v] = backend === 'cpu' ? inputs.cpu : inputs.gpu;
      const mask = m ? wg.tensor(m.values, m.shape, { backend }) : null;
      const opts = { mask, causal: c.causal, layout: c.layout, dropout: c.dropout, seed: 77, training: true };
      const fused = wg.attention(q, k, v, opts);
      const { output: unfused } = wg.attentionUnfused(q, k, v, opts);
      const ref = await unfused.data();
      const atol = 2e-6 * Math.max(1, maxAbs(ref)) * Math.sqrt(c.tk * c.d);
      assertClose(await fused.data(), ref, { rtol: 1e-4, atol }, 'forward');
      const up = backend === 'cpu' ? makeInputs([{ shape: [...fused.shape] }], 5).cpu[0] : makeInputs([{ shape: [...fused.shape] }], 5).gpu[0];
      fused.backward(up);
      const fusedGrads = await Promise.all([q, k, v].map((t) => t.grad!.data()));
      wg.zeroGrad([q, k, v]);
      unfused.backward(up);
      for (let i = 0; i < 3; i++) {
        const gref = await [q, k, v][i].grad!.data();
        assertClose(fusedGrads[i], gref, { rtol: 1e-3, atol: 4 * atol }, `grad ${'qkv'[i]}`);
      }
      assert.ok(fusedGrads.every((g) => g.every(Number.isFinite)), 'no NaN or inf in gradients');
      disposeAll([...inputs.cpu, ...inputs.gpu, fused, unfused, up]);
    });
  }
}

att('a fully masked row gives zeros, not NaN, and no gradient', async () => {
  const [q, k, v] = makeInputs([{ shape: [1, 2, 1, 3] }, { shape: [1, 3, 1, 3] }, { shape: [1, 3, 1, 3] }], 1).gpu;
  const mask = wg.tensor([0, 0, 0, 1, 0, 1], [1, 2, 3]);
  const out = wg.attention(q, k, v, { mask });
  const values = await out.data();
  assert.equal(Array.from(values.slice(0, 3)), [0, 0, 0]);
  assert.ok(values.every(Number.isFinite));
  wg.sum(out).backward();
  assert.ok((await q.grad!.data()).every(Number.isFinite));
  assert.equal(Array.from((await q.grad!.data()).slice(0, 3)), [0, 0, 0]);
});

att('gradcheck of the fused op on the float64 reference (masks, causal, dropout, odd dims)', async () => {
  await wg.init({ backend: 'cpu', log: false });
  try {
    const [q, k, v] = cpuInputs([{ shape: [2, 4, 2, 3] }, { shape: [2, 5, 2, 3] }, { shape: [2, 5, 2, 5] }], 8);
    const mask = wg.tensor([1, 1, 0, 1, 0, 1, 1, 1, 1, 0], [2, 1, 5], { backend: 'cpu' });
    for (const opts of [{}, { mask }, { mask, causal: true }, { dropout: 0.25, seed: 3, training: true }]) {
      await wg.gradcheck((a: Tensor, b: Tensor, c: Tensor) => wg.attention(a, b, c, opts), [q, k, v]);
    }
  } finally {
    await wg.init({ backend: 'webgpu', log: false });
  }
});

att('bad shapes and masks name the shapes', () => {
  const q = wg.zeros([2, 3, 4, 5]);
  assert.throws(() => wg.attention(q, wg.zeros([2, 3, 4, 6]), wg.zeros([2, 3, 4, 5])), /q \[2,3,4,5\], k \[2,3,4,6\]/);
  assert.throws(() => wg.attention(q, q, q, { mask: wg.ones([2, 3]) }), /mask \[2,3\] must be \[2, 1 or 3, 3\]/);
});

att("'auto' takes the fused kernels where the composed weights would not fit in one storage binding", async () => {
  // The binding limit lowered to 1 MiB: [2 batches, 2 heads, 300, 300] weights take 1.44 MB, every other tensor a few KB.
  const layer = new wg.MultiHeadSelfAttention(8, 2);
  const x = wg.randn([2, 300, 8], { seed: 5 });
  const unfused = (await layer.call(x).data()) as Float32Array;  // composed, at the real limit
  bindingLimitOverride.value = 2 ** 20;
  try {
    layer.impl = 'unfused';
    assert.throws(() => layer.call(x), /exceeds this adapter's largest storage binding/);
    layer.impl = 'auto';
    const auto = (await layer.call(x).data()) as Float32Array;
    layer.impl = 'fused';
    const fused = (await layer.call(x).data()) as Float32Array;
    assert.equal(auto, fused, "'auto' ran the fused kernels");
    const gap = maxAbs(auto.map((v, i) => v - unfused[i]));
    assert.ok(gap < 1e-5, `fused against composed: ${gap}`);
  } finally {
    bindingLimitOverride.value = null;
    layer.dispose();
    x.dispose();
  }
});

att.run();
