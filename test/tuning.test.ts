import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as wg from '../src/node.js';
// Imported statically, as src/node.js imports them: the suite runs under tsx's require hook, where a dynamic
// import() loads a second copy of a module, with its own tile table.
import { adapterKey, setMatmulVariant, setTunedTile, stagedReads, tileKey, tunedTile } from '../src/device/choice.js';
import { VERSION } from '../src/generated/version.js';
import { cpuIds } from '../src/platform/node.js';
import { chooseTile, rankTiles } from '../src/ops/matmul/tile-cost.js';
import { gpu } from './helpers.js';
import { cpuFlags, findTorchPython, startTorch, torchWarnings } from '../bench/torch.js';

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
    // Staged reads are timed too, on this machine, and the faster way kept (ties to the buffer).
    assert.ok(first.stagedMs.staged > 0 && first.stagedMs.buffer > 0, 'both ways of reading are timed');
    assert.is(first.stagedReads, first.stagedMs.staged < first.stagedMs.buffer);
    assert.is(stagedReads(device.report), first.stagedReads);
    const cache = JSON.parse(readFileSync(`${dir}/wgrad/tuning.json`, 'utf8'));
    const [key] = Object.keys(cache);
    assert.match(key, /wgrad \d+\.\d+\.\d+\|kernels [0-9a-f]{8}\|/, 'the key names the version and a hash of the matmul kernels, so edited kernels re-tune');
    assert.ok(key.endsWith(wg.MATMUL_VARIANTS.join(',')), 'the key names the variant list, so a new variant re-tunes');
    const again = await wg.autotune(device);
    assert.is(again.fromCache, true);
    assert.is(again.matmul, first.matmul);
    assert.is(again.stagedReads, first.stagedReads);
    assert.equal(again.stagedMs, first.stagedMs);
  } finally {
    if (saved === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = saved;
  }
});

/** Runs `fn` with the tuning cache in a fresh folder of its own. */
async function withFreshCache(name: string, fn: (file: string) => Promise<void>): Promise<void> {
  const saved = process.env.XDG_CACHE_HOME;
  process.env.XDG_CACHE_HOME = `${dir}/${name}`;
  try {
    await fn(`${dir}/${name}/wgrad/tuning.json`);
  } finally {
    if (saved === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = saved;
  }
}

const tileName = (t: { tm: number; rg: number; cj: number }) => `${t.tm}x${t.rg}x${t.cj}`;

tuning('tuneTiles times the tiles of the products a step runs, keeps the fastest per product, and caches them', async () => {
  const device = wg.getDevice();
  setMatmulVariant('texture');
  const a = wg.rand([128, 96], { seed: 1 });
  const b = wg.rand([96, 128], { seed: 2 });
  const small = wg.rand([8, 8], { seed: 3 });
  // Two products of 128*96*128 = 1.6M multiply-adds, one of them A·Aᵀ-shaped, and one too small to tune (512).
  const step = () => wg.tidy(() => void [wg.matmul(a, b), wg.matmul(a, a, { transposeB: true }), wg.matmul(small, small)]);
  try {
    await withFreshCache('tiles', async (file) => {
      const first = await wg.tuneTiles(step, { candidates: 2 });
      assert.equal(first.problems.map((p) => p.problem), ['[128,96]x[96,128]', '[128,96]x[128,96]T']);
      assert.ok(first.seconds > 0);
      const cache = JSON.parse(readFileSync(file, 'utf8'));
      const record = Object.values(cache)[0] as { tiles: Record<string, { tile: string; measuredMs: Record<string, number> }> };
      for (const p of first.problems) {
        assert.is(p.fromCache, false);
        // The cost model's best two were timed; the model's first stays unless the other was 5% faster.
        const candidates = rankTiles(128, 128, false, 128 * 96 * 128).slice(0, 2).map(tileName);
        assert.equal(Object.keys(p.measuredMs), candidates);
        const [model, other] = candidates.map((t) => p.measuredMs[t]);
        assert.is(p.tile, other < model * 0.95 ? candidates[1] : candidates[0], JSON.stringify(p));
        assert.equal(record.tiles[`texture|${p.problem}`], { tile: p.tile, measuredMs: p.measuredMs });
        const [as, bs] = p.problem === '[128,96]x[96,128]' ? [[128, 96], [96, 128]] : [[128, 96], [128, 96]];
        assert.is(tileName(tunedTile(device.report, { a: as, b: bs, transA: false, transB: p.problem.endsWith('T') })!), p.tile);
      }
      const again = await wg.tuneTiles(step, { candidates: 2 });
      assert.ok(again.problems.every((p) => p.fromCache), 'the second run reads the cache');
      assert.is(again.seconds, 0);
      // stop() ends the timing before the first problem; nothing new is timed or written.
      await withFreshCache('tiles-stopped', async (stoppedFile) => {
        const stopped = await wg.tuneTiles(step, { stop: () => true });
        assert.equal(stopped.problems, []);
        assert.not.ok(existsSync(stoppedFile));
      });
    });
  } finally {
    setMatmulVariant(null);
    for (const t of [a, b, small]) t.dispose();
  }
});

tuning('a tile from the cache is in force after autotune reads it, and the product stays exact', async () => {
  const device = wg.getDevice();
  const problem = { a: [40, 72], b: [72, 300], transA: false, transB: false };
  await withFreshCache('tiles-read', async (file) => {
    // A record as a previous run on this adapter left it, choosing a tile the cost model would not (5x1x1).
    const key = adapterKey(device.report, VERSION);
    mkdirSync(dirname(file), { recursive: true });
    const record = { matmul: 'texture', measuredMs: { texture: 1 }, stagedReads: true, stagedMs: { staged: 1, buffer: 2 }, date: 'then', tiles: { [tileKey('texture', '[40,72]x[72,300]')]: { tile: '5x1x1', measuredMs: {} } } };
    writeFileSync(file, JSON.stringify({ [key]: record }));
    const result = await wg.autotune(device);
    assert.is(result.fromCache, true);
    setMatmulVariant('texture');
    try {
      assert.is(tileName(chooseTile(device.report, problem, 40, 300, 40 * 72 * 300)), '5x1x1');
      const a = wg.rand(problem.a, { seed: 4 });
      const b = wg.rand(problem.b, { seed: 5 });
      const got = await wg.matmul(a, b).data();
      const cpu = async (t: wg.Tensor) => wg.tensor(await t.data(), t.shape, { backend: 'cpu' });
      const want = await wg.matmul(await cpu(a), await cpu(b)).data();
      assert.ok(got.every((v, i) => Math.abs(v - want[i]) < 1e-4), 'the 5x1x1 product matches the float64 reference');
    } finally {
      setMatmulVariant(null);
      setTunedTile(device.report, tileKey('texture', '[40,72]x[72,300]'), null);
    }
  });
});

tuning('fit({ tuneTiles: true }) tunes the products of its first step and trains on', async () => {
  setMatmulVariant('texture');
  try {
    await withFreshCache('tiles-fit', async (file) => {
      const model = new wg.Model({ inputShape: [64], layers: [new wg.Dense(128), new wg.Dense(3, { activation: 'softmax' })] });
      model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy' });
      const x = wg.rand([256, 64], { seed: 6 });
      const y = wg.tensor(Array.from({ length: 256 }, (_, i) => i % 3), [256], { dtype: 'int32' });
      const history = await model.fit({ x, y, batchSize: 128 }, { epochs: 2, verbose: 0, tuneTiles: true, seed: 1 });
      assert.is(history.history.loss.length, 2);
      assert.ok(history.history.loss.every(Number.isFinite));
      // The first Dense's forward [128,64]x[64,128] and its weight gradient xᵀ·dY ([128,64]Tx[128,128]) reach 2^20
      // multiply-adds; the input needs no gradient, and the 3-unit layer is too small.
      const record = Object.values(JSON.parse(readFileSync(file, 'utf8')))[0] as { tiles: Record<string, unknown> };
      assert.equal(Object.keys(record.tiles).sort(), ['texture|[128,64]Tx[128,128]', 'texture|[128,64]x[64,128]'].sort());
    });
  } finally {
    setMatmulVariant(null);
  }
});

tuning('defaults without tuning: texture operands on software adapters, workgroup tiles on GPUs', () => {
  const report = wg.getDevice().report;
  assert.is(wg.defaultMatmulVariant({ ...report, software: true }), 'texture');
  assert.is(wg.defaultMatmulVariant({ ...report, software: false }), 'tiled');
});

tuning('timeRepeated sizes the repeats from an untimed run, gives the same repeats to every timed run, and reports per op', async () => {
  // A fake op that takes 1 ms: a 200 ms run needs about 200 of them, so the cap of 8 applies unless the host
  // oversleeps the 1 ms by 24 ms (at 20 ms, a sizing run of 2.9 ms on a loaded machine gave 7 and failed this test).
  const calls: number[] = [];
  const runMs: number[] = []; // each run's length, as the op itself saw it
  const op = async (reps: number) => {
    calls.push(reps);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, reps));
    runMs.push(performance.now() - t0);
  };
  const t = await wg.timeRepeated(op, { runs: 3, minRunMs: 200, maxReps: 8 });
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
  // The size-scaling check times its two products in turn and reports their rates and the ratio of the rates.
  assert.equal(result.scaling.map((p: { n: number }) => p.n), [64, 128]);
  for (const p of result.scaling) assert.ok(p.gflops > 0 && Math.abs(p.gflops - (2 * p.n ** 3) / p.timing.median / 1e6) < 1e-9 * p.gflops, `${p.n}: rate from its median`);
  const ratio = Number(/matmul size scaling .*: .*128³ at ([\d.]+)x the 64³ rate/.exec(text)?.[1]);
  assert.ok(Math.abs(ratio - result.scaling[1].gflops / result.scaling[0].gflops) < 1e-3, `printed ratio ${ratio}`);
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
  assert.is(result.scaling, null, '--filter left the size-scaling check out');
  for (const row of result.rows) assert.ok(row.peers.webgpu && row.peers.wasm, `${row.name}: both tfjs backends ran`);
});

tuning('the tuning key names the CPU under a software adapter, so a new CPU re-tunes', async () => {
  const { cpus } = await import('node:os');
  const report = wg.getDevice().report;
  if (report.software) assert.is(report.cpu, `${cpus().length} x ${cpus()[0].model.trim()}${cpuIds()}`);
  const amd = { ...report, software: true, cpu: '2 x AMD EPYC' };
  // A VM names two generations alike; their family and model numbers differ.
  const zen4 = { ...report, software: true, cpu: `2 x AMD EPYC${cpuIds('cpu family\t: 25\nmodel\t\t: 17\nmodel name\t: AMD EPYC\n')}` };
  const zen5 = { ...report, software: true, cpu: `2 x AMD EPYC${cpuIds('cpu family\t: 26\nmodel\t\t: 2\nmodel name\t: AMD EPYC\n')}` };
  assert.is(zen5.cpu, '2 x AMD EPYC (family 26, model 2)');
  assert.is.not(adapterKey(zen4, '0.1.0'), adapterKey(zen5, '0.1.0'));
  assert.is(cpuIds('processor\t: 0\n'), '', 'no numbers, no suffix');
  const xeon = { ...report, software: true, cpu: '2 x Intel(R) Xeon(R) Platinum 8481C' };
  assert.is.not(adapterKey(amd, '0.1.0'), adapterKey(xeon, '0.1.0'));
  assert.ok(adapterKey(xeon, '0.1.0').includes('Intel(R) Xeon(R) Platinum 8481C'));
});

tuning('the bench warns when its torch peer would not show the CPU\'s speed, and names the fix', () => {
  const flags = cpuFlags('processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma avx512f avx512bw\n');
  assert.ok(flags.has('avx2') && flags.has('avx512f'));
  assert.is(cpuFlags('processor\t: 0\n').size, 0, 'no flags line, no flags');
  const reference = torchWarnings({ openblasCore: null, blasLibrary: '/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0' }, flags);
  assert.is(reference.length, 1);
  assert.match(reference[0], /blas\/libblas\.so\.3\.11\.0\) is not OpenBLAS.*apt-get install libopenblas0/);
  assert.match(torchWarnings({ openblasCore: 'Prescott', blasLibrary: null }, flags)[0], /Prescott kernels on a CPU with AVX2 and AVX-512.*OPENBLAS_CORETYPE=SkylakeX/);
  assert.match(torchWarnings({ openblasCore: 'Prescott', blasLibrary: null }, cpuFlags('flags : sse2 avx avx2\n'))[0], /OPENBLAS_CORETYPE=Haswell \(Intel\) or Zen \(AMD\)/);
  assert.equal(torchWarnings({ openblasCore: 'Cooperlake', blasLibrary: null }, flags), [], 'Zen 4 detected as Cooperlake is right');
  assert.equal(torchWarnings({ openblasCore: 'Prescott', blasLibrary: null }, cpuFlags('flags : sse2 sse3\n')), [], 'a CPU without AVX2');
});

tuning('the torch peer keeps an op between requests for the runs in turn, and answers an unknown op with its reason', async () => {
  const found = findTorchPython(['python3', '/usr/bin/python3']);
  if (!('python' in found)) {
    // CI's machines have no torch: the bench then runs without the peer (its header says why).
    assert.match(found.why, /python3/);
    return;
  }
  const peer = await startTorch(found.python);
  const logged: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void logged.push(a.join(' '));
  try {
    const op = await peer.open({ op: 'matmul', m: 8, k: 8, n: 8 });
    assert.ok(op, 'a matmul opens');
    await op!.run(3);
    const other = await peer.open({ op: 'sum', n: 16 });
    await other!.run(1);
    await op!.run(1);
    await op!.close();
    const gone = await op!.run(1).then(() => null, (err: Error) => err.message);
    assert.match(gone ?? 'ran', /the torch peer's matmul failed: KeyError/, 'a closed op is gone');
    await other!.run(1);
    await other!.close();
    assert.is(await peer.open({ op: 'nonesuch' }), null);
    assert.match(logged.join('\n'), /torch peer: nonesuch: ValueError: unknown op 'nonesuch'/);
    const t = await peer.time({ op: 'sum', n: 16 }, { runs: 3, minRunMs: 1, warmMs: 0 });
    assert.ok(t && t.min <= t.median && t.median <= t.max, 'the block request still times');
  } finally {
    console.log = log;
    peer.close();
  }
});

tuning('a list flag (--sizes) takes comma-separated whole numbers, and says what is wrong with a bad one', () => {
  // bench/matmul-variants.ts parses its flags before it opens the adapter, so these exit at once.
  const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'bench/matmul-variants.ts', ...args], { encoding: 'utf8', timeout: 60_000 });
  const help = run('--help');
  assert.is(help.status, 0);
  assert.match(help.stdout, /--sizes <n,n,\.\.\.> +sizes n of the n x n x n products \(default: 256,512,1024,2048\)/);
  for (const [arg, message] of [
    ['64,x', /--sizes takes whole numbers separated by commas, got '64,x'/],
    ['64,,128', /--sizes takes whole numbers separated by commas, got '64,,128'/],
    ['1.5', /--sizes takes whole numbers separated by commas, got '1.5'/],
    ['64,0', /--sizes: each number must be at least 1, got 0/],
  ] as [string, RegExp][]) {
    const r = run('--sizes', arg);
    assert.is(r.status, 2, arg);
    assert.match(r.stderr, message);
    assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

tuning.run();