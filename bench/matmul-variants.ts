// Times every matmul variant on the chosen adapter: median of 5 runs after a warm-up, waiting for the GPU each run.
// Run: npx tsx bench/matmul-variants.ts [--sizes 256,512,1024]
import { cpus } from 'node:os';
import * as wg from '../src/node.js';
import { parseFlags } from '../scripts/cli.js';

const args = parseFlags('npx tsx bench/matmul-variants.ts', 'Times every matmul variant on square products of the given sizes.', {
  sizes: { type: 'integers', default: [256, 512, 1024, 2048], min: 1, description: 'sizes n of the n x n x n products' },
});
const sizes = args.sizes;
const info = await wg.init({ log: false });
console.log(`adapter: ${info.description}`);
console.log(`node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}`);

// Runs of ~20 ms each (wg.timeRepeated): a real GPU does a small product in microseconds, under one submit's cost.
async function time(fn: () => wg.Tensor): Promise<number> {
  const t = await wg.timeRepeated(async (reps) => {
    for (let i = 0; i < reps; i++) wg.tidy(() => void fn());
    await wg.sync();
  }, { runs: 5, minRunMs: 20, maxReps: 1000 });
  return t.median;
}

const shapes: [number, number, number][] = [...sizes.map((s) => [s, s, s] as [number, number, number]), [1568, 1280, 1280]];
for (const [m, k, n] of shapes) {
  const a = wg.rand([m, k], { seed: 1 });
  const b = wg.rand([k, n], { seed: 2 });
  const cells: string[] = [];
  for (const v of wg.MATMUL_VARIANTS) {
    wg.setMatmulVariant(v);
    const median = await time(() => wg.matmul(a, b));
    cells.push(`${v} ${median.toFixed(2)} ms (${((2 * m * n * k) / median / 1e6).toFixed(1)} GFLOP/s)`);
  }
  wg.setMatmulVariant(null);
  console.log(`matmul ${m}x${k}x${n}: ${cells.join(' | ')}`);
  a.dispose();
  b.dispose();
}
