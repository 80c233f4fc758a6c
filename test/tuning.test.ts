import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as wg from '../src/node.js';
import { gpu } from './helpers.js';

const dir = `out/test/tuning-${process.pid}`;
const tuning = suite('kernel tuning and the bench');
tuning.before(async () => {
  await gpu();
  rmSync(dir, { recursive: true, force: true });
});

tuning('autotune times every matmul variant, keeps the fastest, and caches it per adapter and version', async () => {
  const device = wg.getDevice();
  // The Node host keeps the cache under $XDG_CACHE_HOME/wgrad/; point it at a fresh folder for this test.
  const saved = process.env.XDG_CACHE_HOME;
  process.env.XDG_CACHE_HOME = dir;
  try {
    const first = await wg.autotune(device);
    assert.is(first.fromCache, false);
    assert.equal(Object.keys(first.measuredMs).sort(), [...wg.MATMUL_VARIANTS].sort());
    const fastest = Object.entries(first.measuredMs).sort((a, b) => a[1] - b[1])[0][0];
    assert.is(first.matmul, fastest);
    assert.is(wg.matmulVariant(device.report), first.matmul);
    const cache = JSON.parse(readFileSync(`${dir}/wgrad/tuning.json`, 'utf8'));
    const [key] = Object.keys(cache);
    assert.match(key, /wgrad \d+\.\d+\.\d+\|/);
    assert.ok(key.endsWith(wg.MATMUL_VARIANTS.join(',')), 'the key names the variant list, so a new variant re-tunes');
    const again = await wg.autotune(device);
    assert.is(again.fromCache, true);
    assert.is(again.matmul, first.matmul);
  } finally {
    if (saved === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = saved;
  }
});

tuning('defaults without tuning: texture operands on software adapters, workgroup tiles on GPUs', () => {
  const report = wg.getDevice().report;
  assert.is(wg.defaultMatmulVariant({ ...report, software: true }), 'texture');
  assert.is(wg.defaultMatmulVariant({ ...report, software: false }), 'tiled');
});

tuning('timeRepeated sizes the repeats from an untimed run, gives the same repeats to every timed run, and reports per op', async () => {
  // A fake op that takes 1 ms: a 20 ms run needs about 20 of them (fewer if the host oversleeps), at most maxReps.
  const calls: number[] = [];
  const runMs: number[] = []; // each run's length, as the op itself saw it
  const op = async (reps: number) => {
    calls.push(reps);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, reps));
    runMs.push(performance.now() - t0);
  };
  const t = await wg.timeRepeated(op, { runs: 3, minRunMs: 20, maxReps: 8 });
  assert.is(t.reps, 8, 'capped at maxReps');
  assert.equal(calls, [1, 1, 8, 8, 8], 'warm-up, sizing run, then three timed runs');
  assert.ok(t.min <= t.median && t.median <= t.max);
  // Per op, not per run: the median run divided by its 8 ops. The 0.5 ms allows for the timer calls around the op;
  // a per-run figure would be 8x this, off by 7 ms or more.
  const medianRun = runMs.slice(2).sort((x, y) => x - y)[1];
  assert.ok(Math.abs(t.median - medianRun / 8) < 0.5, `per op: ${t.median} ms, median run ${medianRun} ms`);
  // A warm-up slower than sizeBelowMs is not sized: one op per run, as for a 3 s training step on llvmpipe.
  calls.length = 0;
  const once = await wg.timeRepeated(op, { runs: 2, minRunMs: 20, maxReps: 8, sizeBelowMs: 0 });
  assert.is(once.reps, 1);
  assert.equal(calls, [1, 1, 1]);
});

tuning('npm run bench -- --quick runs every case with the peers and writes JSON (no speed is checked)', () => {
  const out = `${dir}/bench.json`;
  const text = execFileSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick', '--json', out], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
  assert.match(text, /adapter: .*(software|hardware)/);
  const result = JSON.parse(readFileSync(out, 'utf8'));
  assert.ok(result.rows.length >= 15, `${result.rows.length} rows`);
  for (const row of result.rows) assert.ok(row.wgrad.median > 0, row.name);
  assert.ok(result.rows.some((r: { peers: Record<string, unknown> }) => r.peers.webgpu), 'tfjs-webgpu ran');
  assert.ok(result.rows.some((r: { peers: Record<string, unknown> }) => r.peers.wasm), 'tfjs-wasm ran');
  assert.ok(result.rows.some((r: { peers: Record<string, unknown> }) => r.peers.ort), 'ONNX Runtime ran');
});

tuning('npm run bench -- --interleave times every library on a case before the next case', () => {
  const out = `${dir}/bench-interleaved.json`;
  const args = ['--import', 'tsx', 'bench/run.ts', '--quick', '--interleave', '--filter', '^(softmax|transpose)', '--json', out];
  const text = execFileSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
  assert.match(text, /timing order: interleaved/);
  // No block headers: the peers ran case by case.
  assert.not.match(text, /timing tfjs-webgpu\.\.\./);
  // Ratios carry three significant digits, so one just under a target (9.96) does not print as the target (10.0).
  assert.match(text, /tfjs-webgpu +[\d.]+ +(\d\.\d\d|\d\d\.\d|\d{3,})x/);
  assert.not.match(text, /\s\d\.\dx/);
  const result = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(result.rows.map((r: { name: string }) => r.name), ['softmax (last axis)', 'transpose (split heads)']);
  for (const row of result.rows) assert.ok(row.peers.webgpu && row.peers.wasm, `${row.name}: both tfjs backends ran`);
});

tuning('the tuning key names the CPU under a software adapter, so a new CPU re-tunes', async () => {
  const { adapterKey } = await import('../src/device/choice.js');
  const { cpus } = await import('node:os');
  const report = wg.getDevice().report;
  if (report.software) assert.is(report.cpu, `${cpus().length} x ${cpus()[0].model.trim()}`);
  const amd = { ...report, software: true, cpu: '2 x AMD EPYC' };
  const xeon = { ...report, software: true, cpu: '2 x Intel(R) Xeon(R) Platinum 8481C' };
  assert.is.not(adapterKey(amd, '0.1.0'), adapterKey(xeon, '0.1.0'));
  assert.ok(adapterKey(xeon, '0.1.0').includes('Intel(R) Xeon(R) Platinum 8481C'));
});

tuning.run();