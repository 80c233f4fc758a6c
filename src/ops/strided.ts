import type { GpuDevice } from '../device/device.ts';
import { grid1d } from '../device/device.ts';
import { Uniforms } from '../device/uniforms.ts';
import { numel, type Shape } from '../shape.ts';
import type { CpuArray } from '../tensor.ts';
import { stridedIndices } from './cpu.ts';

/** A strided walk over `shape`: element idx sits at offset + sum(idx * strides). */
export interface Walk {
  offset: number;
  strides: readonly number[];
}

/** Records dst[walk_dst(idx)] = src[walk_src(idx)] for every idx over `shape` (kernels/copy_strided.wgsl). */
export function gpuCopy(device: GpuDevice, src: GPUBuffer, dst: GPUBuffer, shape: Shape, from: Walk, to: Walk): void {
  const n = numel(shape);
  if (n === 0) return;
  device.dispatch({
    kernel: 'copy_strided',
    uniforms: new Uniforms()
      .u32(n)
      .u32(shape.length)
      .u32(from.offset)
      .u32(to.offset)
      .vec8(shape, 1)
      .vec8(from.strides)
      .vec8(to.strides)
      .done(),
    read: [src],
    write: [dst],
    workgroups: grid1d(n, 256),
  });
}

/** The CPU reference of gpuCopy. */
export function cpuCopy(src: CpuArray, dst: CpuArray, shape: Shape, from: Walk, to: Walk): void {
  const s = stridedIndices(shape, from.strides, from.offset);
  const d = stridedIndices(shape, to.strides, to.offset);
  for (let i = 0; i < s.length; i++) dst[d[i]] = src[s[i]];
}

export function emptyLike(dtype: 'float32' | 'int32', n: number): CpuArray {
  return dtype === 'int32' ? new Int32Array(n) : new Float64Array(n);
}
