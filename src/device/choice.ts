import type { AdapterReport } from './adapter.js';
import { kernelSource } from './kernels.js';
import { defaultMatmulVariant, MATMUL_VARIANTS, type MatmulVariant, type TextureTile } from './variants.js';

/** The matmul variant in force: a forced one (tests, the bench), else the one tuned for the adapter, else the default. */
let forced: MatmulVariant | null = null;
const tuned = new Map<string, MatmulVariant>();

// The kernels the tuned choices are timings of. Hashed (FNV-1a, 32 bits) into the key, so that a cached choice
// measured on other kernel code is measured again, even at the same version number.
const TUNED_KERNELS = ['matmul_texture', 'matmul_regblock', 'matmul_tiled', 'pack_texture', 'reduce'];
let fingerprint = '';
function kernelFingerprint(): string {
  if (fingerprint) return fingerprint;
  let h = 0x811c9dc5;
  for (const name of TUNED_KERNELS) {
    const src = kernelSource(name);
    for (let i = 0; i < src.length; i++) h = Math.imul(h ^ src.charCodeAt(i), 0x01000193);
  }
  return (fingerprint = (h >>> 0).toString(16).padStart(8, '0'));
}

/**
 * The identity tuning results are kept under: the adapter as the platform describes it, the CPU for a software
 * adapter (llvmpipe reports the same name on an AMD EPYC and an Intel Xeon, whose best kernels differ), the wgrad
 * version and a hash of the matmul kernels' source.
 */
export function adapterKey(report: AdapterReport, version: string): string {
  // The variant list is part of the key, last: a release that adds a variant re-tunes even at the same version number.
  return [report.vendor, report.architecture, report.device, report.description, report.backend, report.featureLevel, report.cpu, `wgrad ${version}`, `kernels ${kernelFingerprint()}`, MATMUL_VARIANTS.join(',')].join('|');
}

export function matmulVariant(report: AdapterReport): MatmulVariant {
  return forced ?? tuned.get(adapterKey(report, '')) ?? defaultMatmulVariant(report);
}

/** Forces one matmul variant (null restores the tuned or default choice). Used by tests and the bench. */
export function setMatmulVariant(variant: MatmulVariant | null): void {
  forced = variant;
}

/** Records the variant chosen for an adapter in this process. */
export function setTunedVariant(report: AdapterReport, variant: MatmulVariant): void {
  tuned.set(adapterKey(report, ''), variant);
}

const tunedStaged = new Map<string, boolean>();
let forcedStaged: boolean | null = null;

/**
 * Whether the memory-bound kernels (reductions, elementwise ops, the short-row softmax and its backward, the row
 * copies of a permute, the optimizer updates) read their inputs from textures they were first copied into
 * (ops/staged.ts): as autotune() timed it on this adapter, else on
 * software adapters, where a storage texture's texel loads for all lanes at once and a storage buffer's a lane at a
 * time, and not on GPUs, which read buffers at full speed. docs/kernel-choices.md has the numbers.
 */
export function stagedReads(report: AdapterReport): boolean {
  return forcedStaged ?? tunedStaged.get(adapterKey(report, '')) ?? report.software;
}

/** Forces staged reads on or off (null restores the tuned or default choice). Used by autotune(), tests and the bench. */
export function setStagedReads(staged: boolean | null): void {
  forcedStaged = staged;
}

/** Records the staged-reads choice timed for an adapter in this process. */
export function setTunedStaged(report: AdapterReport, staged: boolean): void {
  tunedStaged.set(adapterKey(report, ''), staged);
}

/**
 * A texture matmul as the tile tuner sees it: the operands' shapes as the kernel gets them (a dense layer's input
 * flattened to 2-D) and which are read transposed. Equal problems take the same kernel path, so one timing of the
 * register tiles serves every product of that problem.
 */
export interface MatmulProblem {
  a: readonly number[];
  b: readonly number[];
  transA: boolean;
  transB: boolean;
}

export const problemKey = (p: MatmulProblem): string =>
  `[${p.a.join(',')}]${p.transA ? 'T' : ''}x[${p.b.join(',')}]${p.transB ? 'T' : ''}`;

/** Register tiles timed per variant and problem on an adapter (tune/tiles.ts), under tileKey. */
const tunedTiles = new Map<string, TextureTile>();
/** Problems seen while tuneTiles() records a step, by key; null when nothing records. */
let recording: Map<string, MatmulProblem> | null = null;

/** Where a tile timing is kept, in the tuning cache's record for an adapter: the variant (its workgroup shape) and the problem. */
export const tileKey = (variant: MatmulVariant, problem: string): string => `${variant}|${problem}`;

/** The tile timed fastest for this problem under the variant in force, if one was; records the problem meanwhile. */
export function tunedTile(report: AdapterReport, problem: MatmulProblem): TextureTile | undefined {
  const key = problemKey(problem);
  if (recording) recording.set(key, problem);
  return tunedTiles.get(`${adapterKey(report, '')}|${tileKey(matmulVariant(report), key)}`);
}

/** Records (tile) or forgets (null) the tile for a tileKey on this adapter. */
export function setTunedTile(report: AdapterReport, key: string, tile: TextureTile | null): void {
  if (tile) tunedTiles.set(`${adapterKey(report, '')}|${key}`, tile);
  else tunedTiles.delete(`${adapterKey(report, '')}|${key}`);
}

/** Starts (a fresh map) or stops (null) recording the texture-matmul problems that run. */
export function setRecording(into: Map<string, MatmulProblem> | null): void {
  recording = into;
}
