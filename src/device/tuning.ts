import type { AdapterReport } from './adapter.ts';

/**
 * Kernel choices per adapter, in one place. Every variant computes the same result; the parity tests run all of them.
 *
 * matmul
 * - 'regblock' (kernels/matmul_regblock.wgsl): 4x16 outputs per invocation from vec4 loads, 8x1 workgroups, no
 *   workgroup memory; transposed or unaligned operands are first packed into zero-padded vec4 rows.
 *   Chosen for software adapters. Measured with bench/matmul-variants.ts on Dawn OpenGL -> Mesa 22.3 llvmpipe,
 *   2 AMD EPYC cores, 2026-11-22: 1024^3 7.8 GFLOP/s (tiled 1.7); 1568x1280x1280 6.8 (tiled 1.5); 256^3 5.1
 *   (tiled 1.1). Register tiles tried at 1024^3: 4x16 7.8-8.0, 16x16 7.0, 8x16 5.4, 2x16 5.5, 1x16 2.2, and a
 *   16x16 tile from scalar loads 2.5. Workgroup widths 8-64 were within noise; 4 lost 40%.
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
