// The texture variant (kernels/matmul_texture.wgsl): operands in rgba32float texture arrays, up to 16x16 outputs
// per invocation. The default on software adapters.
import { gridFor, MAX_WORKGROUPS, type GpuDevice } from '../../device/device.js';
import { textureLimitOverride } from '../../device/test-hooks.js';
import { defaultWorkgroup, params } from '../../device/uniforms.js';
import { numel, type Shape } from '../../tensor/dims.js';
import { prepare, type Operand } from './operand.js';
import { ACT_CODE, matmulDims, type Activation, type MatmulAttrs } from './reference.js';
import { chooseTile } from './tile-cost.js';

/** Fills a pooled texture array [width, height, layers] with rows r0 .. r0+height of layers z0 .. z0+layers. */
type TextureLoader = (z0: number, layers: number, r0: number, size: [number, number, number]) => GPUTexture;

interface TextureOperand {
  load: TextureLoader;
  /** Floats from one batch's matrix to the next; 0 when one matrix serves every batch. */
  step: number;
  /** Rows per texture row when stacked (matmul_texture's A_STACK / B_STACK), else 0. */
  stack: number;
  /** Batches one texture can hold. */
  maxBatches: number;
  /** Texels per texture row when copied in flat (matmul_texture's B_FLAT), else 0. */
  flat: number;
}

/** Texels per texture row of a flat operand (B_FLAT): rows of 4 KiB, or the widest power of two the limit allows. */
const flatWidth = (maxDim: number): number => Math.min(256, 2 ** Math.floor(Math.log2(maxDim)));
// Up to this M, B_FLAT beats packing B. The pack writes K*N/4 texels a batch (about 13 ns each on llvmpipe); B_FLAT
// loads 3 texels more per invocation and 4 steps of K, which is 3M/(8 TM) more loads per texel it saves (about
// 2.4 ns each). Measured: [64,64,160]x[64,160,49] 7.8 against 9.6 ms, M = 128 even, M = 256 and 512 slower.
const FLAT_MAX_M = 128;

// Column texels per column sub-block in matmul_texture.wgsl (its TN4).
const TEXTURE_COL_TEXELS = 2;

// Texels per invocation in pack_texture.wgsl: the index arithmetic costs llvmpipe more than the texel itself.
const PACK_TEXELS = 4;

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * Copies `count` runs of `runTexels` texels, lying end to end in `buffer` from `offset`, into texture `t`, `perRow`
 * runs to a texture row: full rows in one copy, then the runs left over at the start of the last row (the texels
 * after them are never read).
 */
function copyRuns(device: GpuDevice, buffer: GPUBuffer, offset: number, count: number, runTexels: number, perRow: number, t: GPUTexture): void {
  const pitch = perRow * runTexels * 16;
  const full = Math.floor(count / perRow);
  if (full > 0) device.copyToTexture(buffer, offset, pitch, full, t, [perRow * runTexels, full, 1]);
  const left = count - full * perRow;
  if (left > 0) device.copyToTexture(buffer, offset + full * pitch, pitch, 1, t, [left * runTexels, 1, 1], [0, full, 0]);
}

/**
 * An operand as texture rows: `rows` logical rows of `rowLength` floats (the stored matrix transposed when
 * `transpose`), zero-padded to the texture's size. copyBufferToTexture wants rows 256 bytes apart, so:
 * - rows of a multiple of 64 floats, read as stored, are copied in as they lie, a batch to a layer;
 * - with `stackable` (the kernel's A_STACK / B_STACK), rows of a multiple of 4 floats are copied in as they lie too,
 *   several to a texture row so that a texture row is a multiple of 256 bytes (attention's 160-float rows go 2 to
 *   a row), all batches in one layer;
 * - with `flatable` (B read along K, small M), rows of other lengths are copied in flat, as the buffer lies, and the
 *   kernel shifts each row into place (B_FLAT);
 * - every other operand is written into its texture by kernels/pack_texture.wgsl in one pass. On llvmpipe that
 *   costs about as much as a third of the product at attention's shapes: texture stores are slow there.
 */
function textureOperand(
  device: GpuDevice,
  op: Operand,
  batch: Shape,
  layout: { transpose: boolean; rows: number; rowLength: number; textureRows: number; stackable: boolean; flatable: boolean },
  limits: { maxDim: number; maxLayers: number },
  temps: GPUBuffer[],
): TextureOperand {
  const { transpose, rows, rowLength, textureRows } = layout;
  const stored1 = op.shape[op.shape.length - 1];
  // Only a partially broadcast batch is expanded first; the rest is read where it is.
  const [buffer, step] = prepare(device, op, batch, false, null, temps);
  const [rowStride, colStride] = transpose ? [1, stored1] : [stored1, 1];
  const pool = device.texturePool;
  const asStored = !transpose && rows === textureRows;
  const layered = { step, stack: 0, flat: 0, maxBatches: limits.maxLayers };  // a batch to a texture layer
  if (asStored && rowLength % 64 === 0) {
    return {
      ...layered,
      load(z0, layers, r0, size) {
        const t = pool.acquire(...size);
        device.copyToTexture(buffer, (z0 * step + r0 * rowStride) * 4, rowLength * 4, rows, t, size);
        return t;
      },
    };
  }
  const texels = rowLength / 4;
  const stack = 64 / gcd(rowLength, 64);
  // Rows past `rows` are not stacked: only B, read along K, has any, and the kernel zeroes them.
  if (layout.stackable && !transpose && rowLength % 4 === 0 && stack * texels <= limits.maxDim && rows <= limits.maxDim) {
    return {
      step,
      stack,
      flat: 0,
      maxBatches: Math.min(MAX_WORKGROUPS, Math.max(1, Math.floor((limits.maxDim * stack) / rows))),
      load(z0, layers) {
        const total = (step === 0 ? 1 : layers) * rows;
        const t = pool.acquire(stack * texels, Math.ceil(total / stack), 1);
        copyRuns(device, buffer, z0 * step * 4, total, texels, stack, t);
        return t;
      },
    };
  }
  // B read along K with N % 4 != 0, when the pack would cost more than the kernel's extra loads (`flatable`): copied
  // in as it lies, the kernel shifting each row into place (B_FLAT). Every batch's matrix must start on a texel,
  // and the whole last texel must lie in the buffer.
  const matrix = rows * rowLength;
  const width = flatWidth(limits.maxDim);
  const aligned = step === 0 ? Math.ceil(matrix / 4) * 16 <= buffer.size : step % 4 === 0;
  if (layout.flatable && !transpose && aligned && matrix + 8 <= width * limits.maxDim * 4) {
    return {
      step,
      stack: 0,
      flat: width,
      maxBatches: Math.min(MAX_WORKGROUPS, Math.floor((width * limits.maxDim * 4 - 8) / matrix)),
      load(z0, layers) {
        const total = Math.ceil(((step === 0 ? 1 : layers) * matrix) / 4);
        // Two texels past the end are read, for columns past N only; the texture has room for them.
        const t = pool.acquire(width, Math.ceil((total + 2) / width), 1);
        copyRuns(device, buffer, z0 * step * 4, total, 1, width, t);
        return t;
      },
    };
  }
  return {
    ...layered,
    load(z0, layers, r0, size) {
      const t = pool.acquire(...size);
      const [width, height] = size;
      const base = z0 * step + r0 * rowStride;
      const vec4 = colStride === 1 && [base, step, rowStride, rowLength].every((v) => v % 4 === 0);
      const runs = Math.ceil(width / PACK_TEXELS);
      const grid = gridFor(runs * height, defaultWorkgroup('pack_texture', 'WG'));
      device.dispatch({
        kernel: 'pack_texture',
        entryPoint: vec4 ? 'main_vec4' : 'main',
        constants: { TEXELS: PACK_TEXELS },
        uniforms: params('pack_texture', {
          rows: Math.max(0, rows - r0),
          cols: rowLength,
          row_stride: rowStride,
          col_stride: colStride,
          layer_step: step,
          base,
          width,
          height,
          runs,
          grid_x: grid[0],
        }),
        storeTextures: [t],
        read: [buffer],
        write: [],
        workgroups: [grid[0], grid[1], layers],
      });
      return t;
    },
  };
}

/**
 * The grid for matmul_texture's [column, row, batch] blocks on wgX x wgY workgroups: by position when that idles
 * under 1 lane in 16, else numbered flat (FLAT), which idles none but the last workgroup's tail. Position is kept
 * where it fits, since its square workgroups share more operand texels between neighbouring lanes. A grid by
 * position with more than one row of workgroups is given rows first (COL_MAJOR), so that the workgroups run one
 * after another share a panel of B.
 */
export function blockGrid([cols, rows, batches]: [number, number, number], wgX: number, wgY: number): { flat: boolean; colMajor: boolean; workgroups: [number, number, number] } {
  const [x, y] = [Math.ceil(cols / wgX), Math.ceil(rows / wgY)];
  if (x * wgX * y * wgY * 15 <= cols * rows * 16) {
    const colMajor = y > 1;
    return { flat: false, colMajor, workgroups: colMajor ? [y, x, batches] : [x, y, batches] };
  }
  const [fx, fy] = gridFor(cols * rows * batches, wgX * wgY);
  return { flat: true, colMajor: false, workgroups: [fx, fy, 1] };
}

/**
 * The texture variant: A and B go into rgba32float texture arrays (A as [M, K4] texels, B as [K4*4, N4]), by a copy
 * or kernels/pack_texture.wgsl (textureOperand), and are read by kernels/matmul_texture.wgsl. Transposed operands
 * are copied as stored and regrouped by the kernel (TRANS_B; TRANS_A when 8 rows per invocation suit M), so they
 * need no transposing pack. Batches past maxTextureArrayLayers (or past what a stacked texture holds) and rows past
 * maxTextureDimension2D are done in chunks.
 * Returns false (and records nothing) when K or N exceed the texture limits, so the caller uses the buffer kernel.
 */
export function textureMatmul(device: GpuDevice, a: Operand, b: Operand, bias: GPUBuffer | null, out: GPUBuffer, attrs: MatmulAttrs, act: Activation, wgX: number, wgY: number): boolean {
  const { m, n, k, batch } = matmulDims(a.shape, b.shape, attrs);
  const nb = numel(batch);
  const k4 = Math.ceil(k / 4);
  const n4 = Math.ceil(n / 4);
  const m4 = Math.ceil(m / 4);
  const { maxTextureDimension2D, maxTextureArrayLayers } = device.device.limits;
  const { maxDim, maxLayers } = textureLimitOverride.value ?? { maxDim: maxTextureDimension2D, maxLayers: maxTextureArrayLayers };
  // A transposed A is read as stored only when the tile has 8 rows per sub-block anyway (TRANS_A needs TM 8);
  // otherwise a transposing pack lets TM follow M (attention's M = 49 ran 24.5 ms packed at TM 7, 27.5 ms read as
  // stored).
  const transB = attrs.transB;
  const macs = nb * m * n * k;
  const { tm, rg, cj } = chooseTile(device.report, { a: a.shape, b: b.shape, transA: attrs.transA, transB }, Math.min(m, maxDim), n, macs);
  const transA = attrs.transA && tm === 8;
  if (transB ? k4 > maxDim || n > maxDim : k4 * 4 > maxDim || n4 > maxDim) return false;
  if (transA && (m4 > maxDim || k4 * 4 > maxDim)) return false;
  const temps: GPUBuffer[] = [];
  // Stored rows: A as [M, K] (or [K, M] with TRANS_A), B as [K, N] (or [N, K] with TRANS_B). K is padded to K4*4
  // wherever it counts rows, so the kernel's 4-row steps over K read zeros past the end.
  const aLayout = transA
    ? { transpose: false, rows: k, rowLength: m, textureRows: k4 * 4, stackable: false, flatable: false }
    : { transpose: attrs.transA, rows: m, rowLength: k, textureRows: m, stackable: true, flatable: false };
  const bLayout = transB
    ? { transpose: false, rows: n, rowLength: k, textureRows: n, stackable: true, flatable: false }
    : { transpose: false, rows: k, rowLength: n, textureRows: k4 * 4, stackable: true, flatable: m <= FLAT_MAX_M };
  const A = textureOperand(device, a, batch, aLayout, { maxDim, maxLayers }, temps);
  const B = textureOperand(device, b, batch, bLayout, { maxDim, maxLayers }, temps);
  const bSize = (layers: number): [number, number, number] => (transB ? [k4, n, layers] : [n4, k4 * 4, layers]);
  const pool = device.texturePool;
  const constants = {
    HAS_BIAS: bias !== null, ACT: ACT_CODE[act], WG_X: wgX, WG_Y: wgY, TM: tm, RG: rg, CJ: cj, TRANS_A: transA, TRANS_B: transB,
    A_STACK: A.stack > 0, B_STACK: B.stack > 0, B_FLAT: B.flat > 0, B_NMOD4: n % 4, C_VEC4: n % 4 === 0,
  };
  // Rows of C past maxTextureDimension2D go in chunks, except with TRANS_A, where A's rows are texel columns.
  const rowChunk = transA ? m : maxDim;
  const sharedB = B.step === 0 ? B.load(0, 1, 0, bSize(1)) : null;
  const batchChunk = Math.min(A.maxBatches, B.maxBatches);
  for (let z0 = 0; z0 < nb; z0 += batchChunk) {
    const zc = Math.min(batchChunk, nb - z0);
    const texB = sharedB ?? B.load(z0, zc, 0, bSize(zc));
    for (let r0 = 0; r0 < m; r0 += rowChunk) {
      const mc = Math.min(rowChunk, m - r0);
      const aLayers = A.step === 0 ? 1 : zc;
      const aSize: [number, number, number] = transA ? [m4, k4 * 4, aLayers] : [k4, mc, aLayers];
      const texA = A.load(A.step === 0 ? 0 : z0, aLayers, r0, aSize);
      const blocks: [number, number, number] = [Math.ceil(n4 / (TEXTURE_COL_TEXELS * cj)), Math.ceil(mc / (tm * rg)), zc];
      const grid = blockGrid(blocks, wgX, wgY);
      device.dispatch({
        kernel: 'matmul_texture',
        constants: { ...constants, FLAT: grid.flat, COL_MAJOR: grid.colMajor },
        uniforms: params('matmul_texture', {
          m: mc,
          n,
          k4,
          n4,
          a_layer: A.step === 0 ? 0 : 1,
          b_layer: B.step === 0 ? 0 : 1,
          c_batch: m * n,
          c_base: z0 * m * n + r0 * n,
          col_blocks: blocks[0],
          row_blocks: blocks[1],
          batches: zc,
          grid_x: grid.workgroups[0],
          a_pack: A.stack,
          b_pack: B.flat || B.stack,
          k,
        }),
        textures: [texA, texB],
        // A bias binding must exist even when unused; a's buffer stands in (HAS_BIAS=false never reads it).
        read: [bias ?? a.buffer],
        write: [out],
        workgroups: grid.workgroups,
      });
      pool.release(texA);
    }
    if (!sharedB) pool.release(texB);
  }
  if (sharedB) pool.release(sharedB);
  for (const t of temps) device.free(t);
  return true;
}

