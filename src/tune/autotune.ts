import type { GpuDevice } from '../device/device.js';
import { timeInTurn } from '../device/timing.js';
import { adapterKey, setMatmulVariant, setStagedReads, setTunedStaged, setTunedVariant } from '../device/choice.js';
import { MATMUL_VARIANTS, type MatmulVariant } from '../device/variants.js';
import { VERSION } from '../generated/version.js';
import { matmul } from '../ops/matmul/index.js';
import { sum } from '../ops/reduce.js';
import { rand } from '../ops/creation.js';
import { host } from '../platform/host.js';
import { tidy } from '../tensor/tensor.js';
import { loadTiles } from './tiles.js';

export interface TuneResult {
  matmul: MatmulVariant;
  measuredMs: Record<string, number>;
  /** Whether memory-bound kernels read staged textures (ops/staged.ts), and a 4M-float sum's milliseconds each way. */
  stagedReads: boolean;
  stagedMs: { staged: number; buffer: number };
  fromCache: boolean;
}

// Timed runs per variant, taken in turn with the other variants'.
const TUNE_ROUNDS = 5;

// Floats in the sum that decides staged reads: 1M words, enough that the copy's fixed cost counts as it does for
// the bench's cases (2 x Zen 3: about 5 ms from the buffer, 1.5 staged).
const STAGED_PROBE = 1 << 22;

/**
 * Times a 4M-float sum with the input staged in a texture and read from its buffer, in turn, and says whether
 * staging won (ties go to the buffer: no copy).
 */
async function tuneStaged(device: GpuDevice): Promise<{ staged: number; buffer: number }> {
  const x = rand([STAGED_PROBE], { seed: 3, backend: 'webgpu' });
  const run = async (staged: boolean, reps: number): Promise<void> => {
    setStagedReads(staged);
    for (let i = 0; i < reps; i++) tidy(() => void sum(x));
    await device.sync();
  };
  try {
    const [staged, buffer] = await timeInTurn([true, false], run, { rounds: TUNE_ROUNDS, minRunMs: 5, maxReps: 200 });
    return { staged: staged.median, buffer: buffer.median };
  } finally {
    setStagedReads(null);
    x.dispose();
  }
}

/**
 * Picks the fastest matmul variant for this adapter by timing each on a 512^3 product (one warm-up that compiles
 * the pipeline, then the median of TUNE_ROUNDS runs taken in turn with the other variants', each long enough to be
 * more than one submit's latency), and whether memory-bound kernels read staged textures (tuneStaged). About 3 s
 * on the software adapter. The result is kept per adapter identity, CPU
 * model (for software adapters) and wgrad version (on disk under Node, in localStorage in a browser), so later runs
 * start tuned at no cost.
 */
export async function autotune(device: GpuDevice): Promise<TuneResult> {
  const store = await host();
  const key = adapterKey(device.report, VERSION);
  const cache = await store.readTuning();
  const hit = cache[key];
  loadTiles(device.report, hit);
  if (hit?.matmul && hit.measuredMs && (MATMUL_VARIANTS as readonly string[]).includes(hit.matmul) && typeof hit.stagedReads === 'boolean' && hit.stagedMs) {
    setTunedVariant(device.report, hit.matmul as MatmulVariant);
    setTunedStaged(device.report, hit.stagedReads);
    return { matmul: hit.matmul as MatmulVariant, measuredMs: hit.measuredMs, stagedReads: hit.stagedReads, stagedMs: hit.stagedMs, fromCache: true };
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
  const stagedMs = await tuneStaged(device);
  const stagedReads = stagedMs.staged < stagedMs.buffer;
  setTunedStaged(device.report, stagedReads);
  // Tile timings stay: they are kept per variant, so those of a variant no longer chosen are simply not read.
  cache[key] = { ...cache[key], matmul: best, measuredMs, stagedReads, stagedMs, date: new Date().toISOString() };
  await store.writeTuning(cache);
  return { matmul: best, measuredMs, stagedReads, stagedMs, fromCache: false };
}
