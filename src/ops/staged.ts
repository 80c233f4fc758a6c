// Staged reads: a memory-bound kernel's inputs copied into rgba32float textures, which the kernel reads instead of
// the buffers (kernels/include/staged.wgsl has the addressing and why). Only where choice.ts's stagedReads() says
// so: as autotune() timed it, else on software adapters.
import type { GpuDevice } from '../device/device.js';
import { textureLimitOverride } from '../device/test-hooks.js';
import { stagedReads } from '../device/choice.js';

/** How a dispatch binds its inputs: staged textures, or the buffers themselves. */
export interface Inputs {
  staged: boolean;
  /** The dispatch's `textures` and `read`: one of the two holds the inputs, the other is empty. */
  textures: GPUTexture[];
  read: GPUBuffer[];
  /** The textures are 2^shift texels wide (the kernels' stage_shift); 0 when not staged. */
  shift: number;
  /** Returns the textures to the pool; call it after recording the dispatch that reads them. */
  release(): void;
}

// Texels per texture row: 2^ROW_SHIFT, rows of 16 KiB (a multiple of the 256 bytes copyBufferToTexture wants),
// narrower only under a smaller maxTextureDimension2D and wider only when the rows would pass it.
const ROW_SHIFT = 10;
// Below this many words the copy's fixed cost is not won back. 2 x Zen 3, staged against buffer, 2026-12-03:
// softmax over rows of 49 at 1,568 words 0.19 against 0.17 ms, at 4,116 0.25 against 0.30; a sum of as many
// words 0.27 against 0.20, then 0.27 against 0.29.
export const MIN_STAGED_WORDS = 4096;

/** The width (as a shift) and height of a texture holding `words` texels, or null past the limits. */
function layout(words: number, maxDim: number): { shift: number; full: number; left: number } | null {
  let shift = Math.min(ROW_SHIFT, Math.floor(Math.log2(maxDim)));
  while (Math.ceil(words / 2 ** shift) > maxDim && 2 ** (shift + 1) <= maxDim) shift++;
  const width = 2 ** shift;
  const full = Math.floor(words / width);
  const left = words - full * width;
  const height = full + (left > 0 ? 1 : 0);
  // Rows of under 16 texels would not be 256 bytes apart (a limit no adapter has: WebGPU's minimum is 4096).
  if (height > maxDim || width > maxDim || (height > 1 && width < 16)) return null;
  return { shift, full, left };
}

/**
 * The inputs of a dispatch that reads `words` vec4 words of each buffer, from word `first`: each copied into a
 * pooled texture (word first + w at the texel staged.wgsl's staged_at(w) gives), recorded in order with the
 * dispatches, when `stage` is set and the adapter reads textures better (stagedReads); else the buffers, as they
 * are. Either all inputs are staged or none: below MIN_STAGED_WORDS, past the texture limits, past a buffer's end or
 * past the storage textures a dispatch may bind.
 */
export function readInputs(device: GpuDevice, buffers: GPUBuffer[], words: number, { first = 0, stage = true } = {}): Inputs {
  const asBuffers: Inputs = { staged: false, textures: [], read: buffers, shift: 0, release() {} };
  if (!stage || !stagedReads(device.report) || words < MIN_STAGED_WORDS || buffers.some((b) => (first + words) * 16 > b.size)) return asBuffers;
  if (buffers.length > device.device.limits.maxStorageTexturesPerShaderStage) return asBuffers;
  const at = layout(words, textureLimitOverride.value?.maxDim ?? device.device.limits.maxTextureDimension2D);
  if (!at) return asBuffers;
  const width = 2 ** at.shift;
  const pool = device.texturePool;
  const textures = buffers.map((buffer) => {
    const texture = pool.acquire(width, at.full + (at.left > 0 ? 1 : 0), 1);
    if (at.full > 0) device.copyToTexture(buffer, first * 16, width * 16, at.full, texture, [width, at.full, 1]);
    if (at.left > 0) device.copyToTexture(buffer, (first + at.full * width) * 16, width * 16, 1, texture, [at.left, 1, 1], [0, at.full, 0]);
    return texture;
  });
  return { staged: true, textures, read: [], shift: at.shift, release: () => textures.forEach((t) => pool.release(t)) };
}
