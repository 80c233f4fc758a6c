// Every differentiable op against central differences on the float64 CPU backend, with torch.autograd.gradcheck's
// tolerances (eps 1e-6, atol 1e-5, rtol 1e-3). Inputs are kept away from kinks (relu, abs, max ties) by more than eps.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as wg from '../src/node.js';
import type { Tensor } from '../src/node.js';
import { cpuInputs, type InputSpec } from './helpers.js';

interface Case {
  name: string;
  inputs: InputSpec[];
  fn: (...xs: Tensor[]) => Tensor;
}

const cases: Case[] = [];
const un: [string, (x: Tensor) => Tensor, Partial<InputSpec>][] = [
  ['neg', wg.neg, {}],
  ['exp', wg.exp, {}],
  ['log', wg.log, { low: 0.2, high: 3 }],
  ['sqrt', wg.sqrt, { low: 0.2, high: 3 }],
  ['abs', wg.abs, { avoid: 0 }],
  ['relu', wg.relu, { avoid: 0 }],
  ['gelu', wg.gelu, { low: -4, high: 4 }],
  ['tanh', wg.tanh, {}],
  ['sigmoid', wg.sigmoid, {}],
  ['pow 3', (x) => wg.pow(x, 3), {}],
  ['pow -1.5', (x) => wg.pow(x, -1.5), { low: 0.3, high: 3 }],
  ['square', wg.square, {}],
  ['reciprocal', wg.reciprocal, { low: 0.3, high: 3 }],
];
for (const [name, fn, spec] of un) {
  for (const n of [1, 7]) cases.push({ name: `${name} [${n}]`, inputs: [{ shape: [n], ...spec }], fn });
}
const bin: [string, (a: Tensor, b: Tensor) => Tensor, Partial<InputSpec>][] = [
  ['add', wg.add, {}],
  ['sub', wg.sub, {}],
  ['mul', wg.mul, {}],
  ['div', wg.div, { low: 0.5, high: 2 }],
  ['maximum', wg.maximum, {}],
  ['minimum', wg.minimum, {}],
];
for (const [name, fn, spec] of bin) {
  for (const [sa, sb] of [[[3, 4], [3, 4]], [[3, 1, 4], [5, 1]], [[], [3, 2]], [[2, 3], [3]]] as number[][][]) {
    cases.push({ name: `${name} ${JSON.stringify(sa)}x${JSON.stringify(sb)}`, inputs: [{ shape: sa }, { shape: sb, ...spec }], fn });
  }
}
cases.push({ name: 'number operands', inputs: [{ shape: [5], low: 0.5, high: 2 }], fn: (a) => wg.div(2, wg.sub(wg.mul(a, 3), 7)) });
cases.push({
  name: 'where',
  inputs: [{ shape: [3, 1], constant: true, values: [1, 0, 1] }, { shape: [3, 4] }, { shape: [4] }],
  fn: (c, a, b) => wg.where(c, a, b),
});
cases.push({ name: 'sum axes [0,2]', inputs: [{ shape: [2, 3, 4] }], fn: (x) => wg.sum(x, [0, 2]) });
cases.push({ name: 'sum all keepdims', inputs: [{ shape: [3, 4] }], fn: (x) => wg.sum(x, undefined, true) });
cases.push({ name: 'mean axis -1', inputs: [{ shape: [3, 5] }], fn: (x) => wg.mean(x, -1) });
cases.push({ name: 'max axis 1', inputs: [{ shape: [3, 5, 2] }], fn: (x) => wg.max(x, 1) });
cases.push({ name: 'min all', inputs: [{ shape: [7] }], fn: (x) => wg.min(x) });
cases.push({ name: 'logsumexp', inputs: [{ shape: [3, 5], low: -20, high: 20 }], fn: (x) => wg.logsumexp(x, 1) });
cases.push({ name: 'softmax last', inputs: [{ shape: [3, 5] }], fn: (x) => wg.softmax(x) });
cases.push({ name: 'softmax axis 0', inputs: [{ shape: [4, 3] }], fn: (x) => wg.softmax(x, 0) });
cases.push({ name: 'logSoftmax', inputs: [{ shape: [2, 7] }], fn: (x) => wg.logSoftmax(x) });
for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
  cases.push({
    name: `matmul transA=${ta} transB=${tb}`,
    inputs: [{ shape: ta ? [4, 3] : [3, 4] }, { shape: tb ? [5, 4] : [4, 5] }],
    fn: (a, b) => wg.matmul(a, b, { transposeA: ta, transposeB: tb }),
  });
}
cases.push({ name: 'matmul batched broadcast', inputs: [{ shape: [2, 1, 3, 4] }, { shape: [3, 4, 2] }], fn: (a, b) => wg.matmul(a, b) });
cases.push({ name: 'matmul batch [2,1]x[1,3]', inputs: [{ shape: [2, 1, 2, 3] }, { shape: [1, 3, 3, 2] }], fn: (a, b) => wg.matmul(a, b) });
for (const act of ['none', 'relu', 'gelu'] as const) {
  cases.push({
    name: `dense ${act}`,
    inputs: [{ shape: [2, 3, 4], avoid: 0 }, { shape: [4, 3] }, { shape: [3] }],
    fn: (x, w, b) => wg.dense(x, w, b, act),
  });
}
cases.push({ name: 'reshape', inputs: [{ shape: [2, 6] }], fn: (x) => wg.square(wg.reshape(x, [3, -1])) });
cases.push({ name: 'permute', inputs: [{ shape: [2, 3, 4] }], fn: (x) => wg.permute(x, [2, 0, 1]) });
cases.push({ name: 'transpose', inputs: [{ shape: [3, 4] }], fn: (x) => wg.transpose(x) });
cases.push({ name: 'slice', inputs: [{ shape: [4, 5] }], fn: (x) => wg.slice(x, [1, 2], [2, 3]) });
cases.push({ name: 'concat', inputs: [{ shape: [2, 3] }, { shape: [1, 3] }], fn: (a, b) => wg.concat([a, b], 0) });
cases.push({ name: 'expand', inputs: [{ shape: [3, 1] }], fn: (x) => wg.expand(x, [2, 3, 4]) });
cases.push({ name: 'squeeze/unsqueeze', inputs: [{ shape: [3, 1] }], fn: (x) => wg.unsqueeze(wg.squeeze(x), 0) });
cases.push({
  name: 'gather',
  inputs: [{ shape: [5, 3] }, { shape: [4], dtype: 'int32', constant: true, values: [4, 0, 4, 2] }],
  fn: (t, i) => wg.gather(t, i),
});
cases.push({ name: 'dropout (seeded)', inputs: [{ shape: [20] }], fn: (x) => wg.dropout(x, 0.4, { seed: 3 }) });
cases.push({
  name: 'composite: attention-like',
  inputs: [{ shape: [2, 3, 4] }, { shape: [2, 3, 4] }, { shape: [2, 3, 4] }],
  fn: (q, k, v) => wg.matmul(wg.softmax(wg.mul(wg.matmul(q, k, { transposeB: true }), 0.5)), v),
});

const gc = suite('gradcheck on the float64 CPU backend');
gc.before(async () => {
  await wg.init({ backend: 'cpu', log: false });
});
for (const c of cases) {
  gc(c.name, async () => {
    const cpu = cpuInputs(c.inputs, 11);
    const report = await wg.gradcheck(c.fn, cpu);
    assert.ok(report.ok);
    assert.ok(report.checked > 0, 'some elements were checked');
    for (const t of cpu) t.dispose();
  });
}

gc('gradcheck reports a wrong gradient with input, index and both values', async () => {
  const x = wg.tensor([0.5, 1.5], [2], { backend: 'cpu', requiresGrad: true });
  // relu's forward with exp's gradient: a deliberately wrong rule, built from a detached trick.
  const wrong = (t: Tensor) => wg.add(wg.detach(wg.sub(wg.relu(t), wg.exp(t))), wg.exp(t));
  const report = await wg.gradcheck(wrong, [x], { raise: false });
  assert.not.ok(report.ok);
  assert.is(report.failures[0].input, 0);
  assert.is(report.failures[0].index, 0);
  assert.ok(Math.abs(report.failures[0].analytic - 0) > 0.1);
  try {
    await wg.gradcheck(wrong, [x]);
    assert.unreachable('should throw');
  } catch (err) {
    assert.instance(err, wg.AutogradError);
    assert.match((err as Error).message, /input 0 index 0: analytic .* vs numeric/);
  }
});

gc.run();
