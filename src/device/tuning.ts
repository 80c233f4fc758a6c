import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { AdapterReport } from './adapter.ts';

/**
 * Kernel choices per adapter, in one place. Every variant computes the same result; the parity tests run all of them.
 *
 * matmul
 * - 'texture' (kernels/matmul_texture.wgsl): up to 16x16 outputs per invocation (sized to the shape by textureTile),
 *   reading A and B from rgba32float texture arrays that the operands are copied or packed into. The default for
 *   software adapters: on Dawn OpenGL -> Mesa 22.3 llvmpipe (2 cores, 2026-11-22) its 8x8 form ran 19-21 GFLOP/s at
 *   1024^3 and 21.7 at 1568x1280x1280 on a quiet machine, against 8-11 for 'regblock'; 16x16 runs 1.5x its 8x8 form
 *   in one process (2026-11-23: 1024^3 98 against 150 ms, 1568x1280x1280 217 against 345).
 * - 'texture-tall': the same kernel with 8x8 workgroups (64 invocations over 8 row blocks), which amortises
 *   llvmpipe's per-workgroup cost over more work. On a busy machine it ran 1568x1280x1280 in 571 ms (median of 12)
 *   against 725 for 8x1, and 1024^3 level; autotune decides per adapter.
 * - 'regblock' (kernels/matmul_regblock.wgsl): 4x16 outputs per invocation from vec4 loads, 8x1 workgroups, no
 *   workgroup memory; transposed or unaligned operands are first packed into zero-padded vec4 rows.
 *   The software default before 'texture'. Measured with bench/matmul-variants.ts on Dawn OpenGL -> Mesa 22.3 llvmpipe,
 *   2 AMD EPYC cores, 2026-11-22: 1024^3 7.8-12.7 GFLOP/s depending on the machine's state (tiled 1.7);
 *   1568x1280x1280 6.8 (tiled 1.5); 256^3 5.1 (tiled 1.1). Register tiles tried at 1024^3: 4x16 7.8-8.0,
 *   16x16 7.0, 8x16 5.4, 2x16 5.5, 1x16 2.2, and a 16x16 tile from scalar loads 2.5. Lanes along rows instead of
 *   columns (1x8 workgroups) lost 60%; skipping all-zero blocks of A gained nothing (llvmpipe runs both sides of the
 *   branch under masks).
 * - 'regblock-wide': the same kernel with 64x1 workgroups, a candidate for adapters that favour wide workgroups.
 * - 'tiled' (kernels/matmul_tiled.wgsl): 64x64 workgroup tile staged in workgroup memory, 4x4 per invocation.
 *   The default for hardware GPUs, where workgroup memory is on-chip and loads coalesce across a warp.
 * At first use on an adapter, autotune() times each candidate on a 512^3 matmul and keeps the fastest (cached on
 * disk per adapter and wgrad version); WGRAD_TUNE=0 or init({ tune: false }) keeps these defaults.
 */
export type MatmulVariant = 'texture' | 'texture-tall' | 'regblock' | 'regblock-wide' | 'tiled';
export const MATMUL_VARIANTS: readonly MatmulVariant[] = ['texture', 'texture-tall', 'regblock', 'regblock-wide', 'tiled'];

export interface MatmulConfig {
  kernel: 'matmul_texture' | 'matmul_regblock' | 'matmul_tiled';
  workgroupX: number;
  /** Rows of invocations per workgroup (matmul_texture only). */
  workgroupY?: number;
}

export const MATMUL_CONFIGS: Record<MatmulVariant, MatmulConfig> = {
  texture: { kernel: 'matmul_texture', workgroupX: 8 },
  'texture-tall': { kernel: 'matmul_texture', workgroupX: 8, workgroupY: 8 },
  regblock: { kernel: 'matmul_regblock', workgroupX: 8 },
  'regblock-wide': { kernel: 'matmul_regblock', workgroupX: 64 },
  tiled: { kernel: 'matmul_tiled', workgroupX: 16 },
};

/**
 * attention (MultiHeadSelfAttention / MultiHeadAttention with attention: 'auto')
 * - Software adapters compose it ('unfused': texture matmuls, softmax, strided copies). On Dawn OpenGL -> llvmpipe
 *   (bench/attention.ts, 2026-11-22) it beat the fused kernels at B=32 h=8 T=49 d=160: forward 184 vs 353 ms,
 *   forward+backward 458 vs 991 ms; at B=8 h=8 T=256 d=64: 352 vs 620 and 771 vs 3027 ms. Fused keeps the edge in
 *   memory (peak +8 vs +53 MiB at the first shape), so it stays available by name.
 * - On an NVIDIA H100 over Vulkan (same script, 2026-11-22) composing won too: at the first shape forward 0.9-1.2 vs
 *   2.2 ms and forward+backward 2.9-3.0 vs 13.4 ms; at the second 0.9 vs 3.4 ms and 2.2-3.1 vs 15.9 ms. So every
 *   adapter measured composes; the fused kernels, which never write the [T, T] scores, are kept for memory.
 */
export const defaultAttentionImpl = (_report: AdapterReport): 'fused' | 'unfused' => 'unfused';

let matmulOverride: MatmulVariant | null = null;

/** Texture limits the texture variant chunks its work by; tests lower them to exercise the chunked paths. */
export const textureLimitOverride: { value: { maxDim: number; maxLayers: number } | null } = { value: null };
const tuned = new Map<string, MatmulVariant>();

export const defaultMatmulVariant = (report: AdapterReport): MatmulVariant => (report.software ? 'texture' : 'tiled');

/** matmul_texture's register tile: RG row sub-blocks of TM rows by CJ column sub-blocks of 8 columns. */
export interface TextureTile {
  tm: number;
  rg: number;
  cj: number;
}

/** matmul_texture's register tile for every shape; tests set it to run each tile the shapes would not pick here. */
export const textureTileOverride: { value: TextureTile | null } = { value: null };

/** Lanes per workgroup of copy_rows.wgsl; tests set it to run the other adapters' choice here. */
export const copyLanesOverride: { value: number | null } = { value: null };

// One 256-bit SIMD group on llvmpipe (the split-heads transpose, rows of 40 vec4 words, took 3.7-4.6 ms at 8 lanes,
// 5.0 at 4, 5.1 at 40 and 8.0 at 16), a warp's worth elsewhere.
export const copyRowLanes = (report: AdapterReport): number => copyLanesOverride.value ?? (report.software ? 8 : 64);

/** The identity tuning results are cached under: the adapter as Dawn describes it, and the wgrad version. */
export function adapterKey(report: AdapterReport, version: string): string {
  // The variant list is part of the key: a release that adds a variant re-tunes even at the same version number.
  return [report.vendor, report.architecture, report.device, report.description, report.backend, report.featureLevel, `wgrad ${version}`, MATMUL_VARIANTS.join(',')].join('|');
}

export function matmulVariant(report: AdapterReport): MatmulVariant {
  return matmulOverride ?? tuned.get(adapterKey(report, '')) ?? defaultMatmulVariant(report);
}


/** Forces one matmul variant (null restores the tuned or default choice). Used by tests and the bench. */
export function setMatmulVariant(variant: MatmulVariant | null): void {
  matmulOverride = variant;
}

/** Records the variant chosen for an adapter in this process. */
export function setTunedVariant(report: AdapterReport, variant: MatmulVariant): void {
  tuned.set(adapterKey(report, ''), variant);
}

export function defaultTuningCache(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'wgrad', 'tuning.json');
}

export function readTuningCache(path: string): Record<string, { matmul: MatmulVariant; measuredMs: Record<string, number>; date: string }> {
  if (!existsSync(path)) return {};
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return {}; // a damaged cache only costs a re-tune
  }
}

export function writeTuningCache(path: string, cache: ReturnType<typeof readTuningCache>): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.partial-${process.pid}`, JSON.stringify(cache, null, 1));
  renameSync(`${path}.partial-${process.pid}`, path);
}

