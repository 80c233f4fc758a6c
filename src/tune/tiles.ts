import { adapterKey, matmulVariant, problemKey, setRecording, setTunedTile, tileKey, type MatmulProblem } from '../device/choice.js';
import type { AdapterReport } from '../device/adapter.js';
import { getDevice } from '../device/runtime.js';
import { timeInTurn } from '../device/timing.js';
import type { TextureTile } from '../device/variants.js';
import { VERSION } from '../generated/version.js';
import { rand } from '../ops/creation.js';
import { matmul } from '../ops/matmul/index.js';
import { matmulDims } from '../ops/matmul/reference.js';
import { rankTiles, SMALL_PRODUCT } from '../ops/matmul/tile-cost.js';
import { host, type TuningRecord } from '../platform/host.js';
import { numel } from '../tensor/dims.js';
import { tidy } from '../tensor/tensor.js';

export interface TiledProblem {
  /** The product, as '[1568,1280]x[1280,1280]' ('T' after an operand read transposed). */
  problem: string;
  /** The tile it runs now, TM x RG x CJ: '8x2x2' is a 16x16 block of C per invocation. */
  tile: string;
  /** Each candidate's fastest of 5 runs in milliseconds, timed in turn with the others'. */
  measuredMs: Record<string, number>;
  fromCache: boolean;
}

export interface TileTuneResult {
  problems: TiledProblem[];
  /** Seconds spent timing; 0 when every problem came from the cache. */
  seconds: number;
}

export interface TileTuneOptions {
  /** The cost model's best this many tiles are timed (default 4). */
  candidates?: number;
  /** Print one line when any problem was timed (default false). */
  log?: boolean | ((line: string) => void);
  /** Asked between problems; true stops the timing there (fit() passes its Ctrl-C flag). What was timed is kept. */
  stop?: () => boolean;
}

// Timed runs per candidate, taken in turn with the other candidates'. Each candidate's fastest run counts: on these
// shared VMs a neighbour's load only ever adds time, and medians of 3 moved by up to 30% between two runs.
const ROUNDS = 5;
// Another tile replaces the cost model's only when it was at least this much faster: closer than that is the noise
// of these VMs (docs/kernel-choices.md), and keeping the model's tile keeps the choice stable between runs.
const MARGIN = 0.05;

const tileName = (t: TextureTile): string => `${t.tm}x${t.rg}x${t.cj}`;
const parseTile = (s: string): TextureTile | null => {
  const m = /^(\d)x([12])x([12])$/.exec(s);
  return m && Number(m[1]) >= 1 && Number(m[1]) <= 8 ? { tm: Number(m[1]), rg: Number(m[2]), cj: Number(m[3]) } : null;
};

/** Puts a tuning record's tile choices in force for this adapter (autotune does this when it reads the cache). */
export function loadTiles(report: AdapterReport, record: TuningRecord | undefined): void {
  for (const [key, { tile }] of Object.entries(record?.tiles ?? {})) {
    const parsed = parseTile(tile);
    if (parsed) setTunedTile(report, key, parsed);
  }
}

/**
 * Times the texture matmul's register tiles on the products `step` runs, and keeps the fastest per product (as
 * PyTorch's cudnn.benchmark does for convolutions). `step` runs once, for real (a training step, say), while the
 * texture matmuls it dispatches are recorded; then tuneProblems() times them. `model.fit(data, { tuneTiles: true })`
 * does this on its first step.
 */
export async function tuneTiles(step: () => unknown, options: TileTuneOptions = {}): Promise<TileTuneResult> {
  getDevice();
  const { problems } = await recordProblems(step);
  return tuneProblems(problems, options);
}

/** Runs `step`, and returns what it returned with the texture-matmul problems it dispatched. */
export async function recordProblems<T>(step: () => T | Promise<T>): Promise<{ result: T; problems: MatmulProblem[] }> {
  const seen = new Map<string, MatmulProblem>();
  setRecording(seen);
  try {
    const result = await step();
    return { result, problems: [...seen.values()] };
  } finally {
    setRecording(null);
  }
}

/**
 * Times every problem of at least 2^20 multiply-adds whose tile this adapter has not timed yet, at the cost model's
 * best few tiles (tile-cost.ts), on random operands of its shapes, and keeps the fastest where it beats the model's
 * own choice by MARGIN. The choices are kept with the autotune's, per adapter, CPU model and wgrad version, so the
 * next run of the same model on the same machine starts tuned at no cost. Only the texture variant (software
 * adapters) has tiles to choose, so elsewhere nothing is recorded or timed. On 2 CPU cores a product takes 1-8 s
 * (each candidate compiles once; the seed-1 head's 9 products took about a minute).
 */
export async function tuneProblems(seen: readonly MatmulProblem[], options: TileTuneOptions = {}): Promise<TileTuneResult> {
  const device = getDevice();
  const store = await host();
  const key = adapterKey(device.report, VERSION);
  const cache = await store.readTuning();
  const record: TuningRecord = cache[key] ?? { date: new Date().toISOString() };
  const tiles = { ...record.tiles };
  const variant = matmulVariant(device.report);
  const problems: TiledProblem[] = [];
  const t0 = performance.now();
  for (const problem of seen) {
    if (options.stop?.()) break;
    const name = problemKey(problem);
    const { m, n, k, batch } = matmulDims(problem.a, problem.b, { transA: problem.transA, transB: problem.transB });
    const macs = numel(batch) * m * n * k;
    if (macs < SMALL_PRODUCT) continue;
    const where = tileKey(variant, name);
    const hit = tiles[where];
    if (hit && parseTile(hit.tile)) {
      problems.push({ problem: name, tile: hit.tile, measuredMs: hit.measuredMs, fromCache: true });
      continue;
    }
    const { maxTextureDimension2D } = device.device.limits;
    const candidates = rankTiles(Math.min(m, maxTextureDimension2D), n, false, macs).slice(0, Math.max(1, options.candidates ?? 4));
    const ms = await timeProblem(device.report, where, problem, candidates);
    let best = 0;
    for (let i = 1; i < candidates.length; i++) if (ms[i] < ms[best] && ms[i] < ms[0] * (1 - MARGIN)) best = i;
    const measuredMs = Object.fromEntries(candidates.map((t, i) => [tileName(t), ms[i]]));
    setTunedTile(device.report, where, candidates[best]);
    tiles[where] = { tile: tileName(candidates[best]), measuredMs };
    problems.push({ problem: name, tile: tileName(candidates[best]), measuredMs, fromCache: false });
  }
  const seconds = problems.some((p) => !p.fromCache) ? (performance.now() - t0) / 1000 : 0;
  if (seconds > 0) {
    cache[key] = { ...record, tiles };
    await store.writeTuning(cache);
    if (options.log) {
      const timed = problems.filter((p) => !p.fromCache).length;
      const line = `wgrad: timed the matmul tiles of ${timed} product shape${timed === 1 ? '' : 's'} on this adapter in ${seconds.toFixed(0)} s (kept for the next run)`;
      if (typeof options.log === 'function') options.log(line);
      else console.log(line);
    }
  }
  return { problems, seconds };
}

/** Each candidate tile's fastest run on `problem` in ms, timed in turn; the tile in force afterwards is the first. */
async function timeProblem(report: AdapterReport, where: string, problem: MatmulProblem, candidates: TextureTile[]): Promise<number[]> {
  const device = getDevice();
  const a = rand([...problem.a], { seed: 1, backend: 'webgpu' });
  const b = rand([...problem.b], { seed: 2, backend: 'webgpu' });
  const attrs = { transposeA: problem.transA, transposeB: problem.transB };
  try {
    const ms = await timeInTurn(candidates, async (tile, reps) => {
      setTunedTile(report, where, tile);
      for (let i = 0; i < reps; i++) tidy(() => void matmul(a, b, attrs));
      await device.sync();
    }, { rounds: ROUNDS, minRunMs: 20, maxReps: 50 });
    return ms.map((t) => t.min);
  } finally {
    setTunedTile(report, where, candidates[0]);
    a.dispose();
    b.dispose();
  }
}
