// attention() and attentionWithWeights() (matmul, where, softmax, dropout and matmul, split into blocks that fit one
// storage binding) against the float64 loops in support/attention-reference.ts, forward and backward, on both
// backends; a gradcheck on the CPU; each way of splitting the weights into blocks; and the errors. Tolerances as in
// parity.test.ts: each output sums Tk products of length D, so atol scales with sqrt(Tk * D).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as wg from '../src/node.js';
import { bindingLimitOverride } from '../src/device/test-hooks.js';
import type { Tensor } from '../src/node.js';
import { assertClose, cpuInputs, disposeAll, gpu, makeInputs, maxAbs } from './helpers.js';
import { refAttention, type RefDims } from './support/attention-reference.js';

/** A shape (RefDims: sizes and layout) and what hides or drops weights. */
interface Case extends RefDims {
  name: string;
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
  { name: 'cross attention, bhtd, block tails', b: 2, tq: 6, tk: 9, h: 2, d: 8, dv: 12, layout: 'bhtd' },
  { name: 'full mask with a fully masked row', b: 2, tq: 7, tk: 5, h: 2, d: 4, dv: 8, layout: 'bthd', mask: 'all-masked-row' },
  { name: 'causal + dropout', b: 2, tq: 13, tk: 13, h: 2, d: 12, dv: 4, layout: 'bthd', causal: true, dropout: 0.2 },
  { name: 'long sequence T=301 with padding', b: 1, tq: 301, tk: 301, h: 1, d: 16, dv: 16, layout: 'bthd', mask: 'padding' },
];

const att = suite('attention: the composed path against a float64 reference');
att.before(async () => {
  await gpu();
});

/** attention() on `backend` against the reference, forward and the gradients of sum(out · g). */
async function check(c: Case, backend: 'cpu' | 'webgpu', what: string): Promise<void> {
  const m = maskValues(c);
  const specs = shapes(c).map((shape) => ({ shape }));
  const inputs = makeInputs(specs, 3);
  const [q, k, v] = backend === 'cpu' ? inputs.cpu : inputs.gpu;
  const mask = m ? wg.tensor(m.values, m.shape, { backend }) : null;
  const opts = { mask, causal: c.causal, layout: c.layout, dropout: c.dropout, seed: 77, training: true };
  const out = wg.attention(q, k, v, opts);
  const ups = makeInputs([{ shape: [...out.shape] }], 5);
  const up = backend === 'cpu' ? ups.cpu[0] : ups.gpu[0];
  const [qv, kv, vv, gv] = await Promise.all([q, k, v, up].map((t) => t.data()));
  const refMask = m ? { rows: m.shape[1], values: m.values } : null;
  const ref = refAttention(qv, kv, vv, c, { mask: refMask, causal: c.causal, dropout: c.dropout, seed: 77 }, gv);
  const atol = 2e-6 * Math.max(1, maxAbs(ref.output)) * Math.sqrt(c.tk * c.d);
  assertClose(await out.data(), ref.output, { rtol: 1e-4, atol }, `${what}: forward`);
  wg.sum(wg.mul(out, up)).backward();
  const grads = [ref.dq, ref.dk, ref.dv];
  for (let i = 0; i < 3; i++) {
    const got = await [q, k, v][i].grad!.data();
    assert.ok(got.every(Number.isFinite), `${what}: no NaN or inf in grad ${'qkv'[i]}`);
    assertClose(got, grads[i], { rtol: 1e-3, atol: 4 * atol }, `${what}: grad ${'qkv'[i]}`);
  }
  disposeAll([...inputs.cpu, ...inputs.gpu, ...ups.cpu, ...ups.gpu, out, ...(mask ? [mask] : [])]);
}

for (const c of cases) {
  for (const backend of ['cpu', 'webgpu'] as const) att(`${c.name} (${backend})`, () => check(c, backend, c.name));
}

att('attentionWithWeights returns the reference weights before dropout, and the same output as attention()', async () => {
  const c: Case = { name: 'weights', b: 2, tq: 5, tk: 7, h: 2, d: 4, dv: 3, layout: 'bthd', mask: 'padding', causal: true, dropout: 0.3 };
  const m = maskValues(c)!;
  const [q, k, v] = makeInputs(shapes(c).map((shape) => ({ shape })), 9).gpu;
  const mask = wg.tensor(m.values, m.shape);
  const opts = { mask, causal: true, dropout: 0.3, seed: 12, training: true };
  const { output, weights } = wg.attentionWithWeights(q, k, v, opts);
  assert.equal(weights.shape, [2, 2, 5, 7]);
  const ref = refAttention(await q.data(), await k.data(), await v.data(), c, { mask: { rows: 1, values: m.values }, causal: true, dropout: 0.3, seed: 12 });
  assertClose(await weights.data(), ref.weights, { rtol: 1e-5, atol: 1e-6 }, 'weights');
  assertClose(await output.data(), await wg.attention(q, k, v, opts).data(), { rtol: 1e-6, atol: 1e-6 }, 'output');
  disposeAll([q, k, v, mask, output, weights]);
});

// The storage-binding limit lowered so that the [B, H, Tq, Tk] weights do not fit while q, k, v and every block do.
// Each case splits one way; the reference is one unsplit loop, so a match shows the blocks' slices, causal rows,
// mask rows, dropout offsets and gradients line up with the whole.
const splits: { limit: number; c: Case }[] = [
  // Per batch 2·4·30·4 = 960 bytes: 2 batches a block, blocks of 2, 2 and 1 (the weights take 4800).
  { limit: 2500, c: { name: 'split by batches (causal, dropout)', b: 5, tq: 4, tk: 30, h: 2, d: 2, dv: 2, layout: 'bthd', causal: true, dropout: 0.3 } },
  // Per batch 4·6·40·4 = 3840 bytes: heads 0-1 and 2-3 of each batch.
  { limit: 2600, c: { name: 'split by heads (full mask, dropout)', b: 2, tq: 6, tk: 40, h: 4, d: 2, dv: 2, layout: 'bthd', mask: 'full', dropout: 0.2 } },
  // A row is 160 bytes: 8 query rows a block, blocks 0-7 and 8-15 of each (batch, head).
  { limit: 1300, c: { name: 'split by query rows (padding, causal, dropout, bhtd)', b: 2, tq: 16, tk: 40, h: 2, d: 2, dv: 2, layout: 'bhtd', mask: 'padding', causal: true, dropout: 0.25 } },
];

for (const { limit, c } of splits) {
  att(`${c.name}: matches the unsplit reference, forward and backward`, async () => {
    bindingLimitOverride.value = limit;
    try {
      const [q, k, v] = shapes(c).map((shape) => wg.zeros(shape));
      assert.throws(() => wg.attentionWithWeights(q, k, v, { layout: c.layout }), /exceeds this adapter's largest storage binding/, 'the whole weights do not fit');
      disposeAll([q, k, v]);
      await check(c, 'webgpu', c.name);
    } finally {
      bindingLimitOverride.value = null;
    }
  });
}

att('split without gradients: each block is freed as it finishes, and only the output stays', async () => {
  const q = wg.randn([2, 16, 2, 2], { seed: 1 });
  const k = wg.randn([2, 40, 2, 2], { seed: 2 });
  const whole = await wg.attention(q, k, k).data();
  bindingLimitOverride.value = 1300;
  try {
    const before = wg.memory().tensors;
    const out = wg.noGrad(() => wg.attention(q, k, k));
    assert.is(wg.memory().tensors - before, 1, 'the output and nothing else');
    assertClose(await out.data(), whole, { rtol: 1e-5, atol: 1e-6 }, 'split against whole');
    out.dispose();
  } finally {
    bindingLimitOverride.value = null;
    disposeAll([q, k]);
  }
});

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

att('gradcheck on the float64 backend (masks, causal, dropout, odd dims)', async () => {
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

att('a layer runs past the binding limit by blocks, with gradients; asking for the weights there says they do not fit', async () => {
  // The binding limit lowered to 1 MiB: [2 batches, 2 heads, 300, 300] weights take 1.44 MB, every other tensor a few KB.
  const layer = new wg.MultiHeadSelfAttention(8, 2);
  const x = wg.randn([2, 300, 8], { seed: 5 });
  const whole = (await layer.call(x).data()) as Float32Array;
  bindingLimitOverride.value = 2 ** 20;
  try {
    const out = layer.call(x);
    const gap = maxAbs(((await out.data()) as Float32Array).map((v, i) => v - whole[i]));
    assert.ok(gap < 1e-5, `split against whole: ${gap}`);
    wg.sum(out).backward();
    const grad = await layer.queryDense.kernel!.grad!.data();
    assert.ok(grad.every(Number.isFinite) && maxAbs(grad) > 0, 'the query kernel gets a gradient');
    assert.throws(() => layer.attend(x, { returnAttentionScores: true }), /exceeds this adapter's largest storage binding/);
  } finally {
    bindingLimitOverride.value = null;
    layer.dispose();
    x.dispose();
  }
});

att("the retired 'attention' option is refused by name", () => {
  const options = { attention: 'fused' } as unknown as { dropout?: number };
  assert.throws(() => new wg.MultiHeadSelfAttention(8, 2, options), /the 'attention' option is gone.*Remove the option/);
  assert.throws(() => new wg.MultiHeadAttention(2, 4, options), /MultiHeadAttention: the 'attention' option is gone/);
});

att.run();
