// The child process that times llvmpipe at one vector width, for the Node platform's choice of width
// (src/platform/vector-width.ts). llvmpipe fixes its width when the process opens the adapter, so each width needs a
// process of its own; the parent sets LP_NATIVE_VECTOR_WIDTH and WGRAD_TUNE=0 for it and starts this file.
// Prints one line of JSON: the adapter's device and description (the parent names it with adapterName, so that
// this program imports only the core) and each case's per-op milliseconds (the median of the timed runs).
import { timeRepeated } from '../device/timing.js';
import { init, matmul, permute, rand, softmax, sum, sync, tidy, type Tensor } from '../index.js';

/**
 * The cases the width is chosen on: the products and store-bound ops whose speed changed with the width on
 * 2 x Zen 4 (docs/kernel-choices.md, "llvmpipe at 512 bits"). Shapes are the bench's, the sum a quarter of its.
 */
const WIDTH_CASES: { name: string; shapes: number[][]; op: (x: Tensor[]) => Tensor }[] = [
  { name: 'matmul 1024^3', shapes: [[1024, 1024], [1024, 1024]], op: ([a, b]) => matmul(a, b) },
  { name: 'softmax [12544,49]', shapes: [[12544, 49]], op: ([x]) => softmax(x) },
  { name: 'split-heads transpose [32,49,8,160]', shapes: [[32, 49, 8, 160]], op: ([x]) => permute(x, [0, 2, 1, 3]) },
  { name: 'sum [4194304]', shapes: [[1 << 22]], op: ([x]) => sum(x) },
];

const info = await init({ backend: 'webgpu', adapter: 'opengl', log: false, tune: false });
const ms: Record<string, number> = {};
for (const c of WIDTH_CASES) {
  const inputs = c.shapes.map((shape, i) => rand(shape, { seed: i + 1 }));
  const timing = await timeRepeated(
    async (reps) => {
      for (let i = 0; i < reps; i++) tidy(() => void c.op(inputs));
      await sync();
    },
    { runs: 5, minRunMs: 20, maxReps: 50 },
  );
  ms[c.name] = timing.median;
  for (const x of inputs) x.dispose();
}
const { device, description } = info.adapter!;
process.stdout.write(`${JSON.stringify({ device, description, ms })}\n`);
process.exit(0);
