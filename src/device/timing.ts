// How wgrad times an op: the autotune, `npm run bench` and bench/matmul-variants.ts all use this one rule.

export interface Timing {
  /** Per-op milliseconds over the timed runs. */
  median: number;
  min: number;
  max: number;
  /** Ops per timed run. */
  reps: number;
}

export interface TimingOptions {
  /** Timed runs. */
  runs: number;
  /** A run repeats the op until it takes about this long. */
  minRunMs: number;
  maxReps: number;
  /** Untimed runs for this long before timing: short bursts can leave a real GPU in a low clock state. */
  warmMs?: number;
  /** Repeats are sized (and warmMs spent) only when the warm-up took less than this; slower ops run once a run. */
  sizeBelowMs?: number;
}

/**
 * Times `run(reps)`, which must do the op `reps` times and wait for the result. One warm-up run compiles pipelines;
 * a second, untimed run sizes the repeats, because a real GPU does a small op in microseconds, under the cost of one
 * submit and wait, and a single op per run would time that latency.
 */
export async function timeRepeated(run: (reps: number) => Promise<void>, o: TimingOptions): Promise<Timing> {
  const t0 = performance.now();
  await run(1);
  let reps = 1;
  if (performance.now() - t0 < (o.sizeBelowMs ?? Infinity)) {
    const t1 = performance.now();
    await run(1);
    reps = Math.min(o.maxReps, Math.max(1, Math.ceil(o.minRunMs / Math.max(performance.now() - t1, 0.01))));
    const until = performance.now() + (o.warmMs ?? 0);
    while (performance.now() < until) await run(reps);
  }
  const ms: number[] = [];
  for (let i = 0; i < o.runs; i++) {
    const t = performance.now();
    await run(reps);
    ms.push((performance.now() - t) / reps);
  }
  ms.sort((a, b) => a - b);
  return { median: ms[Math.floor(ms.length / 2)], min: ms[0], max: ms[ms.length - 1], reps };
}

/**
 * Times each of `choices` doing the same work, for the autotune: one untimed run each compiles and sizes its repeats
 * (timeRepeated), then `rounds` timed runs go round the choices in turn, so that a machine whose speed drifts (these
 * shared VMs lose a core for minutes at a time) slows every choice alike. Timed one after another, a busy spell once
 * made 'texture' look 3.4x slower than 'texture-tall' on 2 Xeon cores (71 against 21 ms), where a quiet run measured
 * 20 against 18. `npm run bench -- --interleave` times the libraries of a case the same way. Returns each choice's
 * per-op milliseconds (median, fastest, slowest) and its repeats per run, in the order given.
 */
export async function timeInTurn<T>(choices: readonly T[], run: (choice: T, reps: number) => Promise<void>, o: { rounds: number } & Omit<TimingOptions, 'runs'>): Promise<Timing[]> {
  const reps: number[] = [];
  for (const c of choices) reps.push((await timeRepeated((r) => run(c, r), { ...o, runs: 1 })).reps);
  const times: number[][] = choices.map(() => []);
  for (let round = 0; round < o.rounds; round++) {
    for (let i = 0; i < choices.length; i++) {
      const t0 = performance.now();
      await run(choices[i], reps[i]);
      times[i].push((performance.now() - t0) / reps[i]);
    }
  }
  return times.map((ms, i) => {
    ms.sort((x, y) => x - y);
    return { median: ms[Math.floor(ms.length / 2)], min: ms[0], max: ms[ms.length - 1], reps: reps[i] };
  });
}
