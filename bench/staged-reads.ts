// Whether the memory-bound kernels should read their input from a staged texture (src/ops/staged.ts) on this
// adapter: each case timed with staged reads on and off, in turn (timeInTurn), in one process, and the results
// checked equal. The cases are the bench's softmax, split-heads transpose and 16M sum, plus a mean over the last axis,
// the bench's 16M add, attention's scores scaled by a scalar, and two unary ops.
// Run: node scripts/run.mjs bench/staged-reads.ts [--rounds N]
import { parseArgs } from 'node:util';
import * as wg from '../src/node.js';
import { setStagedReads } from '../src/device/choice.js';
import { timeInTurn } from '../src/device/timing.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '9' } } });
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds ${values.rounds}: give a positive whole number, as --rounds 9`);

const info = await wg.init({ log: false });
console.log(`adapter: ${info.description}${info.adapter?.cpu ? ` | ${info.adapter.cpu}` : ''}`);

const cases: { name: string; shape: number[]; op: (x: wg.Tensor) => wg.Tensor }[] = [
  { name: 'softmax (last axis)', shape: [12544, 49], op: (x) => wg.softmax(x) },
  { name: 'transpose (split heads)', shape: [32, 49, 8, 160], op: (x) => wg.permute(x, [0, 2, 1, 3]) },
  { name: 'reduction sum', shape: [16777216], op: (x) => wg.sum(x) },
  { name: 'mean over the last axis', shape: [1568, 1280], op: (x) => wg.mean(x, -1) },
  { name: 'elementwise add (x + x)', shape: [16777216], op: (x) => wg.add(x, x) },
  { name: 'attention scores * scale', shape: [32, 8, 49, 49], op: (x) => wg.mul(x, 0.125) },
  { name: 'gelu', shape: [1568, 1280], op: (x) => wg.gelu(x) },
  { name: 'exp', shape: [16777216], op: (x) => wg.exp(x) },
];
for (const c of cases) {
  const x = wg.randn(c.shape, { seed: 1 });
  const run = async (staged: boolean, reps: number): Promise<void> => {
    setStagedReads(staged);
    for (let i = 0; i < reps; i++) wg.tidy(() => void c.op(x));
    await wg.sync();
  };
  const [on, off] = await timeInTurn([true, false], run, { rounds, minRunMs: 20, maxReps: 50 });
  const outputs: Float32Array[] = [];
  for (const staged of [true, false]) {
    setStagedReads(staged);
    const y = c.op(x);
    outputs.push((await y.data()) as Float32Array);
    y.dispose();
  }
  const same = outputs[0].every((v, i) => Object.is(v, outputs[1][i]));
  console.log(`${c.name.padEnd(26)} [${c.shape}]  staged ${on.median.toFixed(2)} ms (min ${on.min.toFixed(2)}), buffer ${off.median.toFixed(2)} ms (min ${off.min.toFixed(2)}): ${(off.median / on.median).toFixed(2)}x${same ? '' : '  RESULTS DIFFER'}`);
  x.dispose();
}
setStagedReads(null);
process.exit(0);
