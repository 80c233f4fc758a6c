import type { GpuDevice } from '../device/device.js';
import { timeRepeated } from '../device/timing.js';
import { adapterKey, setMatmulVariant, setTunedVariant } from '../device/choice.js';
import { MATMUL_VARIANTS, type MatmulVariant } from '../device/variants.js';
import { VERSION } from '../generated/version.js';
import { matmul } from '../ops/matmul/index.js';
import { rand } from '../ops/creation.js';
import { host } from '../platform/host.js';
import { tidy } from '../tensor/tensor.js';

export interface TuneResult {
  matmul: MatmulVariant;
  measuredMs: Record<string, number>;
  fromCache: boolean;
}

/**
 * Picks the fastest matmul variant for this adapter by timing each on a 512^3 product (one warm-up that compiles
 * the pipeline, then the median of three runs, each long enough to be more than one submit's latency). Well under
 * 10 s even on the software adapter. The result is kept per adapter identity and wgrad version (on disk under Node,
 * in localStorage in a browser), so later runs start tuned at no cost.
 */
export async function autotune(device: GpuDevice): Promise<TuneResult> {
  const store = await host();
  const key = adapterKey(device.report, VERSION);
  const cache = await store.readTuning();
  const hit = cache[key];
  if (hit && (MATMUL_VARIANTS as readonly string[]).includes(hit.matmul)) {
    setTunedVariant(device.report, hit.matmul as MatmulVariant);
    return { matmul: hit.matmul as MatmulVariant, measuredMs: hit.measuredMs, fromCache: true };
  }
  const a = rand([512, 512], { seed: 1, backend: 'webgpu' });
  const b = rand([512, 512], { seed: 2, backend: 'webgpu' });
  const measuredMs: Record<string, number> = {};
  try {
    for (const variant of MATMUL_VARIANTS) {
      setMatmulVariant(variant);
      // Runs of ~5 ms: a real GPU does 512^3 in tens of microseconds, under one submit's cost.
      const t = await timeRepeated(async (reps) => {
        for (let i = 0; i < reps; i++) tidy(() => void matmul(a, b));
        await device.sync();
      }, { runs: 3, minRunMs: 5, maxReps: 200 });
      measuredMs[variant] = t.median;
    }
  } finally {
    setMatmulVariant(null);
    a.dispose();
    b.dispose();
  }
  const best = Object.entries(measuredMs).sort((x, y) => x[1] - y[1])[0][0] as MatmulVariant;
  setTunedVariant(device.report, best);
  cache[key] = { matmul: best, measuredMs, date: new Date().toISOString() };
  await store.writeTuning(cache);
  return { matmul: best, measuredMs, fromCache: false };
}
