import type { GpuDevice } from '../device/device.js';
import { gridFor, MAX_WORKGROUPS } from '../device/device.js';
import { copyRowLanes } from '../device/variants.js';
import { defaultWorkgroup, padShape, params } from '../device/uniforms.js';
import { numel, type Shape } from '../tensor/dims.js';
import type { CpuArray } from '../tensor/tensor.js';
import { stridedIndices } from './cpu.js';
import { readInputs } from './staged.js';

/** A strided walk over `shape`: element idx sits at offset + sum(idx * strides). */
export interface Walk {
  offset: number;
  strides: readonly number[];
}

/**
 * The same walks over fewer dimensions: size-1 dimensions dropped, and neighbours merged where every walk steps
 * through them as through one (stride[d] = stride[d+1] * shape[d+1] for each).
 */
export function mergeDims(shape: Shape, walks: readonly (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const out = { shape: [] as number[], strides: walks.map(() => [] as number[]) };
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = out.shape.length - 1;
    if (last >= 0 && walks.every((w, k) => out.strides[k][last] === w[d] * shape[d])) {
      out.shape[last] *= shape[d];
      walks.forEach((w, k) => (out.strides[k][last] = w[d]));
    } else {
      out.shape.push(shape[d]);
      walks.forEach((w, k) => out.strides[k].push(w[d]));
    }
  }
  return out;
}

/** mergeDims for a copy: the source's and the destination's walk. */
export function simplifyWalks(shape: Shape, from: Walk, to: Walk): { shape: number[]; src: number[]; dst: number[] } {
  const { shape: merged, strides: [src, dst] } = mergeDims(shape, [from.strides, to.strides]);
  return { shape: merged, src, dst };
}

// A row of copy_rows.wgsl must give each of its lanes (copyRowLanes) work, and at most 64 words each, else the flat
// walk below spreads it wider.
export const ROW_WORDS_PER_LANE = 64;

// Inner elements (or vec4 words) per invocation: the split-heads transpose [32,49,8,160] took 19, 11.5, 8.0 and
// 6.5 ms at 1, 2, 4 and 8 vec4 words on llvmpipe; 16 and more were slower again.
const COPY_ELEMS = 8;

// Inner runs per workgroup of copy_rows.wgsl (its comment has the measurement); where.wgsl's main_rows takes as many.
export const COPY_ROWS = 8;

/**
 * Records dst[walk_dst(idx)] = src[walk_src(idx)] for every idx over `shape`: by kernels/copy_rows.wgsl when the
 * outer dimensions fit the grid, else by kernels/copy_strided.wgsl.
 */
export function gpuCopy(device: GpuDevice, src: GPUBuffer, dst: GPUBuffer, shape: Shape, from: Walk, to: Walk): void {
  if (numel(shape) === 0) return;
  const w = simplifyWalks(shape, from, to);
  let inner = w.shape.pop() ?? 1;
  let srcInner = w.src.pop() ?? 0;
  let dstInner = w.dst.pop() ?? 0;
  let [srcOffset, dstOffset] = [from.offset, to.offset];
  // In vec4 words when the inner run is contiguous on both sides and everything lines up on 4.
  const vec4 =
    srcInner === 1 && dstInner === 1 && inner % 4 === 0 && srcOffset % 4 === 0 && dstOffset % 4 === 0 &&
    [...w.src, ...w.dst].every((x) => x % 4 === 0);
  if (vec4) {
    inner /= 4;
    [srcOffset, dstOffset] = [srcOffset / 4, dstOffset / 4];
    w.src = w.src.map((x) => x / 4);
    w.dst = w.dst.map((x) => x / 4);
  }
  const lanes = copyRowLanes(device.report);
  if (w.shape.length <= 3 && w.shape.every((d) => d <= MAX_WORKGROUPS) && inner >= lanes && inner <= lanes * ROW_WORDS_PER_LANE) {
    // The grid's x, y, z walk the outer dimensions in the source's order, smallest source stride first (a stable
    // sort: a broadcast's 0 strides come first, ties keep the destination's order), x in steps of ROWS.
    const order = w.shape.map((_, d) => w.shape.length - 1 - d).sort((a, b) => w.src[a] - w.src[b]);
    const [dims, srcStrides, dstStrides] = [w.shape, w.src, w.dst].map((v) => order.map((d) => v[d]));
    const extentX = dims[0] ?? 1;
    // A vec4 walk may read the source's words from a staged texture (staged.ts): those from the first it reads to
    // the last.
    const span = dims.reduce((s, d, i) => s + (d - 1) * srcStrides[i], inner);
    const inputs = readInputs(device, [src], span, { first: srcOffset, stage: vec4 });
    device.dispatch({
      kernel: 'copy_rows',
      entryPoint: inputs.staged ? 'main_vec4_staged' : vec4 ? 'main_vec4' : 'main',
      constants: { WG: lanes, ROWS: COPY_ROWS },
      uniforms: params('copy_rows', {
        stage_shift: inputs.shift,
        src_offset: inputs.staged ? 0 : srcOffset,
        dst_offset: dstOffset,
        inner,
        src_inner: srcInner,
        dst_inner: dstInner,
        extent_x: extentX,
        src_strides: padTo3(srcStrides),
        dst_strides: padTo3(dstStrides),
      }),
      textures: inputs.textures,
      read: inputs.read,
      write: [dst],
      workgroups: [Math.ceil(extentX / COPY_ROWS), dims[1] ?? 1, dims[2] ?? 1],
    });
    inputs.release();
    return;
  }
  const groups = Math.ceil(inner / COPY_ELEMS);
  const n = numel(w.shape) * groups;
  const grid = gridFor(n, defaultWorkgroup('copy_strided', 'WG'));
  device.dispatch({
    kernel: 'copy_strided',
    entryPoint: vec4 ? 'main_vec4' : 'main',
    constants: { ELEMS: COPY_ELEMS },
    uniforms: params('copy_strided', {
      n,
      rank: w.shape.length,
      src_offset: srcOffset,
      dst_offset: dstOffset,
      inner,
      groups,
      src_inner: srcInner,
      dst_inner: dstInner,
      grid_x: grid[0],
      shape: padShape(w.shape),
      src_strides: w.src,
      dst_strides: w.dst,
    }),
    read: [src],
    write: [dst],
    workgroups: grid,
  });
}

const padTo3 = (v: number[]): number[] => [v[0] ?? 0, v[1] ?? 0, v[2] ?? 0];

/** The CPU reference of gpuCopy. */
export function cpuCopy(src: CpuArray, dst: CpuArray, shape: Shape, from: Walk, to: Walk): void {
  const s = stridedIndices(shape, from.strides, from.offset);
  const d = stridedIndices(shape, to.strides, to.offset);
  for (let i = 0; i < s.length; i++) dst[d[i]] = src[s[i]];
}

export function emptyLike(dtype: 'float32' | 'int32', n: number): CpuArray {
  return dtype === 'int32' ? new Int32Array(n) : new Float64Array(n);
}
