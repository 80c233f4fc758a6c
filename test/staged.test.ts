// Staged reads (src/ops/staged.ts): the memory-bound kernels' texture input path against the buffer path (bit for
// bit: the same arithmetic in the same order) and against the float64 CPU reference, on shapes large enough to be
// staged, with the texture's last row partly filled, a source read from an offset, the texture limits lowered, and
// int32 bit patterns that are NaNs, -0 and denormals as floats.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as wg from '../src/node.js';
import type { Tensor } from '../src/node.js';
import { setStagedReads } from '../src/device/choice.js';
import { textureLimitOverride } from '../src/device/test-hooks.js';
import { MIN_STAGED_WORDS } from '../src/ops/staged.js';
import { adamUpdate, sgdUpdate } from '../src/ops/optimizer-steps.js';
import type { Dispatch } from '../src/device/device.js';
import { assertClose, gpu, randomValues } from './helpers.js';

const staged = suite('staged reads: texture input vs buffer vs float64');
staged.before(async () => {
  await gpu();
});
staged.after.each(() => {
  setStagedReads(null);
  textureLimitOverride.value = null;
});

/** Runs fn on the GPU with staged reads on and off; returns both outputs and the dispatches of the staged run. */
async function both(fn: () => Tensor): Promise<{ on: Float32Array | Int32Array; off: Float32Array | Int32Array; dispatches: Dispatch[] }> {
  const device = wg.getDevice();
  const dispatches: Dispatch[] = [];
  const dispatch = device.dispatch;
  const out: (Float32Array | Int32Array)[] = [];
  try {
    for (const on of [true, false]) {
      setStagedReads(on);
      device.dispatch = (d) => {
        if (on) dispatches.push(d);
        dispatch.call(device, d);
      };
      const y = fn();
      out.push((await y.data()) as Float32Array | Int32Array);
      y.dispose();
    }
  } finally {
    device.dispatch = dispatch;
  }
  return { on: out[0], off: out[1], dispatches };
}

const stagedKernels = (ds: Dispatch[]): string[] => ds.filter((d) => (d.textures?.length ?? 0) > 0).map((d) => `${d.kernel}.${d.entryPoint}`);

function bitsEqual(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  assert.is(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) assert.unreachable(`${what}[${i}]: staged ${a[i]}, buffer ${b[i]}`);
}

/** The gradient of sum(softmax(x) * w) (log-softmax with `log`) for a fixed w, as a new tensor: the row kernels' backward. */
// The staged kernels of softmaxGrad: the forward, w times it, the sum, the sum's gradient times w, the backward.
const BACKWARD = ['softmax_rows.main_staged', 'binary.main_same_staged', 'reduce.main_along_staged', 'binary.main_same_staged', 'softmax_rows_backward.main_staged'];

function softmaxGrad(x: Tensor, log: boolean): Tensor {
  const w = wg.tensor(randomValues(x.size, 21), x.shape, { backend: x.backend });
  x.requiresGrad = true;
  x.grad = null;
  wg.sum(wg.mul(log ? wg.logSoftmax(x) : wg.softmax(x), w)).backward();
  const g = x.grad!;
  x.grad = null;
  x.requiresGrad = false;
  w.dispose();
  return g;
}

interface Case {
  name: string;
  shape: number[];
  op: (x: Tensor) => Tensor;
  /** The staged kernels it runs, in order. */
  kernel: string | string[];
  /** Values for the input (default: uniform in [-2, 2]). */
  values?: (n: number) => Float64Array;
  /** Absolute tolerance (default 1e-6): sums take sumTolerance(terms). */
  atol?: number;
}

/**
 * The absolute tolerance of a float32 sum of `terms` inputs in [-2, 2] against float64: each rounding errs by at
 * most 2^-24 of a value up to 2, and n of them drift like a random walk, about sqrt(n) * 2^-23; 16 times that.
 * Measured here: 2.4e-4 for 70,000 terms (1.0e-3 allowed), 1.2e-5 for 300 (6.6e-5), a mean of 1,280 4.9e-8 (1.1e-7).
 */
const sumTolerance = (terms: number): number => 16 * Math.sqrt(terms) * 2 ** -23;

// 7,350 to 4,194,304 words: all past MIN_STAGED_WORDS, most leaving the texture's last row partly filled.
const cases: Case[] = [
  { name: 'softmax [600,49]', shape: [600, 49], op: (x) => wg.softmax(x), kernel: 'softmax_rows.main_staged' },
  { name: 'logSoftmax [600,49]', shape: [600, 49], op: (x) => wg.logSoftmax(x), kernel: 'softmax_rows.main_staged' },
  // A row that holds -inf everywhere gives zeros; a NaN spreads over its row only.
  {
    name: 'softmax [401,60] with masked rows and a NaN',
    shape: [401, 60],
    op: (x) => wg.softmax(x),
    kernel: 'softmax_rows.main_staged',
    values: (n) => {
      const v = randomValues(n, 3);
      v.fill(-Infinity, 60 * 7, 60 * 8);
      v[60 * 200 + 13] = NaN;
      return v;
    },
  },
  { name: 'sum [70000]', shape: [70000], op: (x) => wg.sum(x), kernel: 'reduce.main_along_staged', atol: sumTolerance(70000) },
  { name: 'mean over the last axis [300,1280]', shape: [300, 1280], op: (x) => wg.mean(x, -1), kernel: 'reduce.main_along_staged', atol: sumTolerance(1280) / 1280 },
  { name: 'sum over axis 0 [300,64]', shape: [300, 64], op: (x) => wg.sum(x, 0), kernel: 'reduce.main_vec4_staged', atol: sumTolerance(300) },
  {
    name: 'max over the last axis [512,96] with a NaN',
    shape: [512, 96],
    op: (x) => wg.max(x, -1),
    kernel: 'reduce.main_along_staged',
    values: (n) => {
      const v = randomValues(n, 4);
      v[96 * 17 + 5] = NaN;
      return v;
    },
  },
  { name: 'min over axis 1 [20,300,8]', shape: [20, 300, 8], op: (x) => wg.min(x, 1), kernel: 'reduce.main_vec4_staged' },
  // Both operands staged (the input and exp or sigmoid of it, a second buffer), through arithmetic and a comparison.
  {
    name: 'binary sub [300,96], same shapes, with a NaN',
    shape: [300, 96],
    op: (x) => wg.sub(x, wg.exp(x)),
    kernel: ['unary.main_staged', 'binary.main_same_staged'],
    values: (n) => {
      const v = randomValues(n, 8);
      v[96 * 30 + 2] = NaN;
      return v;
    },
  },
  { name: 'binary greater [300,96], same shapes', shape: [300, 96], op: (x) => wg.greater(x, wg.sigmoid(x)), kernel: ['unary.main_staged', 'binary.main_same_staged'] },
  // The short-row softmax backward: y and dy from textures (the forward's output and a random upstream gradient).
  { name: 'softmax backward [600,49]', shape: [600, 49], op: (x) => softmaxGrad(x, false), kernel: BACKWARD },
  { name: 'logSoftmax backward [401,60]', shape: [401, 60], op: (x) => softmaxGrad(x, true), kernel: BACKWARD },
  // unary: a transcendental, and relu through a NaN and -0 (bit patterns kept), with a partly padded last word.
  { name: 'unary exp [301,97]', shape: [301, 97], op: (x) => wg.exp(x), kernel: 'unary.main_staged' },
  {
    name: 'unary relu [301,97] with a NaN and -0',
    shape: [301, 97],
    op: (x) => wg.relu(x),
    kernel: 'unary.main_staged',
    values: (n) => {
      const v = randomValues(n, 10);
      v[97 * 3] = NaN;
      v[97 * 4] = -0;
      return v;
    },
  },
  // One operand of the output's shape staged, the other one element read from its buffer, on either side; 29,197
  // elements, so the last word is partly padding.
  { name: 'binary mul [301,97] by a scalar', shape: [301, 97], op: (x) => wg.mul(x, 0.5), kernel: 'binary.main_scalar_staged' },
  { name: 'binary sub, a scalar minus [301,97]', shape: [301, 97], op: (x) => wg.sub(1, x), kernel: 'binary.main_scalar_staged' },
  {
    name: 'binary div, a [1,1] tensor over [301,97] with a NaN and zeros',
    shape: [301, 97],
    op: (x) => wg.div(wg.tensor([3], [1, 1], { backend: x.backend }), x),
    kernel: 'binary.main_scalar_staged',
    values: (n) => {
      const v = randomValues(n, 9);
      v[97 * 5 + 1] = NaN;
      v[97 * 6 + 2] = 0;
      return v;
    },
  },
  { name: 'binary lessEqual [301,97] against a scalar', shape: [301, 97], op: (x) => wg.lessEqual(x, 0.25), kernel: 'binary.main_scalar_staged' },
  { name: 'split heads [4,49,8,160]', shape: [4, 49, 8, 160], op: (x) => wg.permute(x, [0, 2, 1, 3]), kernel: 'copy_rows.main_vec4_staged' },
  // Columns 256 .. 767 of each row: the walk starts 64 words into the buffer.
  { name: 'slice [64,1024] columns 256..767', shape: [64, 1024], op: (x) => wg.slice(x, [0, 256], [64, 512]), kernel: 'copy_rows.main_vec4_staged' },
];

for (const c of cases) {
  staged(c.name, async () => {
    const n = c.shape.reduce((a, b) => a * b, 1);
    const values = c.values?.(n) ?? randomValues(n, 1);
    const x = wg.tensor(values, c.shape, { backend: 'webgpu' });
    const ref = c.op(wg.tensor(values, c.shape, { backend: 'cpu' }));
    try {
      const { on, off, dispatches } = await both(() => c.op(x));
      assert.equal(stagedKernels(dispatches), typeof c.kernel === 'string' ? [c.kernel] : c.kernel);
      bitsEqual(on, off, c.name);
      assertClose(on, (await ref.data()) as Float64Array, { rtol: 1e-5, atol: c.atol ?? 1e-6 }, c.name);
    } finally {
      x.dispose();
      ref.dispose();
    }
  });
}

// The optimizer updates, in place on a parameter of 70,001 elements (17,501 words, the last partial) with moments
// or a velocity that are already non-zero, the gradient scaled by 0.5 as a global-norm clip would.
const updates: { name: string; slots: number; kernel: string; run: (t: Tensor[]) => void }[] = [
  { name: 'adam', slots: 2, kernel: 'adam.main_staged', run: ([w, m, v, g, s]) => adamUpdate(w, m, v, g, s, { alpha: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, decay: 0 }) },
  { name: 'adamW (decay)', slots: 2, kernel: 'adam.main_staged', run: ([w, m, v, g, s]) => adamUpdate(w, m, v, g, s, { alpha: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, decay: 4e-5 }) },
  { name: 'sgd', slots: 0, kernel: 'sgd.main_staged', run: ([w, g, s]) => sgdUpdate(w, null, g, s, { lr: 0.1, momentum: 0, nesterov: false }) },
  { name: 'sgd momentum', slots: 1, kernel: 'sgd.main_staged', run: ([w, u, g, s]) => sgdUpdate(w, u, g, s, { lr: 0.1, momentum: 0.9, nesterov: false }) },
  { name: 'sgd nesterov', slots: 1, kernel: 'sgd.main_staged', run: ([w, u, g, s]) => sgdUpdate(w, u, g, s, { lr: 0.1, momentum: 0.9, nesterov: true }) },
];

for (const u of updates) {
  staged(`${u.name} update [70001]`, async () => {
    const n = 70001;
    // param, then the slots (a second moment must be positive), then the gradient.
    const values = [randomValues(n, 11), ...Array.from({ length: u.slots }, (_, k) => (u.name.startsWith('adam') && k === 1 ? randomValues(n, 12 + k).map((x) => x * x + 0.01) : randomValues(n, 12 + k))), randomValues(n, 20)];
    const apply = (backend: 'cpu' | 'webgpu'): Tensor[] => {
      const ts = [...values.map((v) => wg.tensor(v, [n], { backend })), wg.tensor([0.5], [1], { backend })];
      u.run(ts);
      return ts;
    };
    const ref = apply('cpu');
    const device = wg.getDevice();
    const dispatch = device.dispatch;
    const seen: Dispatch[] = [];
    const out: Float32Array[][] = [];
    try {
      for (const on of [true, false]) {
        setStagedReads(on);
        device.dispatch = (d) => {
          if (on) seen.push(d);
          dispatch.call(device, d);
        };
        const ts = apply('webgpu');
        out.push(await Promise.all(ts.slice(0, 1 + u.slots).map(async (t) => (await t.data()) as Float32Array)));
        ts.forEach((t) => t.dispose());
      }
    } finally {
      device.dispatch = dispatch;
    }
    assert.equal(stagedKernels(seen), [u.kernel]);
    for (let k = 0; k <= u.slots; k++) {
      bitsEqual(out[0][k], out[1][k], `${u.name} output ${k}`);
      assertClose(out[0][k], (await ref[k].data()) as Float64Array, { rtol: 1e-5, atol: 1e-6 }, `${u.name} output ${k}`);
    }
    ref.forEach((t) => t.dispose());
  });
}

staged('int32 bit patterns (NaNs, -0, denormals as floats) pass a staged permute unchanged', async () => {
  const shape = [2, 49, 8, 160];
  const n = shape.reduce((a, b) => a * b, 1);
  const patterns = [0x7fc00001, 0x7f800001, -1, -2147483648, 1, 0x007fffff, -8388607, 0x7f800000, 123456789];
  const values = Array.from({ length: n }, (_, i) => patterns[i % patterns.length] ^ (i & 0xff0));
  const x = wg.tensor(values, shape, { dtype: 'int32', backend: 'webgpu' });
  try {
    const { on, off, dispatches } = await both(() => wg.permute(x, [0, 2, 1, 3]));
    assert.equal(stagedKernels(dispatches), ['copy_rows.main_vec4_staged']);
    bitsEqual(on, off, 'int32 permute');
    const [b, t, h, d] = shape;
    for (let i = 0; i < n; i++) {
      const dd = i % d, tt = Math.floor(i / d) % t, hh = Math.floor(i / (d * t)) % h, bb = Math.floor(i / (d * t * h));
      if (on[i] !== values[((bb * t + tt) * h + hh) * d + dd]) assert.unreachable(`element ${i}: ${on[i]}`);
    }
  } finally {
    x.dispose();
  }
});

staged(`inputs under ${MIN_STAGED_WORDS} words read the buffer`, async () => {
  const x = wg.rand([Math.floor((MIN_STAGED_WORDS * 4) / 49) - 1, 49], { seed: 2, backend: 'webgpu' });
  try {
    const { on, off, dispatches } = await both(() => wg.softmax(x));
    assert.equal(stagedKernels(dispatches), []);
    bitsEqual(on, off, 'small softmax');
  } finally {
    x.dispose();
  }
});

staged('the texture limits: wider rows, then the buffer; narrower rows under a small limit', async () => {
  // 4,194,304 words: 2048 rows of 2048 texels at a 2048 limit (rows of 1024 would need 4096); at 1024 they cannot
  // fit, and the buffer is read.
  const x = wg.rand([16777216], { seed: 5, backend: 'webgpu' });
  try {
    const whole = await both(() => wg.sum(x));
    for (const [maxDim, kernels] of [[2048, ['reduce.main_along_staged']], [1024, []]] as const) {
      textureLimitOverride.value = { maxDim, maxLayers: 256 };
      const { on, dispatches } = await both(() => wg.sum(x));
      assert.equal(stagedKernels(dispatches), kernels, `limit ${maxDim}`);
      bitsEqual(on, whole.off, `sum at limit ${maxDim}`);
    }
    const first = whole.dispatches.find((d) => (d.textures?.length ?? 0) > 0);
    assert.is(first?.textures?.[0].width, 1024);
  } finally {
    x.dispose();
  }
  // Under a limit below 1024 the rows narrow to it: 17,500 words in 69 rows of 256.
  const y = wg.rand([70000], { seed: 6, backend: 'webgpu' });
  try {
    const whole = await both(() => wg.sum(y));
    textureLimitOverride.value = { maxDim: 256, maxLayers: 256 };
    const { on, dispatches } = await both(() => wg.sum(y));
    const texture = dispatches.find((d) => (d.textures?.length ?? 0) > 0)?.textures?.[0];
    assert.equal([texture?.width, texture?.height], [256, 69]);
    bitsEqual(on, whole.off, 'sum at limit 256');
  } finally {
    y.dispose();
  }
});

staged.run();
