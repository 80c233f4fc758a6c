// The op cases that every adapter must get right: each op family's forward and backward, on the WebGPU backend,
// against the float64 CPU reference on the same f32-rounded inputs. parity.test.ts runs them in Node (under every
// matmul variant); test/browser/ runs them in headless Chromium. This module imports only the core.
// Tolerances: f32 has a 6e-8 unit roundoff; elementwise ops and softmax stay within a few ulps (rtol 1e-4 leaves
// room for exp/log/erf approximations in WGSL). Sums and matmuls accumulate one rounding per term, so their error
// grows with the reduced length: atol is scaled by sqrt(length) times the output's magnitude.
import * as wg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { env } from '../../src/platform/host.js';
import { assertClose, disposeAll, makeInputs, maxAbs, type InputSpec } from './check.js';

export interface Case {
  name: string;
  inputs: InputSpec[];
  fn: (...xs: Tensor[]) => Tensor;
  /** Reduction length that sets the accumulation tolerance (1 for elementwise). */
  reduce?: number;
  rtol?: number;
}

const SIZES = [1, 3, 7, 33, 257, 1025];
export const cases: Case[] = [];

const unaryOps: [string, (x: Tensor) => Tensor, Partial<InputSpec>][] = [
  ['neg', wg.neg, {}],
  ['exp', wg.exp, {}],
  ['log', wg.log, { low: 0.05, high: 4 }],
  ['sqrt', wg.sqrt, { low: 0.05, high: 4 }],
  ['abs', wg.abs, { avoid: 0 }],
  ['relu', wg.relu, { avoid: 0 }],
  ['gelu', wg.gelu, { low: -5, high: 5 }],
  ['tanh', wg.tanh, { low: -6, high: 6 }],
  ['sigmoid', wg.sigmoid, { low: -8, high: 8 }],
  ['pow2', (x) => wg.pow(x, 2), {}],
  ['pow3', (x) => wg.pow(x, 3), {}],
  ['pow1.5', (x) => wg.pow(x, 1.5), { low: 0.1, high: 3 }],
  ['square', wg.square, {}],
  ['reciprocal', wg.reciprocal, { low: 0.3, high: 3 }],
];
for (const n of SIZES) {
  for (const [name, fn, spec] of unaryOps) cases.push({ name: `${name} [${n}]`, inputs: [{ shape: [n], ...spec }], fn });
}

const binaryOps: [string, (a: Tensor, b: Tensor) => Tensor, Partial<InputSpec>][] = [
  ['add', wg.add, {}],
  ['sub', wg.sub, {}],
  ['mul', wg.mul, {}],
  ['div', wg.div, { low: 0.5, high: 2 }],
  ['maximum', wg.maximum, {}],
  ['minimum', wg.minimum, {}],
];
// Broadcasting in every position: trailing, leading, middle, both sides, scalars, and rank differences.
const broadcastPairs: [number[], number[]][] = [
  [[1025], [1025]],
  [[7, 33], [33]],
  [[7, 33], [7, 1]],
  [[3, 1, 5], [1, 4, 1]],
  [[1], [257]],
  [[], [3, 7]],
  [[2, 3, 4, 5], [3, 1, 5]],
  [[33, 7], [1, 7]],
  // An inner dimension of a multiple of 4 (binary.wgsl's VEC_INNER): a row spread over rows, a column spread along
  // rows (B_SPLAT, A_SPLAT), both operands broadcast outside it, and an operand times a scalar (a merged walk of rank 1).
  [[6, 8], [8]],
  [[5, 12], [5, 1]],
  [[5, 1], [5, 12]],
  [[2, 1, 8], [1, 3, 8]],
  [[3, 4], [1]],
];
for (const [name, fn, spec] of binaryOps) {
  for (const [sa, sb] of broadcastPairs) {
    cases.push({ name: `${name} ${JSON.stringify(sa)}x${JSON.stringify(sb)}`, inputs: [{ shape: sa }, { shape: sb, ...spec }], fn });
  }
}
cases.push({ name: 'add scalar number', inputs: [{ shape: [7, 3] }], fn: (a) => wg.add(wg.mul(a, 3), 1.5) });
cases.push({ name: 'rsub/rdiv numbers', inputs: [{ shape: [33], low: 0.5, high: 2 }], fn: (a) => wg.div(1, wg.sub(4, a)) });
cases.push({
  name: 'comparisons',
  inputs: [{ shape: [7, 5] }, { shape: [5] }],
  fn: (a, b) => wg.add(wg.add(wg.greater(a, b), wg.less(a, b)), wg.add(wg.lessEqual(a, 0), wg.equal(a, a))),
});
cases.push({
  name: 'where broadcast',
  inputs: [{ shape: [4, 1], constant: true, values: [1, 0, 0, 1] }, { shape: [4, 6] }, { shape: [6] }],
  fn: (c, a, b) => wg.where(c, a, b),
});
// Inner dimensions of whole vec4 words take where.wgsl's VEC_INNER walk: a padding mask over attention scores beside
// a row broadcast along the outer dimensions, and a condition and an operand broadcast along the inner one (splats).
// Rows of 8 words or more (and up to 3 outer dimensions) go on the grid (main_rows): 15 rows of 10 words leave the
// last workgroup's rows and each row's last lanes part full.
const paddingMask = (cols: number) => Array.from({ length: 2 * cols }, (_, i) => (i % cols < (i < cols ? cols - 3 : 5) ? 1 : 0));
for (const cols of [8, 40]) {
  cases.push({
    name: `where padding mask [2,1,1,${cols}] over [2,3,5,${cols}] (vec4 words${cols >= 32 ? ', rows on the grid' : ''})`,
    inputs: [{ shape: [2, 1, 1, cols], constant: true, values: paddingMask(cols) }, { shape: [2, 3, 5, cols] }, { shape: [cols] }],
    fn: (c, a, b) => wg.where(c, a, b),
  });
}
for (const cols of [4, 8]) {
  cases.push({
    name: `where condition and operand splat along vec4 words [2,3,4,${cols}]${cols === 8 ? ' (rows on the grid)' : ''}`,
    inputs: [{ shape: [2, 3, 1, 1], constant: true, values: [1, 0, 0, 1, 1, 0] }, { shape: [1] }, { shape: [2, 3, 4, cols] }],
    fn: (c, a, b) => wg.where(c, a, b),
  });
}

for (const n of SIZES) {
  cases.push({ name: `sum all [${n}]`, inputs: [{ shape: [n] }], fn: (x) => wg.sum(x), reduce: n });
  cases.push({ name: `mean/max rows [3,${n}]`, inputs: [{ shape: [3, n] }], fn: (x) => wg.add(wg.mean(x, 1), wg.max(x, -1)), reduce: n });
}
cases.push({ name: 'sum axis 0 keepdims [257,7]', inputs: [{ shape: [257, 7] }], fn: (x) => wg.sum(x, 0, true), reduce: 257 });
cases.push({ name: 'sum axes [0,2] (non-adjacent)', inputs: [{ shape: [5, 3, 7, 2] }], fn: (x) => wg.sum(x, [0, 2]), reduce: 35 });
cases.push({ name: 'min middle axis', inputs: [{ shape: [4, 33, 3] }], fn: (x) => wg.min(x, 1) });
// kernels/reduce.wgsl's word paths: along R (inner 1, R % 4 = 0; split in chunks of 2048 floats past 4096
// outputs' worth) and along inner (inner % 4 = 0).
cases.push({ name: 'sum 8200 (words along R, split)', inputs: [{ shape: [8200] }], fn: (x) => wg.sum(x), reduce: 8200 });
cases.push({ name: 'max/mean rows [3,36] (words along R)', inputs: [{ shape: [3, 36] }], fn: (x) => wg.add(wg.max(x, 1), wg.mean(x, -1)), reduce: 36 });
cases.push({ name: 'min/sum axis 1 [2,9,12] (words along inner)', inputs: [{ shape: [2, 9, 12] }], fn: (x) => wg.add(wg.min(x, 1), wg.sum(x, 1)), reduce: 9 });
cases.push({ name: 'sum axis 0 [300,8] (words along inner, split)', inputs: [{ shape: [300, 8] }], fn: (x) => wg.sum(x, 0), reduce: 300 });
cases.push({ name: 'sum 70000 (split)', inputs: [{ shape: [70000] }], fn: (x) => wg.sum(x), reduce: 70000 });
cases.push({ name: 'logsumexp', inputs: [{ shape: [7, 33], low: -30, high: 30 }], fn: (x) => wg.logsumexp(x, -1), reduce: 33 });
cases.push({ name: 'logsumexp all keepdims', inputs: [{ shape: [3, 5] }], fn: (x) => wg.logsumexp(x, undefined, true), reduce: 15 });

// 61 is the longest row of the vec4 kernels (softmax_rows*), 62 the shortest of the lane-per-row path.
for (const n of [1, 3, 7, 49, 61, 62, 257, 1025]) {
  cases.push({ name: `softmax [5,${n}]`, inputs: [{ shape: [5, n], low: -10, high: 10 }], fn: (x) => wg.softmax(x) });
  cases.push({ name: `logSoftmax [5,${n}]`, inputs: [{ shape: [5, n], low: -10, high: 10 }], fn: (x) => wg.logSoftmax(x), reduce: n });
}
cases.push({ name: 'softmax [130,13] (rows over two workgroups, every alignment)', inputs: [{ shape: [130, 13], low: -10, high: 10 }], fn: (x) => wg.softmax(x) });
cases.push({ name: 'softmax axis 1 of 3-D', inputs: [{ shape: [2, 7, 3] }], fn: (x) => wg.softmax(x, 1) });
cases.push({ name: 'softmax large logits', inputs: [{ shape: [3, 10], low: 5000, high: 10000 }], fn: (x) => wg.softmax(x), rtol: 1e-3 });

export const mm = (ta = false, tb = false) => (a: Tensor, b: Tensor) => wg.matmul(a, b, { transposeA: ta, transposeB: tb });
const matmulShapes: [number[], number[], boolean, boolean][] = [
  [[1, 1], [1, 1], false, false],
  [[3, 7], [7, 5], false, false],
  [[33, 17], [17, 35], false, false],
  [[7, 33], [7, 9], true, false],
  [[33, 7], [9, 7], false, true],
  [[7, 33], [9, 7], true, true],
  [[65, 257], [257, 70], false, false],
  [[2, 3, 5, 7], [7, 4], false, false],
  [[4, 1, 5, 7], [3, 7, 6], false, false],
  [[2, 1, 5, 7], [1, 3, 7, 6], false, false],
  [[3, 49, 20], [3, 49, 20], false, true],
  // The texture kernel's rows per invocation follow M: 8 for 16, 6 for 18, 7 for 49, 5 for 65.
  [[16, 9], [9, 11], false, false],
  [[9, 16], [9, 11], true, false],
  [[2, 9, 16], [2, 11, 9], true, true],
  [[2, 18, 20], [2, 20, 9], false, false],
  [[1025, 3], [3, 2], false, false],
  [[2, 1025], [1025, 2], false, false],
  // Rows a multiple of 64 floats: the texture variant copies these operands in place, without packing.
  [[3, 70, 64], [64, 128], false, false],
  [[2, 5, 128], [2, 128, 64], false, false],
  // Rows a multiple of 4 floats are stacked several to a texture row; B's stack runs along K = 13, so the kernel must
  // zero the rows past it, which belong to the next batch.
  [[3, 9, 13], [3, 13, 20], false, false],
  [[3, 9, 20], [3, 11, 20], false, true],
  // B's rows of N % 4 != 0 floats go in flat (B_FLAT) when M <= 128, each row shifted into place by (k*N) % 4: N % 4
  // = 3 and 2 here ([2,18,20]x[2,20,9] above has 1, and [16,9]x[9,11] a shared B), K = 10 with a K tail (the test
  // below checks that the rows past K are zeroed, which finite inputs cannot show).
  [[3, 10, 12], [3, 12, 7], false, false],
  [[2, 7, 10], [2, 10, 6], false, false],
  // Enough blocks for a grid by position of several workgroup rows, which runs rows first (COL_MAJOR), with a tail
  // in rows and in columns.
  [[200, 36], [36, 250], false, false],
  [[200, 36], [250, 36], false, true],
  // Attention's shapes in small: weights [40,40] by heads [40,4], and heads by heads transposed. B's gradient then
  // reads the large operand transposed, and the texture variants take the transpose of the other product instead
  // (bGradient in src/ops/matmul/index.ts).
  [[2, 40, 40], [2, 40, 4], false, false],
  [[2, 40, 4], [2, 40, 4], false, true],
];
for (const [sa, sb, ta, tb] of matmulShapes) {
  const k = ta ? sa[sa.length - 2] : sa[sa.length - 1];
  cases.push({ name: `matmul ${JSON.stringify(sa)}${ta ? 'T' : ''}x${JSON.stringify(sb)}${tb ? 'T' : ''}`, inputs: [{ shape: sa }, { shape: sb }], fn: mm(ta, tb), reduce: k });
}
for (const act of ['none', 'relu', 'gelu'] as const) {
  cases.push({
    name: `dense ${act}`,
    inputs: [{ shape: [2, 9, 33] }, { shape: [33, 17] }, { shape: [17] }],
    fn: (x, w, b) => wg.dense(x, w, b, act),
    reduce: 33,
  });
}
cases.push({ name: 'dense no bias', inputs: [{ shape: [5, 7] }, { shape: [7, 3] }], fn: (x, w) => wg.dense(x, w, null, 'relu'), reduce: 7 });

cases.push({ name: 'reshape+permute', inputs: [{ shape: [2, 3, 4, 5] }], fn: (x) => wg.permute(wg.reshape(x, [6, 4, 5]), [2, 0, 1]) });
cases.push({ name: 'split heads [2,49,8,20]', inputs: [{ shape: [2, 49, 160] }], fn: (x) => wg.transpose(wg.reshape(x, [2, 49, 8, 20]), 1, 2) });
// Copies whose outer dimensions fit the grid (at most 3 after merging) go through copy_rows.wgsl, 8 rows a
// workgroup along the dimension with the smallest source stride, in vec4 words (the split heads at d = 160) or
// 32-bit words (a strided inner run); 4 outer dimensions, or rows over 64 words a lane, through copy_strided.wgsl.
cases.push({ name: 'split heads [2,49,8,160] (rows, vec4)', inputs: [{ shape: [2, 49, 1280] }], fn: (x) => wg.transpose(wg.reshape(x, [2, 49, 8, 160]), 1, 2) });
cases.push({ name: 'merge heads [2,8,49,160] (rows, vec4; 49 runs along x, a last workgroup of 1)', inputs: [{ shape: [2, 8, 49, 160] }], fn: (x) => wg.reshape(wg.transpose(x, 1, 2), [2, 49, 1280]) });
cases.push({ name: 'transpose [3,20,12] (rows, strided inner)', inputs: [{ shape: [3, 20, 12] }], fn: (x) => wg.transpose(x) });
cases.push({ name: 'permute [2,3,2,3,9] (4 outer dimensions)', inputs: [{ shape: [2, 3, 2, 3, 9] }], fn: (x) => wg.permute(x, [3, 2, 1, 0, 4]) });
cases.push({ name: 'slice [3,1100] (a long row)', inputs: [{ shape: [3, 1100] }], fn: (x) => wg.slice(x, [0, 50], [3, 1050]) });
// Rows of 64 vec4 words and of 70 strided words: wide enough for the 64 lanes that GPUs run copy_rows.wgsl with.
cases.push({ name: 'split heads [2,5,3,256] (wide rows, vec4)', inputs: [{ shape: [2, 5, 768] }], fn: (x) => wg.transpose(wg.reshape(x, [2, 5, 3, 256]), 1, 2) });
cases.push({ name: 'transpose [3,70,12] (wide rows, strided inner)', inputs: [{ shape: [3, 70, 12] }], fn: (x) => wg.transpose(x) });
cases.push({ name: 'slice', inputs: [{ shape: [7, 33] }], fn: (x) => wg.slice(x, [2, 5], [3, -1]) });
cases.push({ name: 'concat axis 1', inputs: [{ shape: [3, 2] }, { shape: [3, 5] }, { shape: [3, 1] }], fn: (a, b, c) => wg.concat([a, b, c], 1) });
cases.push({ name: 'expand', inputs: [{ shape: [3, 1] }], fn: (x) => wg.expand(x, [2, 3, 4]) });
cases.push({
  name: 'gather with repeats',
  inputs: [{ shape: [11, 6] }, { shape: [2, 7], dtype: 'int32', constant: true, values: [0, 3, 3, 10, 2, 3, 0, 5, 5, 5, 1, 10, 0, 4] }],
  fn: (t, i) => wg.gather(t, i),
});
// Rows of whole vec4 words (D % 4 == 0) take gather's and scatter_add's main_vec4 entry points.
cases.push({
  name: 'gather with repeats, rows of vec4 words',
  inputs: [{ shape: [11, 8] }, { shape: [3, 5], dtype: 'int32', constant: true, values: [10, 0, 3, 3, 7, 2, 10, 10, 1, 0, 4, 3, 9, 5, 10] }],
  fn: (t, i) => wg.gather(t, i),
});
cases.push({ name: 'dropout seeded', inputs: [{ shape: [1025] }], fn: (x) => wg.dropout(x, 0.3, { seed: 42 }) });

export function runCase(c: Case, variant: wg.MatmulVariant | null): () => Promise<void> {
  return async () => {
    const t0 = performance.now();
    wg.setMatmulVariant(variant);
    const { cpu, gpu: g } = makeInputs(c.inputs, 7);
    const yc = c.fn(...cpu);
    const yg = c.fn(...g);
    const ref = await yc.data();
    const scale = Math.max(1, maxAbs(ref));
    const atol = 1e-5 * scale * Math.sqrt(c.reduce ?? 1);
    assertClose(await yg.data(), ref, { rtol: c.rtol ?? 1e-4, atol }, `${c.name} forward`);
    if (yc.requiresGrad) {
      // The same random upstream gradient on both backends.
      const up = makeInputs([{ shape: [...yc.shape] }], 99);
      yc.backward(up.cpu[0]);
      yg.backward(up.gpu[0]);
      for (let i = 0; i < cpu.length; i++) {
        if (!cpu[i].requiresGrad) continue;
        const gref = await cpu[i].grad!.data();
        const gs = Math.max(1, maxAbs(gref));
        // Gradients of reductions and matmuls sum over the other operand's extent too.
        const len = Math.max(c.reduce ?? 1, ...yc.shape);
        assertClose(await g[i].grad!.data(), gref, { rtol: c.rtol ?? 1e-4, atol: 1e-5 * gs * Math.sqrt(len) }, `${c.name} grad of input ${i}`);
      }
      disposeAll([...up.cpu, ...up.gpu]);
    }
    disposeAll([...cpu, ...g, yc, yg]);
    wg.setMatmulVariant(null);
    if (env('WGRAD_TEST_TIMES')) console.log(`${(performance.now() - t0).toFixed(0)}ms @${performance.now().toFixed(0)} ${c.name} ${variant ?? ''}`);
  };
}


/**
 * The parity runs for the browser suite. SwiftShader runs compute about 50x slower than llvmpipe: the cases up to
 * about 2,000 elements an input cover every family (elementwise, broadcasting, reductions, softmax, matmul and dense,
 * copies, gather, dropout) without the long ones (a 70,000-element sum, 1025-long softmax rows) that only add time.
 * Matmul and dense run under every variant. browser-entry.ts runs them; browser.test.ts names them.
 */
export function browserParityRuns(): { name: string; run: () => Promise<void> }[] {
  const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);
  return cases
    .filter((c) => c.inputs.every((i) => size(i.shape) <= 2100))
    .flatMap((c) =>
      /^(matmul|dense)/.test(c.name)
        ? wg.MATMUL_VARIANTS.map((v) => ({ name: `parity: ${c.name} (${v})`, run: runCase(c, v) }))
        : [{ name: `parity: ${c.name}`, run: runCase(c, null) }],
    );
}
