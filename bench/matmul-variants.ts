// Times every matmul variant on the chosen adapter: median of 5 runs after a warm-up, waiting for the GPU each run.
// Run: npx tsx bench/matmul-variants.ts [--sizes 256,512,1024]
import { cpus } from 'node:os';
import * as wg from '../src/index.ts';

const info = await wg.init({ log: false });
const arg = process.argv.indexOf('--sizes');
const sizes = arg > 0 ? process.argv[arg + 1].split(',').map(Number) : [256, 512, 1024, 2048];
console.log(`adapter: ${info.description}`);
console.log(`node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}`);

// A real GPU finishes a 256^3 product in microseconds, under the cost of one submit and wait, so a fast product
// repeats inside each timed run (sized by an untimed run) and the time per product is given.
async function time(fn: () => wg.Tensor, runs = 5): Promise<number[]> {
  (await fn().data()).length; // warm-up: compiles the pipeline
  const batch = async (reps: number) => {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) wg.tidy(() => void fn());
    await wg.sync();
    return (performance.now() - t0) / reps;
  };
  const reps = Math.min(1000, Math.ceil(20 / Math.max(await batch(1), 0.02)));
  const ms: number[] = [];
  for (let r = 0; r < runs; r++) ms.push(await batch(reps));
  return ms.sort((a, b) => a - b);
}

const shapes: [number, number, number][] = [...sizes.map((s) => [s, s, s] as [number, number, number]), [1568, 1280, 1280]];
for (const [m, k, n] of shapes) {
  const a = wg.rand([m, k], { seed: 1 });
  const b = wg.rand([k, n], { seed: 2 });
  const cells: string[] = [];
  for (const v of wg.MATMUL_VARIANTS) {
    wg.setMatmulVariant(v);
    const ms = await time(() => wg.matmul(a, b));
    const median = ms[Math.floor(ms.length / 2)];
    cells.push(`${v} ${median.toFixed(2)} ms (${((2 * m * n * k) / median / 1e6).toFixed(1)} GFLOP/s)`);
  }
  wg.setMatmulVariant(null);
  console.log(`matmul ${m}x${k}x${n}: ${cells.join(' | ')}`);
  a.dispose();
  b.dispose();
}
