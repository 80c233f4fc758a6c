// The texture matmul's tile choice: a cost model of llvmpipe's texel loads (measurements in docs/kernel-choices.md).
import { textureTileOverride } from '../../device/test-hooks.js';
import type { TextureTile } from '../../device/variants.js';

const roundUp = (v: number, to: number): number => Math.ceil(v / to) * to;

// 2^20 multiply-adds: 0.13 ms at 8x8 on llvmpipe (16 GFLOP/s), near one dispatch's overhead (about 0.1 ms).
const SMALL_PRODUCT = 2 ** 20;

/**
 * The tile for an M x N product. Every texel load costs llvmpipe about four times the math it feeds (a sampler call
 * that gathers lane by lane; 79% of the kernel's samples at 8x8), so larger tiles, which load fewer texels per
 * output, run faster: at 1024^3, 8x8 150 ms, 16x8 125, 8x16 123, 16x16 98 (one process, 2026-11-23). The cost below
 * is that: the padded output times (0.2 for the math + 0.8 for the loads, scaled by loads per output against 8x8).
 * TRANS_A needs TM 8. The price is compile time: llvmpipe builds a 16x16 pipeline in about 1 s, an 8x8 one in 0.3
 * (Mesa caches both on disk, so only the first run of a shape pays). So a product of under SMALL_PRODUCT
 * multiply-adds (`macs`), which takes about a dispatch's time at any tile, keeps one sub-block.
 */
export function textureTile(m: number, n: number, transA = false, macs = Infinity): TextureTile {
  if (textureTileOverride.value) return textureTileOverride.value;
  const blocks = macs < SMALL_PRODUCT ? [1] : [2, 1];
  let best: TextureTile = { tm: 8, rg: 1, cj: 1 };
  let bestCost = Infinity;
  for (const tm of transA ? [8] : [8, 7, 6, 5]) {
    for (const rg of blocks) {
      for (const cj of blocks) {
        const rows = tm * rg;
        const loadsPerOutput = ((rows + 8 * cj) / (rows * 8 * cj)) * 4;  // 1 at 8x8
        const cost = roundUp(m, rows) * roundUp(n, 8 * cj) * (0.2 + 0.8 * loadsPerOutput);
        if (cost < bestCost * 0.999) [best, bestCost] = [{ tm, rg, cj }, cost];
      }
    }
  }
  return best;
}

