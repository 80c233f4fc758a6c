import type { AdapterReport } from './adapter.ts';

/**
 * Kernel choices per adapter, in one place. Every variant computes the same result; the parity tests run all of them.
 *
 * matmul
 * - 'regblock' (kernels/matmul_regblock.wgsl): 16x16 outputs per invocation, 8x1 workgroups, no workgroup memory.
 *   Chosen for software adapters. On Dawn OpenGL -> Mesa 22.3 llvmpipe (2 cores, this project's CI machine) it was
 *   measured against 'tiled' at 1024^3 in bench/matmul-variants.ts; see docs/bench.md for the figures.
 * - 'tiled' (kernels/matmul_tiled.wgsl): 64x64 workgroup tile staged in workgroup memory, 4x4 per invocation.
 *   Chosen for hardware GPUs, where workgroup memory is on-chip and loads are coalesced across a warp.
 */
export type MatmulVariant = 'regblock' | 'tiled';
export const MATMUL_VARIANTS: readonly MatmulVariant[] = ['regblock', 'tiled'];

let matmulOverride: MatmulVariant | null = null;

export function matmulVariant(report: AdapterReport): MatmulVariant {
  return matmulOverride ?? (report.software ? 'regblock' : 'tiled');
}

/** Forces one matmul variant (null restores the per-adapter choice). Used by tests and the bench. */
export function setMatmulVariant(variant: MatmulVariant | null): void {
  matmulOverride = variant;
}
