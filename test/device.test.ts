import { readdirSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as wg from '../src/node.js';
import { findAdapter } from '../src/device/adapter.js';
import { KERNEL_NAMES } from '../src/device/kernels.js';
import { defaultWorkgroup, padShape, params } from '../src/device/uniforms.js';
import { CONTRACTS } from '../src/generated/contracts.js';
import { gridFor } from '../src/device/device.js';
import { textureTile } from '../src/ops/matmul/tile-cost.js';
import { simplifyWalks } from '../src/ops/strided.js';
import { assertClose, gpu, validationErrorSurfaces } from './helpers.js';

const dev = suite('device');
let info: wg.RuntimeInfo;
dev.before(async () => {
  info = await gpu();
  // Printed so that CI logs show which adapter the WebGPU tests ran on.
  console.log(`\n  WebGPU tests run on: ${info.description}`);
});

dev('an adapter was found and described', () => {
  assert.is(info.backend, 'webgpu');
  assert.ok(info.adapter);
  assert.type(info.adapter!.software, 'boolean');
  assert.ok(info.description.length > 10);
  if (process.env.CI) assert.ok(info.adapter, 'CI must run the WebGPU tests, not skip them');
});

dev('asking for an adapter that is not there names what was tried and the packages that fix it', async () => {
  // Here (no GPU) 'gpu' finds nothing and exercises the error; on a machine with a GPU it finds one.
  await findAdapter('gpu').then(
    ({ report }) => assert.is(report.backend, 'default'),
    (e: Error) => {
      assert.instance(e, wg.DeviceError, e.message);
      assert.match(e.message, /Tried: default \(core\): no adapter/);
      assert.match(e.message, /apt-get install libegl1 libegl-mesa0 libgl1-mesa-dri libegl-dev/);
      assert.match(e.message, /WGRAD_BACKEND=cpu/);
    },
  );
});

dev('every kernel in kernels/ compiles without errors', async () => {
  const device = wg.getDevice();
  // The embedded map must hold every file in kernels/: a stale src/generated/ would test old sources.
  const files = readdirSync('kernels').filter((f) => f.endsWith('.wgsl')).map((f) => f.replace('.wgsl', '')).sort();
  assert.equal([...KERNEL_NAMES].sort(), files);
  assert.ok(files.length >= 12);
  for (const k of files) assert.equal(await device.compileMessages(k), [], k);
});

dev('dispatches are batched into few submits, not one per op', async () => {
  const device = wg.getDevice();
  const x = wg.ones([64]);
  await x.data();
  const before = { ...device.stats };
  let y = x;
  for (let i = 0; i < 100; i++) y = wg.add(wg.mul(y, 0.5), 1);
  await y.data();
  const dispatches = device.stats.dispatches - before.dispatches;
  const submits = device.stats.submits - before.submits;
  assert.ok(dispatches >= 200, `${dispatches} dispatches`);
  assert.ok(submits <= 3, `${submits} submits for ${dispatches} dispatches`);
});

dev("every kernel's uniforms are packed by name in its WGSL layout, and its workgroup size is read from its WGSL", () => {
  for (const k of KERNEL_NAMES) assert.ok(k in CONTRACTS, `${k} has a contract`);
  // binary's Params: n, rank, grid_x, stage_shift, then shape at the next 16-byte boundary (16), a_strides at 48, b_strides at 80.
  const block = new DataView(params('binary', { n: 7, rank: 2, grid_x: 1, stage_shift: 10, shape: padShape([3, 4]), a_strides: [4, 1], b_strides: [0, 1] }));
  assert.is(block.byteLength, 112);
  assert.equal([0, 4, 8, 12].map((o) => block.getUint32(o, true)), [7, 2, 1, 10]);
  assert.equal([16, 20, 24, 44].map((o) => block.getUint32(o, true)), [3, 4, 1, 1]);
  assert.equal([48, 52, 80, 84].map((o) => block.getUint32(o, true)), [4, 1, 0, 1]);
  const f = new DataView(params('unary', { n4: 2, alpha: 1.5, grid_x: 3, stage_shift: 10 }));
  assert.is(f.getFloat32(4, true), 1.5);
  assert.is(f.getUint32(12, true), 10);
  assert.is(defaultWorkgroup('unary', 'WG'), 256);
  assert.is(defaultWorkgroup('matmul_texture', 'WG_Y'), 1);
  assert.throws(() => params('cast', { n: 1 } as never), /cast: uniform 'grid_x' is not given/);
  assert.throws(() => padShape([1, 2, 3, 4, 5, 6, 7, 8, 9]), /rank 9 exceeds the kernels' maximum of 8/);
});

dev('a device validation error becomes a DeviceError at the next sync, with the message', validationErrorSurfaces);

dev('empty tensors work where they make sense', async () => {
  const e = wg.zeros([0, 3]);
  assert.equal(e.shape, [0, 3]);
  assert.is((await wg.add(e, 1).data()).length, 0);
  assert.equal(Array.from(await wg.sum(e, 0).data()), [0, 0, 0]);
  const k0 = wg.matmul(wg.zeros([2, 0]), wg.zeros([0, 3]));
  assert.equal(Array.from(await k0.data()), [0, 0, 0, 0, 0, 0]);
});

dev('elementwise ops past 65535 workgroups (16.8M elements) cover every element', async () => {
  const n = 65536 * 256 + 3;
  const x = wg.full([n], 2);
  const y = wg.mul(x, 3);
  const d = await y.data();
  assert.is(d[0], 6);
  assert.is(d[n - 1], 6);
  assert.is(d[65535 * 256], 6);
  assertClose([await wg.sum(y).item()], [6 * n], { rtol: 1e-5 });
  // fill (full), where and cast run on the same fitted 2-D grid: every element must be written.
  const picked = await wg.where(wg.greater(y, 5), y, x).data();
  const ints = await wg.cast(y, 'int32').data();
  const miss = (a: ArrayLike<number>, v: number) => Array.prototype.findIndex.call(a, (e: number) => e !== v);
  assert.is(miss(d, 6), -1);
  assert.is(miss(picked, 6), -1);
  assert.is(miss(ints, 6), -1);
  x.dispose();
  y.dispose();
});

dev('softmax rows past 65535 (2-D grid) and logits of size 1e4 give no NaN', async () => {
  const rows = 70000;
  const y = await wg.softmax(wg.full([rows, 3], 1e4)).data();
  assert.ok(Math.abs(y[0] - 1 / 3) < 1e-6 && Math.abs(y[rows * 3 - 1] - 1 / 3) < 1e-6);
  const masked = await wg.softmax(wg.tensor([-Infinity, -Infinity, 1e4, -1e4], [2, 2])).data();
  assert.equal(Array.from(masked), [0, 0, 1, 0]);
});

/** float64 softmax, log-softmax and the gradients of sum(softmax(x) * w) and sum(logSoftmax(x) * w), row by row. */
function softmaxReference(xs: number[], ws: number[], rows: number, cols: number) {
  const n = rows * cols;
  const want = { y: new Float64Array(n), log: new Float64Array(n), dy: new Float64Array(n), dlog: new Float64Array(n) };
  for (let r = 0; r < rows; r++) {
    const row = xs.slice(r * cols, (r + 1) * cols);
    const m = Math.max(...row);
    const sum = row.reduce((a, v) => a + Math.exp(v - m), 0);
    const y = row.map((v) => Math.exp(v - m) / sum);
    const w = ws.slice(r * cols, (r + 1) * cols);
    const wy = y.reduce((a, v, c) => a + v * w[c], 0);
    const wsum = w.reduce((a, v) => a + v, 0);
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      want.y[i] = y[c];
      want.log[i] = row[c] - m - Math.log(sum);
      want.dy[i] = y[c] * (w[c] - wy);
      want.dlog[i] = w[c] - y[c] * wsum;
    }
  }
  return want;
}

/** Checks softmax and log-softmax of [rows, cols] and their gradients against softmaxReference, on NaN-filled outputs. */
async function checkSoftmaxRows(rows: number, cols: number): Promise<void> {
  const n = rows * cols;
  const xs = Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + cols) * 4);
  const ws = Array.from({ length: n }, (_, i) => Math.cos(i * 78.233 + cols));
  const want = softmaxReference(xs, ws, rows, cols);
  for (const log of [false, true]) {
    wg.full([rows, cols], NaN).dispose();
    const x = wg.tensor(xs, [rows, cols]);
    const w = wg.tensor(ws, [rows, cols]);
    const y = log ? wg.logSoftmax(x) : wg.softmax(x);
    assertClose(await y.data(), log ? want.log : want.y, { atol: 1e-5, rtol: 1e-5 }, `${log ? 'logSoftmax' : 'softmax'} [${rows},${cols}]`);
    x.requiresGrad = true;
    wg.full([rows, cols], NaN).dispose();
    wg.sum(wg.mul(log ? wg.logSoftmax(x) : wg.softmax(x), w)).backward();
    assertClose(await x.grad!.data(), log ? want.dlog : want.dy, { atol: 1e-5, rtol: 1e-5 }, `${log ? 'logSoftmax' : 'softmax'} gradient [${rows},${cols}]`);
    for (const t of [x, w, y, x.grad!]) t.dispose();
  }
}

dev('short-row softmax, log-softmax and their gradients write every element, for every row length 1-61', async () => {
  // softmax_rows*.wgsl store a row's whole words as vec4s and its edge words a float at a time; rows of 9 put the
  // rows' starts at every offset within a word. The output buffers are poisoned with NaN first (the pool hands the
  // same buffer back), so an element left unwritten fails. The reference is float64 JavaScript.
  for (let cols = 1; cols <= 61; cols++) await checkSoftmaxRows(9, cols);
});

dev('softmax over longer rows of whole words (main_words_staged) writes every element, and a masked row gives zeros', async () => {
  // Rows of 64-256 with cols % 4 == 0, enough of them (over 4096 words) for the inputs to be staged; an odd row
  // count leaves the last workgroup part full.
  for (const cols of [64, 100, 200, 256]) await checkSoftmaxRows(Math.ceil(16384 / cols) + 3, cols);
  // A row of -Infinity (a fully masked query) gives zeros, and its neighbours are unaffected.
  const rows = 83;
  const xs = Array.from({ length: rows * 200 }, (_, i) => (Math.floor(i / 200) === 41 ? -Infinity : Math.sin(i)));
  const y = await wg.softmax(wg.tensor(xs, [rows, 200])).data();
  assert.ok(y.slice(41 * 200, 42 * 200).every((v) => v === 0), 'the masked row is all zeros');
  const sums = Array.from({ length: rows }, (_, r) => Array.from(y.slice(r * 200, (r + 1) * 200)).reduce((a, v) => a + v, 0));
  sums.forEach((s, r) => r !== 41 && assert.ok(Math.abs(s - 1) < 1e-5, `row ${r} sums to ${s}`));
});

dev('creation ops agree across backends', async () => {
  for (const backend of ['cpu', 'webgpu'] as const) {
    assert.equal(await wg.arange(5, undefined, 1, { backend }).array(), [0, 1, 2, 3, 4]);
    assert.equal(await wg.arange(1, 2, 0.25, { backend }).array(), [1, 1.25, 1.5, 1.75]);
    assert.equal(await wg.eye(2, 3, { backend }).array(), [[1, 0, 0], [0, 1, 0]]);
    assert.equal(await wg.full([2], -3, { backend, dtype: 'int32' }).array(), [-3, -3]);
  }
  const a = await wg.randn([100], { seed: 9, backend: 'cpu' }).data();
  const b = await wg.randn([100], { seed: 9, backend: 'webgpu' }).data();
  assertClose(b, a, { rtol: 1e-7, atol: 0 });
  const u = await wg.rand([1000], { seed: 1, low: -1, high: 1 }).data();
  assert.ok(Math.min(...u) >= -1 && Math.max(...u) < 1);
});

dev('dropout is seeded, identical across backends, and the identity in eval mode', async () => {
  const x = wg.ones([1000]);
  const y = await wg.dropout(x, 0.5, { seed: 7 }).data();
  const yc = await wg.dropout(wg.ones([1000], { backend: 'cpu' }), 0.5, { seed: 7 }).data();
  assert.equal(Array.from(y), Array.from(yc));
  const kept = y.filter((v) => v !== 0).length;
  assert.ok(kept > 430 && kept < 570, `${kept} kept of 1000 at rate 0.5`);
  assert.ok(y.every((v) => v === 0 || v === 2));
  assert.equal(Array.from(await wg.dropout(x, 0.5, { seed: 7, training: false }).data()), Array.from(await x.data()));
  // The kernel takes four elements an invocation: lengths that end mid-word match the CPU mask element for element,
  // on outputs filled with NaN first (the pool hands the same buffer back), so an unwritten element fails.
  for (const n of [1, 2, 3, 5, 6, 7, 9, 1001, 70001]) {
    const values = Array.from({ length: n }, (_, i) => i - 3.5);
    wg.full([n], NaN).dispose();
    const got = await wg.dropout(wg.tensor(values), 0.3, { seed: 11 }).data();
    const want = await wg.dropout(wg.tensor(values, [n], { backend: 'cpu' }), 0.3, { seed: 11 }).data();
    // The same mask (no value is 0 before dropout); the kept values scaled in float32 on the GPU.
    assert.equal(Array.from(got, (v) => v === 0), Array.from(want, (v) => v === 0), `length ${n}: mask`);
    assertClose(got, want, { rtol: 1e-6, atol: 0 });
  }
});

dev('int32 tensors read back as Int32Array; argmax picks the first maximum', async () => {
  const i = wg.tensor([1, -2, 3], [3], { dtype: 'int32' });
  assert.instance(await i.data(), Int32Array);
  assert.equal(await wg.argmax(wg.tensor([[1, 5, 5], [7, 0, 7]]), 1).array(), [1, 0]);
});

dev('memory() counts live tensors, buffers and bytes', () => {
  const before = wg.memory();
  const t = wg.zeros([1000]);
  const after = wg.memory();
  assert.is(after.tensors, before.tensors + 1);
  assert.is(after.buffers, before.buffers + 1);
  assert.ok(after.bytes - before.bytes >= 4000);
  t.dispose();
});

dev('gridFor covers the work within 65535 workgroups per row and wastes less than a row', () => {
  for (const n of [1, 255, 256, 257, 65535 * 256, 65536 * 256, 16_777_216 + 1, 1e9]) {
    const [x, y] = gridFor(n, 256);
    const groups = Math.ceil(n / 256);
    assert.ok(x <= 65535 && x * y >= groups && x * y - groups < y, `n=${n}: ${x}x${y} for ${groups} groups`);
  }
});

dev('the texture matmul takes 16x16 tiles where they fit, and smaller ones where padding would cost more', () => {
  const tile = (m: number, n: number, transA = false, macs = Infinity) => Object.values(textureTile(m, n, transA, macs)).join('x');
  // A product under 2^20 multiply-adds keeps one sub-block, which compiles 3x faster: one head's Q·K, not 256.
  assert.equal([tile(49, 49, false, 49 * 49 * 160), tile(49, 49, false, 256 * 49 * 49 * 160)], ['7x1x1', '5x2x1']);
  // TM x RG rows by CJ x 8 columns: 1024 and the seed-1 dense layers 16x16; attention's 49 rows 2 x 5 (50, where
  // 2 x 8 would compute 64), by 8 columns of Q·Kᵀ's 49 (56, not 64) and 16 of P·V's 160; a single row 5 rows (the
  // fewest); N = 5 one column sub-block; TRANS_A keeps TM 8.
  assert.equal([tile(1024, 1024), tile(1568, 1280), tile(49, 49), tile(49, 160), tile(1, 1), tile(1568, 5), tile(9, 11, true)],
    ['8x2x2', '8x2x2', '5x2x1', '5x2x2', '5x1x1', '8x2x1', '8x2x2']);
});

dev('simplifyWalks merges dimensions contiguous on both sides and drops size-1 ones', () => {
  // A contiguous copy of [2,3,4] is one run of 24.
  assert.equal(simplifyWalks([2, 3, 4], { offset: 0, strides: [12, 4, 1] }, { offset: 0, strides: [12, 4, 1] }), { shape: [24], src: [1], dst: [1] });
  // Split heads [32,49,8,160] -> [32,8,49,160]: the head and batch axes stay apart, 160 stays inner.
  const heads = simplifyWalks([32, 8, 49, 160], { offset: 0, strides: [62720, 160, 1280, 1] }, { offset: 0, strides: [62720, 7840, 160, 1] });
  assert.equal(heads, { shape: [32, 8, 49, 160], src: [62720, 160, 1280, 1], dst: [62720, 7840, 160, 1] });
  // Size-1 axes vanish; an expand (stride 0) stays its own axis.
  assert.equal(simplifyWalks([1, 5, 1, 3], { offset: 0, strides: [0, 0, 3, 1] }, { offset: 0, strides: [15, 3, 3, 1] }), { shape: [5, 3], src: [0, 1], dst: [3, 1] });
});

dev.run();
