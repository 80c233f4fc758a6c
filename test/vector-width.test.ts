// llvmpipe's vector width, chosen by timing it on the machine (src/platform/vector-width.ts): the rule, the cache, the
// user's override and failures with fake probes; then the real probe, and the parity cases at 512 bits.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { TuningRecord } from '../src/platform/host.js';
import {
  checkOpenedAdapter,
  decideWidth,
  ProbeFailure,
  probeWidth,
  settleVectorWidth,
  WIDE_MARGIN,
  widthKey,
  type ProbeResult,
  type VectorWidth,
  type WidthContext,
} from '../src/platform/vector-width.js';

const require = createRequire(import.meta.url);
const width = suite('llvmpipe vector width');

const NAME = (w: number): string => `llvmpipe-llvm-15-0-6-${w}-bits- | OpenGL version 4.5 (Core Profile) Mesa 22.3.6`;
const result = (w: VectorWidth, ms: Record<string, number>): ProbeResult => ({ adapter: NAME(w), ms });

/** A context with an in-memory cache and probes that answer from `times` (per width, one answer per call in turn). */
function fake(times: Record<VectorWidth, Record<string, number>[]>, options: { flags?: string[]; env?: Record<string, string> } = {}) {
  const store: { cache: Record<string, TuningRecord>; writes: number } = { cache: {}, writes: 0 };
  const calls: VectorWidth[] = [];
  const env: Record<string, string | undefined> = { ...options.env };
  const ctx: WidthContext = {
    env,
    flags: new Set(options.flags ?? ['avx2', 'avx512f']),
    cpuModel: '2 x Test CPU (family 1, model 2)',
    readTuning: async () => JSON.parse(JSON.stringify(store.cache)),
    writeTuning: async (c) => {
      store.cache = JSON.parse(JSON.stringify(c));
      store.writes++;
    },
    probe: async (w) => {
      const n = calls.filter((c) => c === w).length;
      calls.push(w);
      const ms = times[w][n % times[w].length];
      if (!ms) throw new ProbeFailure(`the ${w}-bit probe exited with code 1: no adapter`, false);
      return result(w, ms);
    },
  };
  return { ctx, env, calls, store };
}

width('decideWidth: each case keeps its fastest run; 512 wins by the geometric mean, only past the margin', () => {
  const runs = {
    256: [result(256, { a: 50, b: 2 }), result(256, { a: 40, b: 3 })],
    512: [result(512, { a: 30, b: 2.5 }), result(512, { a: 45, b: 2 })],
  };
  const d = decideWidth(runs);
  assert.equal(d.fastestMs, { 256: { a: 40, b: 2 }, 512: { a: 30, b: 2 } });
  assert.ok(Math.abs(d.gain - Math.sqrt(40 / 30)) < 1e-12, `gain ${d.gain}`);
  assert.is(d.width, 512);
  // Faster by less than the margin: llvmpipe's own default stays.
  const close = decideWidth({ 256: [result(256, { a: 100 })], 512: [result(512, { a: 100 / (WIDE_MARGIN - 0.01) })] });
  assert.is(close.width, 256);
  assert.is(decideWidth({ 256: [result(256, { a: 100 })], 512: [result(512, { a: 100 / WIDE_MARGIN })] }).width, 512);
  // A case one width did not time is left out rather than counted as infinitely slow.
  assert.is(decideWidth({ 256: [result(256, { a: 10, b: 1 })], 512: [result(512, { a: 5 })] }).gain, 2);
  assert.throws(() => decideWidth({ 256: [result(256, { a: 1 })], 512: [result(512, { b: 1 })] }), /no case at both widths/);
});

width('a miss times both widths in turn, sets LP_NATIVE_VECTOR_WIDTH=512 when it won, and caches it under the CPU', async () => {
  const f = fake({ 256: [{ mm: 60, sm: 1.5 }], 512: [{ mm: 44, sm: 1.0 }] });
  const announced: string[] = [];
  const d = await settleVectorWidth(f.ctx, { announce: (l) => announced.push(l) });
  assert.equal(f.calls, [256, 512, 256, 512, 256, 512], 'three rounds, the widths in turn');
  assert.is(announced.length, 1);
  assert.match(announced[0], /timing llvmpipe at 256 and 512 bits/);
  assert.is(d.width, 512);
  assert.is(f.env.LP_NATIVE_VECTOR_WIDTH, '512');
  assert.match(d.note, /llvmpipe at 512 bits, timed on this CPU .*: 512 bits ran 1\.\d\dx the speed of 256 over 2 cases/);
  const record = f.store.cache[widthKey(f.ctx.cpuModel)].vectorWidth!;
  assert.is(record.width, 512);
  assert.equal(record.measuredMs, { '256': { mm: 60, sm: 1.5 }, '512': { mm: 44, sm: 1.0 } });
  assert.is(record.adapters['512'], NAME(512));
  assert.match(widthKey(f.ctx.cpuModel), /^llvmpipe vector width\|2 x Test CPU \(family 1, model 2\)\|wgrad \d+\.\d+\.\d+$/);
  // The next process reads it: no probes, the same width, nothing to log.
  const next = fake({ 256: [], 512: [] });
  next.store.cache = f.store.cache;
  const again = await settleVectorWidth(next.ctx, {});
  assert.equal(next.calls, []);
  assert.is(next.env.LP_NATIVE_VECTOR_WIDTH, '512');
  assert.is(again.note, '');
  assert.match(again.why, /^LP_NATIVE_VECTOR_WIDTH=512, set by wgrad: 512 bits ran 1\.\d\dx the speed of 256 on this CPU \(timed \d{4}-\d\d-\d\d, cached\)$/);
  assert.is(again.expectAdapter, NAME(512));
});

width('when 256 bits won, nothing is set and the choice is cached too', async () => {
  const f = fake({ 256: [{ mm: 40 }], 512: [{ mm: 42 }] });
  const d = await settleVectorWidth(f.ctx, {});
  assert.is(d.width, null);
  assert.is(f.env.LP_NATIVE_VECTOR_WIDTH, undefined);
  assert.match(d.note, /llvmpipe at 256 bits.*0\.95x.*512 bits is chosen from 1\.05x/);
  assert.is(f.store.cache[widthKey(f.ctx.cpuModel)].vectorWidth!.width, 256);
  assert.match(d.why, /^llvmpipe's default: 512 bits ran 0\.95x the speed of 256 on this CPU \(timed [^)]*\), under the 1\.05x that chooses it$/);
  assert.is(d.expectAdapter, NAME(256));
});

width("the user's LP_NATIVE_VECTOR_WIDTH, a CPU without AVX-512 and tuning turned off are left alone, untimed", async () => {
  for (const [what, f, options] of [
    ['user set 256', fake({ 256: [{ mm: 60 }], 512: [{ mm: 30 }] }, { env: { LP_NATIVE_VECTOR_WIDTH: '256' } }), {}],
    ['no avx512f', fake({ 256: [{ mm: 60 }], 512: [{ mm: 30 }] }, { flags: ['avx2'] }), {}],
    ['WGRAD_TUNE=0', fake({ 256: [{ mm: 60 }], 512: [{ mm: 30 }] }, { env: { WGRAD_TUNE: '0' } }), {}],
    ['init({ tune: false })', fake({ 256: [{ mm: 60 }], 512: [{ mm: 30 }] }), { tune: false }],
  ] as const) {
    const before = f.env.LP_NATIVE_VECTOR_WIDTH;
    const d = await settleVectorWidth(f.ctx, options);
    assert.equal(f.calls, [], `${what}: no probe`);
    assert.is(d.width, null, what);
    assert.is(f.env.LP_NATIVE_VECTOR_WIDTH, before, `${what}: the variable is as it was`);
    assert.is(f.store.writes, 0, `${what}: nothing cached`);
    assert.match(d.why, { 'user set 256': /^LP_NATIVE_VECTOR_WIDTH=256, set before wgrad/, 'no avx512f': /no AVX-512/, 'WGRAD_TUNE=0': /tuning is off \(WGRAD_TUNE=0\)/, 'init({ tune: false })': /tuning is off \(init\(\{ tune: false \}\)\)/ }[what], what);
  }
});

width('a failed probe keeps the default, says why and how to retry, and is cached so that it is not retried each start', async () => {
  const f = fake({ 256: [{ mm: 40 }], 512: [] });
  const d = await settleVectorWidth(f.ctx, {});
  assert.is(d.width, null);
  assert.is(f.env.LP_NATIVE_VECTOR_WIDTH, undefined);
  assert.match(d.note, /stays at its default width: timing the widths failed \(the 512-bit probe exited with code 1: no adapter\)\. Delete the 'llvmpipe vector width' entry/);
  assert.match(f.store.cache[widthKey(f.ctx.cpuModel)].vectorWidth!.error!, /no adapter/);
  const next = fake({ 256: [{ mm: 40 }], 512: [{ mm: 20 }] });
  next.store.cache = f.store.cache;
  const again = await settleVectorWidth(next.ctx, {});
  assert.equal(next.calls, []);
  assert.is(again.width, null);
  // The cached failure is what a report names, not "512 bits did not time faster" (the bench header said so once).
  assert.match(d.why, /^llvmpipe's default: timing the widths failed on .*no adapter.*delete the 'llvmpipe vector width' tuning entry to retry$/);
  assert.is(again.why, d.why);
});

width('a failed 256-bit probe is named as the one that failed, not the 512-bit one', async () => {
  const f = fake({ 256: [], 512: [{ mm: 20 }] });
  const d = await settleVectorWidth(f.ctx, {});
  assert.is(d.width, null);
  assert.equal(f.calls, [256], 'the first failure stops the timing');
  assert.match(d.note, /timing the widths failed \(the 256-bit probe exited with code 1: no adapter\)/);
  assert.not.match(d.note, /512 bits/);
  assert.match(d.why, /timing the widths failed on .*the 256-bit probe/);
});

width('an interrupted probe caches nothing: the next start measures again', async () => {
  const f = fake({ 256: [{ mm: 40 }], 512: [{ mm: 20 }] });
  f.ctx.probe = async (w) => {
    throw new ProbeFailure(`the ${w}-bit probe was stopped by SIGINT`, true);
  };
  const d = await settleVectorWidth(f.ctx, {});
  assert.is(d.width, null);
  assert.match(d.note, /not measured \(the 256-bit probe was stopped by SIGINT\); it will be on the next start/);
  assert.match(d.why, /interrupted; it runs again on the next start/);
  assert.is(f.store.writes, 0);
});

width('an OpenGL adapter that is not llvmpipe is left alone, and that is cached', async () => {
  const f = fake({ 256: [{ mm: 1 }], 512: [{ mm: 0.5 }] });
  const probe = f.ctx.probe;
  f.ctx.probe = async (w) => ({ ...(await probe(w)), adapter: 'AMD Radeon RX 7600 (radeonsi) | OpenGL version 4.6 Mesa 22.3.6' });
  const d = await settleVectorWidth(f.ctx, {});
  assert.is(d.width, null);
  assert.is(f.env.LP_NATIVE_VECTOR_WIDTH, undefined);
  assert.match(d.note, /left alone: the OpenGL adapter is AMD Radeon .*, not llvmpipe/);
});

width('a cached width measured on another llvmpipe is forgotten once the opened adapter shows it', async () => {
  const f = fake({ 256: [{ mm: 60 }], 512: [{ mm: 40 }] });
  const d = await settleVectorWidth(f.ctx, {});
  f.store.cache['another adapter'] = { matmul: 'texture', date: 'x' };
  assert.is(await checkOpenedAdapter(f.ctx, d, NAME(512)), '', 'the same adapter: nothing to say');
  const upgraded = NAME(512).replace('Mesa 22.3.6', 'Mesa 23.1.0');
  assert.match(await checkOpenedAdapter(f.ctx, d, upgraded), /measured on .*Mesa 22\.3\.6 and this is .*Mesa 23\.1\.0: it will be measured again on the next start/);
  assert.is(f.store.cache[widthKey(f.ctx.cpuModel)], undefined);
  assert.ok(f.store.cache['another adapter'], 'other entries stay');
});

width('the real probe opens llvmpipe at the width asked and times every case', async () => {
  for (const w of [256, 512] as const) {
    const r = await probeWidth(w, process.env);
    assert.match(r.adapter, new RegExp(`-${w}-bits-`), `${w}: ${r.adapter}`);
    assert.equal(Object.keys(r.ms), ['matmul 1024^3', 'softmax [12544,49]', 'split-heads transpose [32,49,8,160]', 'sum [4194304]']);
    for (const ms of Object.values(r.ms)) assert.ok(ms > 0 && Number.isFinite(ms));
  }
});

width('at 512 bits every op family matches the float64 reference, forward and backward', () => {
  const child = spawnSync(process.execPath, ['--import', require.resolve('tsx'), 'test/fixtures/parity-at-width.ts'], {
    env: { ...process.env, LP_NATIVE_VECTOR_WIDTH: '512' },
    encoding: 'utf8',
    timeout: 300_000,
  });
  assert.is(child.status, 0, child.stderr);
  const out = JSON.parse(child.stdout.trim().split('\n').pop()!);
  assert.match(out.adapter, /-512-bits-/);
  assert.equal(out.failed, []);
  assert.ok(out.passed > 200, `${out.passed} cases ran`);
});

width.run();
