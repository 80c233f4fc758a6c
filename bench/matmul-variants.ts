// Times every matmul variant on the chosen adapter: per shape, the variants' runs in turn (timeInTurn), median of 5
// rounds after a warm-up, waiting for the GPU each run. In turn, because these VMs' speed moves in phases of seconds
// (docs/bench.md, "What varies between runs"), which timing each variant in a block puts into the ratios.
// Run: npx tsx bench/matmul-variants.ts [--sizes 256,512,1024]
import { cpus } from 'node:os';
import * as wg from '../src/node.js';
import { parseFlags } from '../scripts/cli.js';
import { timeInTurn } from '../src/device/timing.js';

const args = parseFlags('npx tsx bench/matmul-variants.ts', 'Times every matmul variant on square products of the given sizes.', {
  sizes: { type: 'integers', default: [256, 512, 1024, 2048], min: 1, description: 'sizes n of the n x n x n products' },
});
const sizes = args.sizes;
const info = await wg.init({ log: false });
console.log(`adapter: ${info.description}`);
console.log(`node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}`);

const shapes: [number, number, number][] = [...sizes.map((s) => [s, s, s] as [number, number, number]), [1568, 1280, 1280]];
for (const [m, k, n] of shapes) {
  const a = wg.rand([m, k], { seed: 1 });
  const b = wg.rand([k, n], { seed: 2 });
  // Runs of at least 20 ms each: a real GPU does a small product in microseconds, under one submit's cost.
  const timings = await timeInTurn(wg.MATMUL_VARIANTS, async (v, reps) => {
    wg.setMatmulVariant(v);
    for (let i = 0; i < reps; i++) wg.tidy(() => void wg.matmul(a, b));
    await wg.sync();
  }, { rounds: 5, minRunMs: 20, maxReps: 1000 });
  wg.setMatmulVariant(null);
  const cells = wg.MATMUL_VARIANTS.map((v, i) => `${v} ${timings[i].median.toFixed(2)} ms (${((2 * m * n * k) / timings[i].median / 1e6).toFixed(1)} GFLOP/s)`);
  console.log(`matmul ${m}x${k}x${n}: ${cells.join(' | ')}`);
  a.dispose();
  b.dispose();
}
