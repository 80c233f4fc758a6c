import type { TextureTile } from './variants.js';

/**
 * Overrides that make this machine run the code paths another adapter would take, so the parity tests cover every
 * variant here. null (the default) leaves each choice to the adapter.
 */

/** Texture limits the texture matmul chunks its work by; lowered to exercise the chunked paths. */
export const textureLimitOverride: { value: { maxDim: number; maxLayers: number } | null } = { value: null };

/** matmul_texture's register tile for every shape; set to run each tile the shapes would not pick here. */
export const textureTileOverride: { value: TextureTile | null } = { value: null };

/** Lanes per workgroup of copy_rows.wgsl; set to run the other adapters' choice here. */
export const copyLanesOverride: { value: number | null } = { value: null };

/** The largest storage binding the device allows a tensor, in bytes; lowered to reach the paths that guard it. */
export const bindingLimitOverride: { value: number | null } = { value: null };
