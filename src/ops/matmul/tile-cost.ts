// The texture matmul's tile choice: a cost model of llvmpipe's math and texel loads (measurements in docs/kernel-choices.md).
import { textureTileOverride } from '../../device/test-hooks.js';
import type { AdapterReport } from '../../device/adapter.js';
import { tunedTile, type MatmulProblem } from '../../device/choice.js';
import type { TextureTile } from '../../device/variants.js';

const roundUp = (v: number, to: number): number => Math.ceil(v / to) * to;

// 2^20 multiply-adds: 0.13 ms at 8x8 on llvmpipe (16 GFLOP/s), near one dispatch's overhead (about 0.1 ms).
export const SMALL_PRODUCT = 2 ** 20;

/**
 * The tile for an M x N product. A larger tile loads fewer texels per output; a smaller one pads less. The cost
 * below is the padded output times (0.75 for the math + 0.25 for the loads, scaled by loads per output against
 * 8x8), fitted to 1024^3 on llvmpipe with the operands read as storage textures: 8x8 63 ms, 16x8 59, 8x16 64, 16x16
 * 55 (2 x AMD EPYC, 2026-12-02). Read as sampled textures, each texel load had cost about four times the math it fed
 * (8x8 150 ms, 16x16 98 on 2026-11-23), and the split was 0.2 + 0.8.
 * TRANS_A needs TM 8. The price is compile time: llvmpipe builds a 16x16 pipeline in about 1 s, an 8x8 one in 0.3
 * (Mesa caches both on disk, so only the first run of a shape pays). So a product of under SMALL_PRODUCT
 * multiply-adds (`macs`), which takes about a dispatch's time at any tile, keeps one sub-block.
 */
export function textureTile(m: number, n: number, transA = false, macs = Infinity): TextureTile {
  return textureTileOverride.value ?? rankTiles(m, n, transA, macs)[0];
}

/**
 * Every tile the kernel offers for an M x N product, cheapest first by the cost model above; the tile tuner
 * (tune/tiles.ts) times the first few on the machine. Of two tiles within 0.1% of each other, the one listed first
 * here (more rows per sub-block, fewer sub-blocks) goes first.
 */
export function rankTiles(m: number, n: number, transA = false, macs = Infinity): TextureTile[] {
  const blocks = macs < SMALL_PRODUCT ? [1] : [2, 1];
  const all: { tile: TextureTile; cost: number }[] = [];
  for (const tm of transA ? [8] : [8, 7, 6, 5]) {
    for (const rg of blocks) {
      for (const cj of blocks) {
        const rows = tm * rg;
        const loadsPerOutput = ((rows + 8 * cj) / (rows * 8 * cj)) * 4;  // 1 at 8x8
        all.push({ tile: { tm, rg, cj }, cost: roundUp(m, rows) * roundUp(n, 8 * cj) * (0.75 + 0.25 * loadsPerOutput) });
      }
    }
  }
  const ranked: TextureTile[] = [];
  while (all.length > 0) {
    let best = 0;
    for (let i = 1; i < all.length; i++) if (all[i].cost < all[best].cost * 0.999) best = i;
    ranked.push(all.splice(best, 1)[0].tile);
  }
  return ranked;
}

/**
 * The tile a texture matmul runs: the tests' override, else the one timed fastest for this problem on this adapter
 * (tuneTiles), else the cost model's.
 */
export function chooseTile(report: AdapterReport, problem: MatmulProblem, m: number, n: number, macs: number): TextureTile {
  return textureTileOverride.value ?? tunedTile(report, problem) ?? rankTiles(m, n, false, macs)[0];
}
