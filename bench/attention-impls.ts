// Fused attention kernel vs the unfused composition (matmul, softmax, matmul): time and peak GPU memory, forward and
// forward+backward, at the seed-1 shape and a longer sequence. Median of 5 runs after a warm-up.
// Run: npx tsx bench/attention-impls.ts [--shape B,H,T,D] (the shape replaces the two defaults)
import { parseArgs } from 'node:util';
import * as wg from '../src/node.js';

const { values } = parseArgs({ options: { shape: { type: 'string' } } });
const shapes = [
  { b: 32, h: 8, t: 49, d: 160 },
  { b: 8, h: 8, t: 256, d: 64 },
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
  for (const impl of ['fused', 'unfused'] as const) {
    const forward = () => (impl === 'fused' ? wg.attention(q, k, v) : wg.attentionUnfused(q, k, v).output);
    // A fused pass past a software adapter's loop budget refuses (docs/kernel-choices.md); say so and go on.
    const refused = (e: unknown) => (e instanceof wg.DeviceError ? `refused (${e.message.split(' per invocation')[0]})` : Promise.reject(e));
    const fwd = await measure(() => wg.noGrad(() => wg.tidy(() => void forward()))).catch(refused);
    const bwd = await measure(() =>
      wg.tidy(() => {
        wg.sum(forward()).backward();
        wg.zeroGrad([q, k, v]);
      }),
    ).catch(refused);
    const show = (r: { ms: number; peakMiB: number } | string, withRate: boolean) =>
      typeof r === 'string' ? r : `${r.ms.toFixed(1)} ms (${withRate ? `${(flops / r.ms / 1e6).toFixed(2)} GFLOP/s, ` : ''}peak +${r.peakMiB.toFixed(1)} MiB)`;
    console.log(`B=${b} h=${h} T=${t} d=${d} ${impl.padEnd(7)}  forward ${show(fwd, true)}  forward+backward ${show(bwd, false)}`);
  }
  for (const x of [q, k, v]) x.dispose();
}
