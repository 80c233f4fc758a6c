// What splitting attention() into blocks costs: time and peak GPU memory, forward and forward+backward, with the
// [B, H, T, T] weights whole and split into about 4 and 16 blocks (the binding limit lowered to a quarter and a
// sixteenth of the weights' bytes) at two sequence lengths. At the seed-1 shape (T=49, d=160) the weights are
// smaller than q, so they are never split there. Median of 5 runs after a warm-up.
// Run: node scripts/run.mjs bench/attention-blocks.ts [--shape B,H,T,D] (the shape replaces the two defaults)
import { parseArgs } from 'node:util';
import * as wg from '../src/node.js';
import { bindingLimitOverride } from '../src/device/test-hooks.js';

const { values } = parseArgs({ options: { shape: { type: 'string' } } });
const shapes = [
  { b: 8, h: 8, t: 256, d: 64 },
  { b: 1, h: 8, t: 1024, d: 64 },
];
if (values.shape) {
  const dims = values.shape.split(',').map(Number);
  if (dims.length !== 4 || !dims.every((v) => Number.isInteger(v) && v > 0)) {
    throw new Error(`--shape ${values.shape}: give four positive whole numbers B,H,T,D, as --shape 1,8,1024,64`);
  }
  const [b, h, t, d] = dims;
  shapes.splice(0, shapes.length, { b, h, t, d });
}

const info = await wg.init({ log: false });
console.log(`adapter: ${info.description}`);

async function measure(fn: () => void, runs = 5): Promise<{ ms: number; peakMiB: number }> {
  fn();
  await wg.sync();
  const times: number[] = [];
  let peak = 0;
  for (let r = 0; r < runs; r++) {
    const base = wg.memory().bytes;
    wg.resetPeakMemory();
    const t0 = performance.now();
    fn();
    await wg.sync();
    times.push(performance.now() - t0);
    peak = Math.max(peak, wg.memory().peakBytes - base);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(runs / 2)], peakMiB: peak / 2 ** 20 };
}

for (const { b, h, t, d } of shapes) {
  const q = wg.randn([b, t, h, d], { seed: 1, requiresGrad: true });
  const k = wg.randn([b, t, h, d], { seed: 2, requiresGrad: true });
  const v = wg.randn([b, t, h, d], { seed: 3, requiresGrad: true });
  const flops = 4 * b * h * t * t * d;
  const weightBytes = b * h * t * t * 4;
  for (const parts of [1, 4, 16]) {
    // The limit must still hold q, k and v ([B, T, h, d]); a part count that would need less is skipped.
    const limit = Math.ceil(weightBytes / parts);
    if (parts > 1 && limit < b * t * h * d * 4) continue;
    bindingLimitOverride.value = parts === 1 ? null : limit;
    const forward = () => wg.attention(q, k, v);
    const fwd = await measure(() => wg.noGrad(() => wg.tidy(() => void forward())));
    const bwd = await measure(() =>
      wg.tidy(() => {
        wg.sum(forward()).backward();
        wg.zeroGrad([q, k, v]);
      }),
    );
    bindingLimitOverride.value = null;
    const show = (r: { ms: number; peakMiB: number }, withRate: boolean) =>
      `${r.ms.toFixed(1)} ms (${withRate ? `${(flops / r.ms / 1e6).toFixed(2)} GFLOP/s, ` : ''}peak +${r.peakMiB.toFixed(1)} MiB)`;
    const label = (parts === 1 ? 'whole' : `${parts} blocks`).padEnd(9);
    console.log(`B=${b} h=${h} T=${t} d=${d} ${label}  forward ${show(fwd, true)}  forward+backward ${show(bwd, false)}`);
  }
  for (const x of [q, k, v]) x.dispose();
}
