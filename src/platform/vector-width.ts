// llvmpipe's vector width, chosen by timing it on the machine. Node only (loaded by platform/node.ts).
//
// llvmpipe compiles shaders for 256-bit vectors (8 lanes) even on CPUs with AVX-512 unless LP_NATIVE_VECTOR_WIDTH
// says otherwise, and reads that variable once, when the process first opens it. At 512 bits the 1024^3 product,
// softmax and the split-heads transpose ran 1.2-1.4x faster on 2 x Zen 4, and the 1024^3 product 5% slower on
// 2 x Sapphire Rapids (docs/kernel-choices.md, "llvmpipe at 512 bits"), so neither width can be fixed in the code.
// On an AVX-512 CPU, before Dawn's OpenGL backend first opens, this times both widths in child processes (one
// each, in turn, ROUNDS times: a process cannot change its width), keeps the answer in the tuning cache under the CPU
// and wgrad's version, and sets LP_NATIVE_VECTOR_WIDTH=512 for this process when 512 won.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { VERSION } from '../generated/version.js';
import type { AdapterRequestOptions, TuningRecord, VectorWidthRecord } from './host.js';

export const WIDTHS = [256, 512] as const;
export type VectorWidth = (typeof WIDTHS)[number];

/** Processes per width, taken in turn with the other width's; each case keeps its fastest. */
const ROUNDS = 3;
/** How much faster 512 bits must be, over the cases' geometric mean, to be chosen: below it, noise could flip it. */
export const WIDE_MARGIN = 1.05;
/** A probe process that has not answered in this long has hung (it takes 1.5-4 s on 2 cores). */
const PROBE_TIMEOUT_MS = 120_000;

/** What one probe process measured: the adapter it opened, and each case's per-op milliseconds. */
export interface ProbeResult {
  adapter: string;
  ms: Record<string, number>;
}

/** What a probe's failure looked like: interrupted (a signal: not cached, so the next start measures again) or not. */
export class ProbeFailure extends Error {
  constructor(
    message: string,
    readonly interrupted: boolean,
  ) {
    super(message);
  }
}

export interface WidthContext {
  env: Record<string, string | undefined>;
  /** The CPU's feature flags (/proc/cpuinfo). */
  flags: Set<string>;
  /** The CPU model, as the tuning key names it. */
  cpuModel: string;
  readTuning(): Promise<Record<string, TuningRecord>>;
  writeTuning(cache: Record<string, TuningRecord>): Promise<void>;
  /** Runs one probe process at a width. */
  probe(width: VectorWidth): Promise<ProbeResult>;
}

/** What was decided, for the caller to apply and report. */
export interface WidthDecision {
  /** The width set for this process, or null where llvmpipe keeps its own (or the user's) setting. */
  width: VectorWidth | null;
  /** A line for the log, or '' where there is nothing to say. */
  note: string;
  /** Who set the width this process runs at, and why, for reports (the bench header): always filled. */
  why: string;
  /** The adapter name the cached measurement saw at this width, to check the opened one against. */
  expectAdapter?: string;
  /** The tuning cache key the decision is kept under, when there is one. */
  key?: string;
}

/** The adapter as the cache records it: llvmpipe's name (its width and LLVM version) and the driver's (Mesa's version). */
export const adapterName = (info: { device?: string; description?: string }): string => [info.device, info.description].filter(Boolean).join(' | ');

export const widthKey = (cpuModel: string): string => `llvmpipe vector width|${cpuModel}|wgrad ${VERSION}`;

/**
 * The faster width from the probes' timings: each case's fastest time at each width, then the geometric mean of
 * 256-bit over 512-bit time across the cases. 512 wins only by WIDE_MARGIN or more; 256 is llvmpipe's own default.
 */
export function decideWidth(runs: Record<VectorWidth, ProbeResult[]>): { width: VectorWidth; gain: number; fastestMs: Record<VectorWidth, Record<string, number>> } {
  const fastest = (results: ProbeResult[]): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const r of results) for (const [name, ms] of Object.entries(r.ms)) out[name] = Math.min(out[name] ?? Infinity, ms);
    return out;
  };
  const fastestMs = { 256: fastest(runs[256]), 512: fastest(runs[512]) };
  const names = Object.keys(fastestMs[256]).filter((n) => Number.isFinite(fastestMs[512][n]));
  if (!names.length) throw new Error('the probes timed no case at both widths');
  const logGain = names.reduce((s, n) => s + Math.log(fastestMs[256][n] / fastestMs[512][n]), 0) / names.length;
  const gain = Math.exp(logGain);
  return { width: gain >= WIDE_MARGIN ? 512 : 256, gain, fastestMs };
}

/** The measured ratio, as the log line and the reported reason both say it. */
const gainText = (r: VectorWidthRecord): string => `512 bits ran ${r.gain.toFixed(2)}x the speed of 256`;

const describeRecord = (r: VectorWidthRecord): string =>
  `llvmpipe at ${r.width} bits, timed on this CPU ${r.date.slice(0, 10)}: ${gainText(r)} over ${Object.keys(r.measuredMs['256']).length} cases` +
  `${r.width === 512 ? '' : `; 512 bits is chosen from ${WIDE_MARGIN.toFixed(2)}x`}${r.seconds !== undefined ? `, in ${r.seconds.toFixed(1)} s` : ''}`;

/**
 * Decides llvmpipe's width for this process: the user's LP_NATIVE_VECTOR_WIDTH stands; without AVX-512, or with
 * tuning off (WGRAD_TUNE=0), llvmpipe keeps its default; otherwise the cached choice for this CPU, or a new
 * measurement (said first through options.announce: it takes about 10 s). Sets LP_NATIVE_VECTOR_WIDTH in ctx.env when 512 bits won. A failed probe leaves the default and is
 * cached, with its reason, so that it is not retried on every start; an interrupted one is not cached.
 */
export async function settleVectorWidth(ctx: WidthContext, options: AdapterRequestOptions = {}): Promise<WidthDecision> {
  const tune = options.tune ?? true;
  if (ctx.env.LP_NATIVE_VECTOR_WIDTH !== undefined) return { width: null, note: '', why: `LP_NATIVE_VECTOR_WIDTH=${ctx.env.LP_NATIVE_VECTOR_WIDTH}, set before wgrad opened the adapter` };
  if (!ctx.flags.has('avx512f')) return { width: null, note: '', why: "llvmpipe's default: this CPU has no AVX-512" };
  if (!tune || ctx.env.WGRAD_TUNE === '0') return { width: null, note: '', why: `llvmpipe's default: tuning is off (${ctx.env.WGRAD_TUNE === '0' ? 'WGRAD_TUNE=0' : 'init({ tune: false })'}), so it was not timed` };
  const key = widthKey(ctx.cpuModel);
  const cache = await ctx.readTuning();
  let record = cache[key]?.vectorWidth;
  let measured = false;
  if (!record || !isRecord(record)) {
    const runs: Record<VectorWidth, ProbeResult[]> = { 256: [], 512: [] };
    const started = Date.now();
    options.announce?.(`timing llvmpipe at 256 and 512 bits on this CPU (once per CPU, about 10 s; set LP_NATIVE_VECTOR_WIDTH to skip)`);
    let decided: ReturnType<typeof decideWidth> | null = null;
    try {
      for (let round = 0; round < ROUNDS; round++) for (const w of WIDTHS) runs[w].push(await ctx.probe(w));
      if (/llvmpipe/i.test(runs[256][0].adapter)) decided = decideWidth(runs);
    } catch (err) {
      if (err instanceof ProbeFailure && err.interrupted) {
        return { width: null, note: `llvmpipe's vector width was not measured (${err.message}); it will be on the next start`, why: "llvmpipe's default: timing the widths was interrupted; it runs again on the next start" };
      }
      const failed = leftAlone((err as Error).message, {});
      cache[key] = { ...cache[key], vectorWidth: failed, date: failed.date };
      await ctx.writeTuning(cache);
      return { width: null, note: `llvmpipe stays at its default width: timing the widths failed (${failed.error}). Delete the 'llvmpipe vector width' entry in the tuning cache to try again, or set LP_NATIVE_VECTOR_WIDTH yourself.`, why: failedWhy(failed), key };
    }
    const adapters = { '256': runs[256][0].adapter, '512': runs[512][0].adapter };
    record = decided
      ? { width: decided.width, gain: decided.gain, measuredMs: { '256': decided.fastestMs[256], '512': decided.fastestMs[512] }, adapters, date: new Date().toISOString() }
      : leftAlone(`the OpenGL adapter is ${adapters['256']}, not llvmpipe`, adapters);
    record.seconds = Math.round((Date.now() - started) / 100) / 10;
    cache[key] = { ...cache[key], vectorWidth: record, date: record.date };
    await ctx.writeTuning(cache);
    measured = true;
  }
  if (record.error) return { width: null, note: measured ? `llvmpipe's vector width left alone: ${record.error}` : '', why: failedWhy(record), key };
  if (record.width === 512) ctx.env.LP_NATIVE_VECTOR_WIDTH = '512';
  const timed = `${gainText(record)} on this CPU (timed ${record.date.slice(0, 10)}${measured ? '' : ', cached'})`;
  const why = record.width === 512 ? `LP_NATIVE_VECTOR_WIDTH=512, set by wgrad: ${timed}` : `llvmpipe's default: ${timed}, under the ${WIDE_MARGIN.toFixed(2)}x that chooses it`;
  return { width: record.width === 512 ? 512 : null, note: measured ? describeRecord(record) : '', why, expectAdapter: record.adapters[String(record.width) as '256' | '512'], key };
}

const failedWhy = (r: VectorWidthRecord): string => `llvmpipe's default: timing the widths failed on ${r.date.slice(0, 10)} (${r.error}); delete the 'llvmpipe vector width' tuning entry to retry`;

/** The record of a width left at llvmpipe's default, and why. */
const leftAlone = (error: string, adapters: VectorWidthRecord['adapters']): VectorWidthRecord => ({ width: 256, gain: 0, measuredMs: { '256': {}, '512': {} }, adapters, date: new Date().toISOString(), error });

function isRecord(r: VectorWidthRecord): boolean {
  return (r.width === 256 || r.width === 512) && typeof r.gain === 'number' && typeof r.adapters === 'object' && r.adapters !== null;
}

/**
 * After the adapter opened: a cached width measured on another llvmpipe (a Mesa or LLVM upgrade renames the adapter)
 * is forgotten, so the next start measures again. Returns a line for the log, or ''.
 */
export async function checkOpenedAdapter(ctx: Pick<WidthContext, 'readTuning' | 'writeTuning'>, decision: WidthDecision, opened: string): Promise<string> {
  if (!decision.key || !decision.expectAdapter || decision.expectAdapter === opened) return '';
  const cache = await ctx.readTuning();
  const entry = cache[decision.key];
  if (entry) {
    delete entry.vectorWidth;
    if (!entry.matmul && !entry.tiles) delete cache[decision.key];
    await ctx.writeTuning(cache);
  }
  return `llvmpipe's vector width was measured on ${decision.expectAdapter} and this is ${opened}: it will be measured again on the next start`;
}

/**
 * Runs src/tune/vector-width-probe.ts (dist/tune/vector-width-probe.js once built) in a child process at one width,
 * with tuning off, and reads its one line of JSON.
 */
export function probeWidth(width: VectorWidth, env: Record<string, string | undefined>): Promise<ProbeResult> {
  const js = fileURLToPath(new URL('../tune/vector-width-probe.js', import.meta.url));
  // From the sources (the repository's tests and scripts run under tsx), the probe is TypeScript and needs tsx too.
  const args = existsSync(js) ? [js] : ['--import', createRequire(import.meta.url).resolve('tsx'), js.replace(/\.js$/, '.ts')];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      env: { ...env, LP_NATIVE_VECTOR_WIDTH: String(width), WGRAD_TUNE: '0', WGRAD_BACKEND: 'webgpu:opengl' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), PROBE_TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new ProbeFailure(`the probe process did not start: ${e.message}`, false));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      if (code === 0) {
        try {
          const r = JSON.parse(line) as { device?: string; description?: string; ms?: Record<string, number> };
          const times = Object.values(r.ms ?? {});
          if (times.length && times.every((v) => typeof v === 'number' && v > 0)) return resolve({ adapter: adapterName(r), ms: r.ms! });
        } catch {
          // reported below
        }
      }
      const last = err.trim().split('\n').filter((l) => !l.startsWith('Warning:')).slice(-3).join(' | ');
      if (signal === 'SIGKILL') return reject(new ProbeFailure(`the ${width}-bit probe took over ${PROBE_TIMEOUT_MS / 1000} s`, false));
      if (signal) return reject(new ProbeFailure(`the ${width}-bit probe was stopped by ${signal}`, true));
      reject(new ProbeFailure(`the ${width}-bit probe exited with code ${code}${last ? `: ${last}` : ''}`, false));
    });
  });
}
