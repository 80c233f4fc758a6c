// Staged reads: a memory-bound kernel's input copied into an rgba32float texture, which the kernel reads instead of
// the buffer (kernels/include/staged.wgsl has the addressing and why). Only where choice.ts's stagedReads() says
// so: as autotune() timed it, else on software adapters.
import type { GpuDevice } from '../device/device.js';
import { textureLimitOverride } from '../device/test-hooks.js';
import { stagedReads } from '../device/choice.js';

export interface Staged {
  texture: GPUTexture;
  /** The texture is 2^shift texels wide (the kernels' stage_shift). */
  shift: number;
}

// Texels per texture row: 2^ROW_SHIFT, rows of 16 KiB (a multiple of the 256 bytes copyBufferToTexture wants),
// narrower only under a smaller maxTextureDimension2D and wider only when the rows would pass it.
const ROW_SHIFT = 10;
// Below this many words the copy's fixed cost is not won back. 2 x Zen 3, staged against buffer, 2026-12-03:
// softmax over rows of 49 at 1,568 words 0.19 against 0.17 ms, at 4,116 0.25 against 0.30; a sum of as many
// words 0.27 against 0.20, then 0.27 against 0.29.
export const MIN_STAGED_WORDS = 4096;

/**
 * Copies `words` vec4 words of `buffer`, from word `first`, into a pooled texture (word first + w at the texel
 * staged.wgsl's staged_at(w) gives), recorded in order with the dispatches, or
 * returns null when the input should be read from the buffer: on an adapter that reads buffers well, below
 * MIN_STAGED_WORDS, or past the texture limits. The caller releases the texture (releaseStaged) after recording the
 * dispatch that reads it; later reuse is ordered after that read.
 */
export function stage(device: GpuDevice, buffer: GPUBuffer, words: number, first = 0): Staged | null {
  if (!stagedReads(device.report) || words < MIN_STAGED_WORDS || (first + words) * 16 > buffer.size) return null;
  const maxDim = textureLimitOverride.value?.maxDim ?? device.device.limits.maxTextureDimension2D;
  let shift = Math.min(ROW_SHIFT, Math.floor(Math.log2(maxDim)));
  while (Math.ceil(words / 2 ** shift) > maxDim && 2 ** (shift + 1) <= maxDim) shift++;
  const width = 2 ** shift;
  const full = Math.floor(words / width);
  const left = words - full * width;
  const height = full + (left > 0 ? 1 : 0);
  // Rows of under 16 texels would not be 256 bytes apart (a limit no adapter has: WebGPU's minimum is 4096).
  if (height > maxDim || width > maxDim || (height > 1 && width < 16)) return null;
  const texture = device.texturePool.acquire(width, height, 1);
  if (full > 0) device.copyToTexture(buffer, first * 16, width * 16, full, texture, [width, full, 1]);
  if (left > 0) device.copyToTexture(buffer, (first + full * width) * 16, width * 16, 1, texture, [left, 1, 1], [0, full, 0]);
  return { texture, shift };
}

export function releaseStaged(device: GpuDevice, staged: Staged | null): void {
  if (staged) device.texturePool.release(staged.texture);
}
