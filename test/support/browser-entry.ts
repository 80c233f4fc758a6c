// The browser suite's page: the core as bundled for browsers (scripts/browser-bundle.mjs), the op cases shared with
// parity.test.ts, and the checks that belong to a browser. test/browser.test.ts opens it in headless Chromium and
// runs each case by name through window.wgradSuite, so every case is one uvu test in Node's report.
import * as assert from 'uvu/assert';
import * as wg from '../../src/index.js';
import { host } from '../../src/platform/host.js';
import { browserParityRuns } from './parity-cases.js';
import { assertClose, cpuInputs, randomValues, validationErrorSurfaces } from './check.js';
import { setStagedReads } from '../../src/device/choice.js';
import { adamUpdate } from '../../src/ops/optimizer-steps.js';

const checks: Record<string, () => Promise<void>> = {};
for (const { name, run } of browserParityRuns()) checks[name] = run;

checks['the adapter is navigator.gpu, reported with its software flag'] = async () => {
  const info = wg.runtimeInfo();
  assert.is(info.backend, 'webgpu');
  assert.is(info.adapter!.backend, 'navigator');
  assert.match(info.description, /via navigator\.gpu/);
  // SwiftShader is a CPU rasteriser: the report must say so, since the kernels' defaults follow it.
  if (/swiftshader/i.test(`${info.adapter!.architecture} ${info.adapter!.description}`)) assert.ok(info.adapter!.software, 'SwiftShader is reported as software');
  assert.is((await host()).kind, 'browser');
};

checks['the autotune result is kept in localStorage'] = async () => {
  const h = await host();
  const record = { matmul: 'tiled', measuredMs: { tiled: 1 }, date: new Date().toISOString() };
  await h.writeTuning({ 'browser-test': record });
  assert.ok(localStorage.getItem('wgrad:tuning')?.includes('browser-test'));
  assert.equal((await h.readTuning())['browser-test'], record);
  localStorage.removeItem('wgrad:tuning');
};

// Past MIN_STAGED_WORDS, so the staged kernels (src/ops/staged.ts) run on this adapter's textures too.
checks['staged reads: softmax, sum, a permute and a scalar minus a tensor agree with the buffer path bit for bit, and with float64'] = async () => {
  // Absolute tolerances: a softmax's float32 rounding; a float32 sum of 20,000 terms in [-2, 2], whose roundings
  // drift about sqrt(n) * 2^-23 (16 times that, as test/staged.test.ts); a permute moves the float32 values exactly,
  // and 1 - x rounds once.
  const cases: [number[], (x: wg.Tensor) => wg.Tensor, number][] = [
    [[400, 49], (x) => wg.softmax(x), 1e-6],
    [[20000], (x) => wg.sum(x), 16 * Math.sqrt(20000) * 2 ** -23],
    [[1, 49, 8, 160], (x) => wg.permute(x, [0, 2, 1, 3]), 2 ** -22],
    [[20001], (x) => wg.sub(1, x), 2 ** -22],
  ];
  const device = wg.getDevice();
  const dispatch = device.dispatch;
  let staged = 0;
  device.dispatch = (d) => {
    if (d.textures?.length && d.kernel !== 'matmul_texture') staged++;
    dispatch.call(device, d);
  };
  try {
    for (const [shape, op, atol] of cases) {
      const values = randomValues(shape.reduce((a, b) => a * b, 1), 7);
      const x = wg.tensor(values, shape, { backend: 'webgpu' });
      const out: Float32Array[] = [];
      for (const staged of [true, false]) {
        setStagedReads(staged);
        const y = op(x);
        out.push((await y.data()) as Float32Array);
        y.dispose();
      }
      for (let i = 0; i < out[0].length; i++) if (!Object.is(out[0][i], out[1][i])) assert.unreachable(`[${shape}][${i}]: staged ${out[0][i]}, buffer ${out[1][i]}`);
      const ref = op(wg.tensor(values, shape, { backend: 'cpu' }));
      assertClose(out[0], (await ref.data()) as Float64Array, { rtol: 1e-5, atol }, `[${shape}]`);
      x.dispose();
      ref.dispose();
    }
    assert.is(staged, cases.length, 'each case ran one staged kernel');
  } finally {
    setStagedReads(null);
    device.dispatch = dispatch;
  }
};

// Adam's staged kernel binds four textures: as many as a browser's default limit allows.
checks['staged reads: an Adam step from four textures agrees with the buffer path bit for bit, and with float64'] = async () => {
  const n = 20001;
  const values = [randomValues(n, 1), randomValues(n, 2), randomValues(n, 3).map((v) => v * v + 0.01), randomValues(n, 4)];
  const step = { alpha: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, decay: 4e-5 };
  const apply = (backend: 'cpu' | 'webgpu'): wg.Tensor[] => {
    const [w, m, v, g] = values.map((x) => wg.tensor(x, [n], { backend }));
    adamUpdate(w, m, v, g, wg.tensor([0.5], [1], { backend }), step);
    return [w, m, v];
  };
  const device = wg.getDevice();
  const dispatch = device.dispatch;
  let textures = 0;
  device.dispatch = (d) => {
    if (d.kernel === 'adam') textures = Math.max(textures, d.textures?.length ?? 0);
    dispatch.call(device, d);
  };
  try {
    const out: Float32Array[][] = [];
    for (const staged of [true, false]) {
      setStagedReads(staged);
      const ts = apply('webgpu');
      out.push(await Promise.all(ts.map(async (t) => (await t.data()) as Float32Array)));
      ts.forEach((t) => t.dispose());
    }
    assert.is(textures, 4, 'the staged kernel ran');
    const ref = apply('cpu');
    for (let k = 0; k < 3; k++) {
      for (let i = 0; i < n; i++) if (!Object.is(out[0][k][i], out[1][k][i])) assert.unreachable(`output ${k}[${i}]: staged ${out[0][k][i]}, buffer ${out[1][k][i]}`);
      assertClose(out[0][k], (await ref[k].data()) as Float64Array, { rtol: 1e-5, atol: 1e-6 }, `output ${k}`);
    }
  } finally {
    setStagedReads(null);
    device.dispatch = dispatch;
  }
};

checks['no file system: readSafetensors names the byte forms instead'] = async () => {
  await wg.readSafetensors('weights.safetensors').then(
    () => assert.unreachable('a browser has no files'),
    (e: Error) => assert.match(e.message, /no file system.*encodeSafetensors \/ decodeSafetensors/),
  );
  const back = wg.decodeSafetensors(wg.encodeSafetensors({ w: { shape: [3], data: [1, 2, 3] } }));
  assert.equal(back.tensors.w.shape, [3]);
};

checks['gradcheck: softmax · matmul · gelu against central differences'] = async () => {
  const [x, w] = cpuInputs([{ shape: [3, 4] }, { shape: [4, 5] }], 3);
  const report = await wg.gradcheck((a, b) => wg.softmax(wg.gelu(wg.matmul(a, b))), [x, w]);
  assert.ok(report.ok, JSON.stringify(report));
};

// A small model of the text workflow's shape: tokens whose class is whether token 1 or token 2 occurs more often.
function tokenData(n: number, seed: number): { x: wg.Tensor; y: wg.Tensor } {
  const rng = new wg.Rng(seed);
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 2;
    for (let t = 0; t < 8; t++) x.push(rng.uniform() < 0.4 ? 1 + c : 3 + Math.floor(rng.uniform() * 5));
    y.push(c);
  }
  return { x: wg.tensor(x, [n, 8], { dtype: 'int32' }), y: wg.tensor(y, [n], { dtype: 'int32' }) };
}

const attentionLayers = (): wg.Module[] => [new wg.Embedding(8, 16), new wg.MultiHeadSelfAttention(16, 2), new wg.GlobalAveragePooling1D(), new wg.Dense(2, { activation: 'softmax' })];

checks['fit: an Embedding + MultiHeadSelfAttention model, loss going down'] = async () => {
  wg.manualSeed(1);
  const model = new wg.Model({ inputShape: [8], layers: attentionLayers() });
  model.compile({ optimizer: (p) => new wg.Adam(p, { learningRate: 0.01 }), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  const { x, y } = tokenData(64, 2);
  const history = await model.fit({ x, y, batchSize: 16, shuffle: true, seed: 3 }, { epochs: 6, verbose: 0 });
  const loss = history.history.loss;
  assert.ok(loss.every(Number.isFinite), `finite losses: ${loss}`);
  assert.ok(loss[5] < 0.8 * loss[0], `loss went down: ${loss.map((l) => l.toFixed(3))}`);
  assert.ok(history.history.accuracy[5] >= 0.75, `accuracy ${history.history.accuracy}`);
};

checks['memory(): flat across training steps'] = async () => {
  wg.manualSeed(2);
  const model = new wg.Sequential(attentionLayers());
  const opt = new wg.Adam(model.namedParameters(), { learningRate: 0.01 });
  const loss = wg.sparseCategoricalCrossentropy();
  const { x, y } = tokenData(16, 4);
  const step = async (): Promise<void> => {
    const value = wg.tidy(() => {
      const l = loss.call(y, model.call(x, { training: true }));
      l.backward();
      opt.step();
      opt.zeroGrad();
      return l;
    });
    await value.data();
    value.dispose();
  };
  for (let i = 0; i < 3; i++) await step();
  const before = wg.memory();
  for (let i = 0; i < 20; i++) await step();
  const after = wg.memory();
  assert.is(after.tensors, before.tensors, 'live tensors');
  assert.is(after.buffers, before.buffers, 'pooled buffers');
  assert.is(after.bytes, before.bytes, 'bytes held');
};

checks['a device validation error surfaces as a DeviceError, and the device stays usable'] = validationErrorSurfaces;

checks['a kernel-side index check throws an IndexError'] = async () => {
  // The index tensor is computed on the GPU, so only the kernel can see that 5 is past the 3-row table.
  const ids = wg.cast(wg.add(wg.zeros([2]), 5), 'int32');
  await wg.gather(wg.zeros([3, 2]), ids).data().then(
    () => assert.unreachable('out-of-range index must throw'),
    (e: Error) => assert.instance(e, wg.IndexError),
  );
};

declare global {
  interface Window {
    wgradSuite: { ready: Promise<string>; names: () => string[]; run: (name: string) => Promise<{ ok: boolean; message: string; ms: number }> };
  }
}

window.wgradSuite = {
  ready: wg.init({ log: false, tune: false }).then((info) => info.description),
  names: () => Object.keys(checks),
  async run(name) {
    const t0 = performance.now();
    try {
      await checks[name]();
      return { ok: true, message: '', ms: performance.now() - t0 };
    } catch (e) {
      const err = e as Error;
      return { ok: false, message: `${err.name}: ${err.message}\n${err.stack ?? ''}`, ms: performance.now() - t0 };
    }
  },
};
