// Layers: gradchecks on the float64 backend, WebGPU outputs and gradients against the CPU reference with identical
// weights (both built from the same seed), and MultiHeadSelfAttention against a plain-loop float64 computation of
// the seed notebook's formula.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as wg from '../src/node.js';
import type { Module, Tensor } from '../src/node.js';
import { assertClose, gpu, maxAbs, randomValues } from './helpers.js';

interface LayerCase {
  name: string;
  make: () => Module;
  input: number[];
  /** Integer ids in [0, vocab) instead of floats. */
  ids?: number;
  mask?: (shape: number[]) => number[];
  training?: boolean;
}

const padMask = ([b, t]: number[]) => Array.from({ length: b * t }, (_, n) => ((n % t) < t - (Math.floor(n / t) % t) ? 1 : 0));

const layerCases: LayerCase[] = [
  { name: 'Dense linear', make: () => new wg.Dense(5), input: [3, 4] },
  { name: 'Dense relu 3-D', make: () => new wg.Dense(4, { activation: 'relu' }), input: [2, 3, 5] },
  { name: 'Dense gelu', make: () => new wg.Dense(3, { activation: 'gelu' }), input: [4, 3] },
  { name: 'Dense softmax', make: () => new wg.Dense(3, { activation: 'softmax' }), input: [4, 2] },
  { name: 'Dense sigmoid no bias', make: () => new wg.Dense(2, { activation: 'sigmoid', useBias: false }), input: [3, 3] },
  { name: 'Dropout (training)', make: () => new wg.Dropout(0.4), input: [4, 6], training: true },
  { name: 'Embedding', make: () => new wg.Embedding(7, 3), input: [2, 4], ids: 7 },
  { name: 'Reshape + Flatten', make: () => new wg.Sequential([new wg.Reshape([3, -1]), new wg.Flatten()]), input: [2, 6] },
  { name: 'GlobalAveragePooling1D masked', make: () => new wg.GlobalAveragePooling1D(), input: [3, 4, 2], mask: padMask },
  { name: 'LayerNormalization', make: () => new wg.LayerNormalization(), input: [3, 5] },
  { name: 'MultiHeadSelfAttention masked', make: () => new wg.MultiHeadSelfAttention(6, 2), input: [2, 4, 6], mask: padMask },
  { name: 'MultiHeadSelfAttention dropout', make: () => new wg.MultiHeadSelfAttention(4, 2, { dropout: 0.3 }), input: [2, 3, 4], training: true },
  { name: 'MultiHeadAttention (Keras) masked', make: () => new wg.MultiHeadAttention(2, 3, { valueDim: 2 }), input: [2, 4, 5], mask: padMask },
  {
    name: 'text model: Embedding(maskZero) → MHSA → pool → Dense',
    make: () => new wg.Sequential([new wg.Embedding(9, 4, { maskZero: true }), new wg.MultiHeadSelfAttention(4, 2), new wg.GlobalAveragePooling1D(), new wg.Dense(1)]),
    input: [3, 5],
    ids: 9,
  },
];

/** Builds a case's layer and input on a backend, from fixed seeds so both backends hold the same weights. */
function instantiate(c: LayerCase, backend: 'cpu' | 'webgpu') {
  wg.setBackend(backend);
  wg.manualSeed(1234);
  const layer = c.make();
  const n = c.input.reduce((a, b) => a * b, 1);
  let x: Tensor;
  if (c.ids) {
    // Zeros (padding) at the end of each row, to exercise maskZero.
    const ids = Array.from({ length: n }, (_, i) => ((i % c.input[1]) >= c.input[1] - (Math.floor(i / c.input[1]) % 2) * 2 ? 0 : 1 + ((i * 5) % (c.ids! - 1))));
    x = wg.tensor(ids, c.input, { dtype: 'int32' });
  } else {
    x = wg.tensor(Array.from(Float32Array.from(randomValues(n, 42))), c.input, { requiresGrad: true });
  }
  const mask = c.mask ? wg.tensor(c.mask(c.input), c.input.slice(0, 2)) : null;
  const run = (input: Tensor) => {
    wg.manualSeed(99); // the same dropout masks on every call and backend
    return layer.call(input, { training: c.training ?? false, mask });
  };
  run(x); // builds the weights
  return { layer, x, run };
}

const layers = suite('layers');
layers.before(async () => {
  await gpu();
});
layers.after(() => wg.setBackend('webgpu'));

for (const c of layerCases) {
  layers(`${c.name}: gradcheck on float64`, async () => {
    const { layer, x, run } = instantiate(c, 'cpu');
    const params = layer.parameters();
    const inputs = c.ids ? params : [x, ...params];
    const fn = () => run(x);
    await wg.gradcheck(fn, inputs);
    wg.setBackend('webgpu');
  });

  layers(`${c.name}: WebGPU output and gradients match the CPU reference`, async () => {
    const cpu = instantiate(c, 'cpu');
    const gpuCase = instantiate(c, 'webgpu');
    wg.setBackend('webgpu');
    const yc = cpu.run(cpu.x);
    const yg = gpuCase.run(gpuCase.x);
    const ref = await yc.data();
    const tol = { rtol: 1e-4, atol: 2e-5 * Math.max(1, maxAbs(ref)) * Math.sqrt(c.input[c.input.length - 1]) };
    assertClose(await yg.data(), ref, tol, 'output');
    wg.sum(wg.mul(yc, yc)).backward();
    wg.sum(wg.mul(yg, yg)).backward();
    const pc = cpu.layer.namedParameters();
    const pg = gpuCase.layer.namedParameters();
    // Auto-named layers differ between the two instances; the parameters must line up by shape.
    assert.equal(pg.map(([, p]) => p.shape), pc.map(([, p]) => p.shape), 'same parameter shapes');
    for (let i = 0; i < pc.length; i++) {
      const g = await pc[i][1].grad!.data();
      assertClose(await pg[i][1].grad!.data(), g, { rtol: 1e-3, atol: 1e-4 * Math.max(1, maxAbs(g)) }, `grad of ${pc[i][0]}`);
    }
  });
}

/** The seed notebook's MultiHeadSelfAttention, in plain loops over float64 arrays. */
function seedFormula(x: number[][][], w: Record<string, Float64Array | Float32Array>, heads: number): number[][][] {
  const d = x[0][0].length;
  const dh = d / heads;
  const dense = (v: number[], k: string) => Array.from({ length: d }, (_, j) => v.reduce((s, vi, i) => s + vi * w[`${k}.kernel`][i * d + j], w[`${k}.bias`][j]));
  return x.map((seq) => {
    const q = seq.map((v) => dense(v, 'query_dense'));
    const k = seq.map((v) => dense(v, 'key_dense'));
    const val = seq.map((v) => dense(v, 'value_dense'));
    const merged = seq.map(() => new Array<number>(d).fill(0));
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < seq.length; i++) {
        const scores = seq.map((_, j) => {
          let s = 0;
          for (let c = 0; c < dh; c++) s += q[i][h * dh + c] * k[j][h * dh + c];
          return s / Math.sqrt(dh);
        });
        const m = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - m));
        const total = e.reduce((a, b) => a + b, 0);
        for (let j = 0; j < seq.length; j++) for (let c = 0; c < dh; c++) merged[i][h * dh + c] += (e[j] / total) * val[j][h * dh + c];
      }
    }
    return merged.map((v) => dense(v, 'combine_heads'));
  });
}

for (const backend of ['cpu', 'webgpu'] as const) {
  layers(`MultiHeadSelfAttention equals the seed's formula computed in plain loops (${backend})`, async () => {
    wg.setBackend(backend);
    wg.manualSeed(7);
    const layer = new wg.MultiHeadSelfAttention(8, 2);
    const values = Array.from(randomValues(2 * 5 * 8, 3));
    const x = wg.tensor(values, [2, 5, 8]);
    const y = await layer.call(x).data();
    const weights: Record<string, Float64Array | Float32Array> = {};
    for (const [n, p] of layer.namedParameters()) weights[n] = (await p.data()) as Float32Array;
    const nested = [0, 1].map((b) => [0, 1, 2, 3, 4].map((t) => values.slice((b * 5 + t) * 8, (b * 5 + t + 1) * 8)));
    const expected = seedFormula(nested, weights, 2).flat(2);
    assertClose(y, expected, { rtol: 1e-4, atol: 1e-5 });
    wg.setBackend('webgpu');
  });
}

layers('parameter names are stable dotted paths', () => {
  const model = new wg.Sequential([new wg.Embedding(10, 8, { name: 'embed' }), new wg.MultiHeadSelfAttention(8, 2, { name: 'mhsa' }), new wg.Dense(1, { name: 'out' })], { name: 'text' });
  model.call(wg.tensor([[1, 2, 3]], [1, 3], { dtype: 'int32' }));
  assert.equal(model.namedParameters().map(([n]) => n), [
    'embed.embeddings',
    'mhsa.query_dense.kernel', 'mhsa.query_dense.bias',
    'mhsa.key_dense.kernel', 'mhsa.key_dense.bias',
    'mhsa.value_dense.kernel', 'mhsa.value_dense.bias',
    'mhsa.combine_heads.kernel', 'mhsa.combine_heads.bias',
    'out.kernel', 'out.bias',
  ]);
});

layers('a frozen module gets no gradient; train() and eval() switch dropout', async () => {
  wg.manualSeed(1);
  const frozen = new wg.Dense(3, { name: 'frozen' });
  const head = new wg.Dense(2, { name: 'head' });
  const model = new wg.Sequential([frozen, new wg.Dropout(0.5), head]);
  const x = wg.ones([4, 3]);
  model.call(x);
  frozen.trainable = false;
  wg.sum(model.call(x, { training: true })).backward();
  assert.is(frozen.kernel!.grad, null);
  assert.ok(head.kernel!.grad);
  assert.is(model.trainableParameters().length, 2);
  const evalOut = await model.eval().call(x).data();
  assert.equal(Array.from(await model.call(x).data()), Array.from(evalOut), 'eval mode is deterministic');
  model.train();
  assert.ok(model.modules.every((m) => m.training));
});

layers('Dense learns its input size on the first call and then holds it', () => {
  const d = new wg.Dense(4);
  d.call(wg.ones([2, 7]));
  assert.equal(d.kernel!.shape, [7, 4]);
  assert.throws(() => d.call(wg.ones([2, 5])), /has 5 features, but the layer was built for 7/);
});

layers('MultiHeadSelfAttention refuses an embedDim that numHeads does not divide', () => {
  assert.throws(() => new wg.MultiHeadSelfAttention(10, 3), /embedDim 10 is not divisible by numHeads 3.*divisors of 10/);
});

layers('returnAttentionScores gives [B, h, T, T] rows that sum to 1 (0 where masked)', async () => {
  const layer = new wg.MultiHeadSelfAttention(8, 4);
  const mask = wg.tensor([1, 1, 0, 1, 1, 1], [2, 3]);
  const { output, scores } = layer.attend(wg.randn([2, 3, 8], { seed: 2 }), { mask, returnAttentionScores: true });
  assert.equal(scores!.shape, [2, 4, 3, 3]);
  assert.equal(output.shape, [2, 3, 8]);
  const rows = await wg.sum(scores!, -1).data();
  assertClose(rows, new Array(rows.length).fill(1), { rtol: 1e-5 });
  const s = await scores!.data();
  assert.is(s[2], 0, 'the padded key gets zero weight');
});

layers('Keras MultiHeadAttention: cross-attention shapes, causal mask, output projection', async () => {
  const mha = new wg.MultiHeadAttention(2, 4, { valueDim: 3, outputShape: 6 });
  const q = wg.randn([2, 5, 7], { seed: 1 });
  const v = wg.randn([2, 3, 9], { seed: 2 });
  const { output, scores } = mha.attend(q, v, undefined, { returnAttentionScores: true });
  assert.equal(output.shape, [2, 5, 6]);
  assert.equal(scores!.shape, [2, 2, 5, 3]);
  const causal = mha.attend(q, v, v, { useCausalMask: true, returnAttentionScores: true }).scores!;
  const c = await causal.data();
  assert.is(c[1], 0, 'query 0 cannot see key 1');
  const counts = Object.fromEntries(mha.namedParameters().map(([n, p]) => [n, p.size]));
  assert.is(counts['query.kernel'], 7 * 2 * 4);
  assert.is(counts['value.kernel'], 9 * 2 * 3);
  assert.is(counts['attention_output.kernel'], 2 * 3 * 6);
});

layers.run();
