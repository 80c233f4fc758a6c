// Every op's WebGPU forward and backward against the float64 CPU reference (the cases: support/parity-cases.ts),
// under every matmul variant and the texture kernel's forced tiles and limits.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as wg from '../src/node.js';
import type { Tensor } from '../src/node.js';
import { copyLanesOverride, textureLimitOverride, textureTileOverride } from '../src/device/test-hooks.js';
import { blockGrid } from '../src/ops/matmul/texture.js';
import { assertClose, disposeAll, gpu } from './helpers.js';
import { cases, mm, runCase, type Case } from './support/parity-cases.js';

const parity = suite('parity: WebGPU vs float64 CPU');
parity.before(async () => {
  await gpu();
});
for (const c of cases) {
  if (c.name.startsWith('matmul') || c.name.startsWith('dense')) {
    for (const v of wg.MATMUL_VARIANTS) parity(`${c.name} (${v})`, runCase(c, v));
  } else {
    parity(c.name, runCase(c, null));
  }
}

// matmul_texture's register tile follows the shape (textureTile), and products as small as these keep one
// sub-block. Every matmul case runs again at 2x1, 1x2 and 2x2 sub-blocks; TM 8 reads a transposed A as stored
// (TRANS_A), TM 5 and 7 pack it.
const tiles = [{ tm: 8, rg: 2, cj: 1 }, { tm: 5, rg: 1, cj: 2 }, { tm: 7, rg: 2, cj: 2 }];
for (const tile of tiles) {
  for (const c of cases.filter((c) => c.name.startsWith('matmul') || c.name.startsWith('dense'))) {
    parity(`${c.name} (texture, tile ${tile.tm}x${tile.rg}x${tile.cj})`, async () => {
      textureTileOverride.value = tile;
      try {
        await runCase(c, 'texture')();
      } finally {
        textureTileOverride.value = null;
      }
    });
  }
}

// copy_rows.wgsl runs 8 lanes a row on software adapters and 64 elsewhere, and the lane count decides which rows
// it takes (at least a word a lane, at most 64); both counts run here, whatever this adapter is.
const copyCases = cases.filter((c) => /^(split heads|transpose|permute|reshape|slice|concat|expand)/.test(c.name));
for (const lanes of [8, 64]) {
  for (const c of copyCases) {
    parity(`${c.name} (copy_rows at ${lanes} lanes)`, async () => {
      copyLanesOverride.value = lanes;
      try {
        await runCase(c, null)();
      } finally {
        copyLanesOverride.value = null;
      }
    });
  }
}
parity('the lane count sends rows of 40 vec4 words to copy_rows at 8 lanes, and rows of 1,000 words at 64', async () => {
  const device = wg.getDevice();
  const kernels: string[] = [];
  const dispatch = device.dispatch;
  device.dispatch = (d) => {
    kernels.push(d.kernel);
    dispatch.call(device, d);
  };
  const x = wg.rand([2, 49, 8, 160], { seed: 1 });
  const w = wg.rand([3, 1100], { seed: 2 });
  const run = (lanes: number): string[] => {
    copyLanesOverride.value = lanes;
    kernels.length = 0;
    disposeAll([wg.permute(x, [0, 2, 1, 3]), wg.slice(w, [0, 50], [3, 1050])]);
    return [...kernels];
  };
  try {
    assert.equal(run(8), ['copy_rows', 'copy_strided']);
    assert.equal(run(64), ['copy_strided', 'copy_rows']);
  } finally {
    copyLanesOverride.value = null;
    device.dispatch = dispatch;
    disposeAll([x, w]);
  }
});

// The texture variant splits batches past maxTextureArrayLayers and rows past maxTextureDimension2D into chunks;
// tiny limits make these shapes take every chunked path (rows, layers, a shared broadcast B) forward and backward.
const chunked: Case[] = [
  { name: 'matmul chunked [5,20,12]x[5,12,9]', inputs: [{ shape: [5, 20, 12] }, { shape: [5, 12, 9] }], fn: mm(), reduce: 12 },
  // K*N = 99 is odd, so B's batches cannot start on a texel: it is packed, not copied in flat.
  { name: 'matmul chunked [5,20,11]x[5,11,9]', inputs: [{ shape: [5, 20, 11] }, { shape: [5, 11, 9] }], fn: mm(), reduce: 11 },
  { name: 'matmul chunked [5,20,12]x[12,9]', inputs: [{ shape: [5, 20, 12] }, { shape: [12, 9] }], fn: mm(), reduce: 12 },
  { name: 'matmul chunked [20,12]x[5,12,9]', inputs: [{ shape: [20, 12] }, { shape: [5, 12, 9] }], fn: mm(), reduce: 12 },
  // B transposed is read as stored (TRANS_B); at N = 20 past the 16-row limit it falls back to the buffer kernel.
  { name: 'matmul chunked [5,20,12]x[5,13,12]T', inputs: [{ shape: [5, 20, 12] }, { shape: [5, 13, 12] }], fn: mm(false, true), reduce: 12 },
  { name: 'matmul chunked [5,20,12]x[5,20,12]T', inputs: [{ shape: [5, 20, 12] }, { shape: [5, 20, 12] }], fn: mm(false, true), reduce: 12 },
  // A transposed likewise (TRANS_A, taken when M suits 8 rows per invocation): M = 24 rows live in 6 texel columns,
  // so only the layers are chunked; at M = 72 (18 texel columns) it falls back; M = 70 is packed (7 rows each).
  { name: 'matmul chunked [5,12,24]Tx[5,12,9]', inputs: [{ shape: [5, 12, 24] }, { shape: [5, 12, 9] }], fn: mm(true, false), reduce: 12 },
  { name: 'matmul chunked [5,12,72]Tx[5,12,9]', inputs: [{ shape: [5, 12, 72] }, { shape: [5, 12, 9] }], fn: mm(true, false), reduce: 12 },
  { name: 'matmul chunked [5,12,70]Tx[5,12,9]', inputs: [{ shape: [5, 12, 70] }, { shape: [5, 12, 9] }], fn: mm(true, false), reduce: 12 },
  // Rows of 16 floats are copied in stacked, 4 to a texture row; 16 rows of texels hold 4 batches of A's 14 rows and
  // 7 of B's 9, so the batches go in chunks of 4, past the 2-layer limit (a stack is one layer), and leave partial
  // last rows (56 = 14 x 4 rows; 14 = 3 x 4 + 2).
  { name: 'matmul chunked [5,14,16]x[5,9,16]T', inputs: [{ shape: [5, 14, 16] }, { shape: [5, 9, 16] }], fn: mm(false, true), reduce: 16 },
  { name: 'matmul chunked [14,16]x[5,9,16]T', inputs: [{ shape: [14, 16] }, { shape: [5, 9, 16] }], fn: mm(false, true), reduce: 16 },
];
for (const c of chunked) {
  parity(`${c.name} (texture, limits 16 rows x 2 layers)`, async () => {
    textureLimitOverride.value = { maxDim: 16, maxLayers: 2 };
    try {
      await runCase(c, 'texture')();
    } finally {
      textureLimitOverride.value = null;
    }
  });
}
parity('the lowered texture limits really split the work (3 layer chunks x (B pack + 2 row chunks x (A pack + matmul)) = 15 dispatches)', async () => {
  const device = wg.getDevice();
  const [a, b] = [wg.rand([5, 20, 11], { seed: 1 }), wg.rand([5, 11, 9], { seed: 2 })];
  wg.setMatmulVariant('texture');
  textureLimitOverride.value = { maxDim: 16, maxLayers: 2 };
  try {
    const before = device.stats.dispatches;
    const y = wg.matmul(a, b);
    // K=11 and N=9 are not 4-aligned and K*N is odd, so each chunk of A and B is written into its texture by a pack.
    assert.is(device.stats.dispatches - before, 15);
    disposeAll([y]);
  } finally {
    textureLimitOverride.value = null;
    wg.setMatmulVariant(null);
    disposeAll([a, b]);
  }
});
parity('rows of a multiple of 4 floats go in stacked, unpacked: Q·Kᵀ at d = 160 is one dispatch, P·V one pack and the product', async () => {
  const device = wg.getDevice();
  const [q, k] = [wg.rand([4, 49, 160], { seed: 1 }), wg.rand([4, 49, 160], { seed: 2 })];
  wg.setMatmulVariant('texture');
  try {
    const before = device.stats.dispatches;
    const y = wg.matmul(q, k, { transposeB: true });
    assert.is(device.stats.dispatches - before, 1);
    const p = wg.rand([4, 49, 49], { seed: 3 });
    const before2 = device.stats.dispatches;
    const z = wg.matmul(p, q);
    // P's rows of 49 floats cannot be stacked, so P is packed; Q as B is stacked (the kernel zeroes rows past K = 49).
    assert.is(device.stats.dispatches - before2, 2);
    disposeAll([y, z, p]);
  } finally {
    wg.setMatmulVariant(null);
    disposeAll([q, k]);
  }
});
parity('B with rows of N % 4 != 0 floats goes in flat, unpacked, up to M = 128: Q·K with K materialised is one dispatch', async () => {
  const device = wg.getDevice();
  const [q, kt] = [wg.rand([4, 49, 160], { seed: 1 }), wg.rand([4, 160, 49], { seed: 2 })];
  const [x, w] = [wg.rand([129, 160], { seed: 3 }), wg.rand([160, 49], { seed: 4 })];
  wg.setMatmulVariant('texture');
  try {
    let before = device.stats.dispatches;
    const y = wg.matmul(q, kt);
    assert.is(device.stats.dispatches - before, 1);
    // At M = 129 the extra loads would cost more than the pack, so B is packed.
    before = device.stats.dispatches;
    const z = wg.matmul(x, w);
    assert.is(device.stats.dispatches - before, 2);
    disposeAll([y, z]);
  } finally {
    wg.setMatmulVariant(null);
    disposeAll([q, kt, x, w]);
  }
});
parity('a stacked or flat B reads its rows past K from the next batch and zeroes them: NaN there stays out of batch 0', async () => {
  // A's padding past K is zero, so finite rows past K would vanish in the product anyway; NaN (0 * NaN = NaN) shows
  // whether the kernel zeroes them. Batch 1's first rows are the rows past K of batch 0.
  wg.setMatmulVariant('texture');
  try {
    // [2,7,10]x[2,10,6] is flat (K*N = 60, M = 7); [2,9,13]x[2,13,20] is stacked (rows of 20 floats).
    for (const [m, k, n] of [[7, 10, 6], [9, 13, 20]]) {
      const a = wg.rand([2, m, k], { seed: 1 });
      const bData = Float32Array.from(await wg.rand([2, k, n], { seed: 2 }).data());
      bData.fill(NaN, k * n, k * n + 3 * n);
      const b = wg.tensor(bData, [2, k, n]);
      const y = await wg.matmul(a, b).data();
      const a0 = wg.tensor((await a.data()).slice(0, m * k), [m, k], { backend: 'cpu' });
      const ref = await wg.matmul(a0, wg.tensor(bData.slice(0, k * n), [k, n], { backend: 'cpu' })).data();
      assertClose(y.slice(0, m * n), ref, { rtol: 1e-4, atol: 1e-5 * Math.sqrt(k) }, `[2,${m},${k}]x[2,${k},${n}] batch 0`);
      disposeAll([a, b]);
    }
  } finally {
    wg.setMatmulVariant(null);
  }
});
parity('matmul_texture numbers its blocks flat only when a grid by position would idle 1 lane in 16 or more', () => {
  // Attention's 49x49 scores: 7x7 blocks on 8x8 workgroups idle 15 lanes in 64, so the 256 batches' 12,544 blocks go flat.
  assert.equal(blockGrid([7, 7, 256], 8, 8), { flat: true, colMajor: false, workgroups: [196, 1, 1] });
  // By position with more than one row of workgroups, the rows go first (COL_MAJOR).
  assert.equal(blockGrid([128, 128, 1], 8, 8), { flat: false, colMajor: true, workgroups: [16, 16, 1] });
  // 1568 rows in blocks of 8 fill 196 of 200 lane rows (2% idle): kept by position.
  assert.equal(blockGrid([160, 196, 1], 8, 8), { flat: false, colMajor: true, workgroups: [25, 20, 1] });
  assert.equal(blockGrid([64, 1, 3], 8, 1), { flat: false, colMajor: false, workgroups: [8, 1, 3] });
});
parity.run();
