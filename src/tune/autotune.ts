import type { GpuDevice } from '../device/device.js';
import { timeInTurn } from '../device/timing.js';
import { adapterKey, setMatmulVariant, setTunedVariant } from '../device/choice.js';
import { MATMUL_VARIANTS, type MatmulVariant } from '../device/variants.js';
import { VERSION } from '../generated/version.js';
import { matmul } from '../ops/matmul/index.js';
import { rand } from '../ops/creation.js';
import { host } from '../platform/host.js';
import { tidy } from '../tensor/tensor.js';
import { loadTiles } from './tiles.js';

export interface TuneResult {
  matmul: MatmulVariant;
  measuredMs: Record<string, number>;
  fromCache: boolean;
}

// Timed runs per variant, taken in turn with the other variants'.
const TUNE_ROUNDS = 5;

/**
 * Picks the fastest matmul variant for this adapter by timing each on a 512^3 product (one warm-up that compiles
 * the pipeline, then the median of TUNE_ROUNDS runs taken in turn with the other variants', each long enough to be
 * more than one submit's latency). About 3 s on the software adapter. The result is kept per adapter identity, CPU
 * model (for software adapters) and wgrad version (on disk under Node, in localStorage in a browser), so later runs
 * start tuned at no cost.
 */
export async function autotune(device: GpuDevice): Promise<TuneResult> {
  const store = await host();
  const key = adapterKey(device.report, VERSION);
  const cache = await store.readTuning();
  const hit = cache[key];
  loadTiles(device.report, hit);
  if (hit?.matmul && hit.measuredMs && (MATMUL_VARIANTS as readonly string[]).includes(hit.matmul)) {
    setTunedVariant(device.report, hit.matmul as MatmulVariant);
    return { matmul: hit.matmul as MatmulVariant, measuredMs: hit.measuredMs, fromCache: true };
  }
  const a = rand([512, 512], { seed: 1, backend: 'webgpu' });
  const b = rand([512, 512], { seed: 2, backend: 'webgpu' });
  const measuredMs: Record<string, number> = {};
  const run = async (variant: MatmulVariant, reps: number): Promise<void> => {
    setMatmulVariant(variant);
    for (let i = 0; i < reps; i++) tidy(() => void matmul(a, b));
    await device.sync();
  };
  try {
    // Each variant compiles and sizes its runs (~5 ms: a real GPU does 512^3 in tens of microseconds, under one
    // submit's cost), then the timed runs go round the variants in turn (timeInTurn).
    const ms = await timeInTurn(MATMUL_VARIANTS, run, { rounds: TUNE_ROUNDS, minRunMs: 5, maxReps: 200 });
    MATMUL_VARIANTS.forEach((variant, i) => (measuredMs[variant] = ms[i].median));
  } finally {
    setMatmulVariant(null);
    a.dispose();
    b.dispose();
  }
  const best = Object.entries(measuredMs).sort((x, y) => x[1] - y[1])[0][0] as MatmulVariant;
  setTunedVariant(device.report, best);
  // Tile timings stay: they are kept per variant, so those of a variant no longer chosen are simply not read.
  cache[key] = { ...cache[key], matmul: best, measuredMs, date: new Date().toISOString() };
  await store.writeTuning(cache);
  return { matmul: best, measuredMs, fromCache: false };
}
