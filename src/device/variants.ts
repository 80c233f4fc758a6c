import type { AdapterReport } from './adapter.js';
import { copyLanesOverride } from './test-hooks.js';

/**
 * The kernel variants wgrad can choose between, and the default choice per adapter. Every variant computes the same
 * result; the parity tests run all of them. Where each default came from (adapter, date, numbers) is in
 * docs/kernel-choices.md; autotune() measures the matmul choice again on each adapter.
 *
 * - 'texture' (kernels/matmul_texture.wgsl): up to 16x16 outputs per invocation, A and B read from rgba32float
 *   texture arrays. The default for software adapters, where texture loads beat buffer loads.
 * - 'texture-tall': the same kernel on 8x8 workgroups, which amortises llvmpipe's per-workgroup cost.
 * - 'regblock' (kernels/matmul_regblock.wgsl): 4x16 outputs per invocation from vec4 buffer loads, 8x1 workgroups.
 * - 'regblock-wide': the same kernel on 64x1 workgroups.
 * - 'tiled' (kernels/matmul_tiled.wgsl): a 64x64 workgroup tile in workgroup memory, 4x4 per invocation. The
 *   default for hardware GPUs.
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

export const defaultMatmulVariant = (report: AdapterReport): MatmulVariant => (report.software ? 'texture' : 'tiled');

/** matmul_texture's register tile: RG row sub-blocks of TM rows by CJ column sub-blocks of 8 columns. */
export interface TextureTile {
  tm: number;
  rg: number;
  cj: number;
}

/** Lanes per workgroup of copy_rows.wgsl: one 256-bit SIMD group on llvmpipe, a warp's worth elsewhere. */
export const copyRowLanes = (report: AdapterReport): number => copyLanesOverride.value ?? (report.software ? 8 : 64);

/**
 * Loop iterations one invocation may run on this adapter. Mesa's llvmpipe (22.3) ends every loop of an invocation
 * once the invocation has run 65535 loop iterations in all, counting each loop's exit test (gallivm's guard against
 * endless loops), and raises no error. Measured on 2026-12-02: the (since retired) fused attention forward at
 * [1, T, 1, 64] returned only each row's first output column from T = 500, where its loops reach 65,630 iterations
 * (T = 499: 65,499, exact), and a [8, K] x [K, 8] texture matmul was 3% off at K = 270,000 (67,500 steps of 4), exact
 * at 262,148. Kernels whose loops grow with a tensor's size split the work past this budget (matmul and dense over
 * K, argmax over its axis, gather's gradient over the positions of one row).
 * Software adapters get it; SwiftShader has not been measured, so it gets it too.
 */
export const loopBudget = (report: AdapterReport): number => (report.software ? 60_000 : Infinity);
