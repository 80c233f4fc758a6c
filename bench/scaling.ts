// The size-scaling check: wgrad's square products at two sizes, their timed runs in turn, so that the two rates come
// from the same minutes and neither follows another library's run. The table's rows of the two sizes are separate
// cases, each wgrad run there following the peers' runs of that case, and a peer's run slows the next: on 2 x Zen 4
// (2026-12-07 09:19-09:32), wgrad's 2048^3 took 371 ms in a full run in turn and 330 / 322 / 307 / 306 with only
// tfjs-wasm / torch / ORT / tfjs-webgpu as its peer, against 300-308 in this check (docs/bench.md).
import * as wg from '../src/node.js';
import type { Timing } from '../src/node.js';
import { timeInTurn } from '../src/device/timing.js';

export const SCALING_NAME = 'matmul size scaling';

export interface ScalingPoint {
  n: number;
  timing: Timing;
  gflops: number;
}

/** The two sizes: the table's 1024^3 and 2048^3 (64 and 128 under --quick). */
export const scalingSizes = (quick: boolean): [number, number] => (quick ? [64, 128] : [1024, 2048]);

/** Times n x n x n products at each size in turn, `rounds` timed runs each (medians of those runs). */
export async function timeScaling(sizes: readonly number[], rounds: number, minRunMs: number): Promise<ScalingPoint[]> {
  const ops = sizes.map((n) => ({ n, a: wg.rand([n, n], { seed: 1 }), b: wg.rand([n, n], { seed: 2 }) }));
  try {
    const timings = await timeInTurn(
      ops,
      async (op, reps) => {
        for (let i = 0; i < reps; i++) wg.tidy(() => void wg.matmul(op.a, op.b));
        await wg.sync();
      },
      { rounds, minRunMs, maxReps: 1000 },
    );
    return ops.map((op, i) => ({ n: op.n, timing: timings[i], gflops: (2 * op.n ** 3) / timings[i].median / 1e6 }));
  } finally {
    for (const op of ops) {
      op.a.dispose();
      op.b.dispose();
    }
  }
}

/** One line: each size's median and rate, and the larger size's rate over the smaller's. */
export function scalingLine(points: readonly ScalingPoint[], rounds: number): string {
  const [small, large] = [points[0], points[points.length - 1]];
  const each = points.map((p) => `${p.n}³ ${p.timing.median.toFixed(p.timing.median < 10 ? 2 : 1)} ms (${p.gflops.toFixed(1)} GFLOP/s)`).join(', ');
  return `${SCALING_NAME} (wgrad alone, the sizes' runs in turn, median of ${rounds}): ${each}; ${large.n}³ at ${(large.gflops / small.gflops).toFixed(3)}x the ${small.n}³ rate`;
}
