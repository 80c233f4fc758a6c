// npm run bench [-- --quick] [--filter REGEX] [--no-peers] [--json out.json] [--markdown docs/bench.md]
// Kernel throughput of wgrad beside TensorFlow.js (WebGPU and wasm backends) and ONNX Runtime's CPU MatMul, all on
// this machine's adapter in one run. Times are the median (and min-max) of the timed runs after a warm-up, waiting
// for the GPU to finish each run; inputs stay resident.
import { cpus } from 'node:os';
import { writeFileSync, readFileSync } from 'node:fs';
import * as wg from '../src/index.ts';
import { loadTf, ortMatmul, tfSync, type Tf } from './peers.ts';
import { threadProbe } from './probe.ts';
import { cases, type Case } from './cases.ts';

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(name);
const option = (name: string) => (argv.indexOf(name) >= 0 ? argv[argv.indexOf(name) + 1] : undefined);
const quick = flag('--quick');
const peers = !flag('--no-peers');
const filter = option('--filter') ? new RegExp(option('--filter')!) : null;
const runs = quick ? 1 : 5;

const info = await wg.init({ log: false });
const version = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
const r = info.adapter!;
console.log(`wgrad ${version} bench, ${new Date().toISOString().slice(0, 10)}`);
console.log(`adapter: ${r.device || r.description} | vendor '${r.vendor}' | architecture '${r.architecture}' | Dawn ${r.backend} (${r.featureLevel}) | ${r.software ? 'software' : 'hardware'}`);
console.log(`node ${process.version} | ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'} | matmul variant ${wg.matmulVariant(r)}`);
const header = [
  `adapter: ${r.device || r.description} | vendor '${r.vendor}' | architecture '${r.architecture}' | Dawn ${r.backend} (${r.featureLevel}) | ${r.software ? 'software' : 'hardware'}`,
  `node ${process.version} | ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}`,
];
if (!quick) {
  const p = await threadProbe();
  header.push(`machine state: a busy loop took ${p.oneMs} ms on one thread and ${p.twoMs} ms on each of two (${p.cores} cores' worth)`);
  console.log(header[header.length - 1]);
}
const tf: Tf | null = peers ? await loadTf(r) : null;

interface Timing {
  median: number;
  min: number;
  max: number;
}

async function time(run: () => Promise<void>): Promise<Timing> {
  await run(); // warm-up: compiles pipelines
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await run();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { median: ms[Math.floor(ms.length / 2)], min: ms[0], max: ms[ms.length - 1] };
}

interface Row {
  name: string;
  shape: string;
  wgrad: Timing;
  rate: string;
  peers: Record<string, Timing | null>;
}

const rows: Row[] = [];
const fmt = (t: Timing | null | undefined) => (t ? `${t.median.toFixed(t.median < 10 ? 2 : 1)}` : '-');
const ratio = (w: Timing, p: Timing | null | undefined) => (p ? `${(p.median / w.median).toFixed(1)}x` : '-');

for (const c of cases(quick)) {
  if (filter && !filter.test(c.name)) continue;
  const w = c.wgrad();
  const wgradTime = await time(async () => {
    wg.tidy(() => void w.run());
    await wg.sync();
  });
  w.dispose();
  const peerTimes: Record<string, Timing | null> = {};
  if (tf) {
    for (const backend of ['webgpu', 'wasm']) {
      if (!c.tf || (c.tfOnly && !c.tfOnly.includes(backend))) {
        peerTimes[backend] = null;
        continue;
      }
      await tf.setBackend(backend);
      await tf.ready();
      const t = c.tf(tf);
      peerTimes[backend] = await time(async () => {
        const out = t.run();
        await tfSync(tf, out);
        for (const o of Array.isArray(out) ? out : [out]) o.dispose();
      });
      t.dispose();
    }
  }
  peerTimes.ort = peers && c.ort ? await time(await ortMatmul(...c.ort)) : null;
  const rate = c.flops ? `${(c.flops / wgradTime.median / 1e6).toFixed(2)} GFLOP/s` : c.bytes ? `${(c.bytes / wgradTime.median / 1e6).toFixed(2)} GB/s` : c.perDispatch ? `${((wgradTime.median / c.perDispatch) * 1000).toFixed(1)} us/dispatch` : '';
  const row = { name: c.name, shape: c.shape, wgrad: wgradTime, rate, peers: peerTimes };
  rows.push(row);
  console.log(
    `${c.name.padEnd(30)} ${c.shape.padEnd(26)} ${fmt(wgradTime).padStart(8)} ms (${wgradTime.min.toFixed(1)}-${wgradTime.max.toFixed(1)}) ${rate.padStart(18)}` +
      (peers ? ` | tfjs-webgpu ${fmt(peerTimes.webgpu).padStart(8)} ${ratio(wgradTime, peerTimes.webgpu).padStart(6)} | tfjs-wasm ${fmt(peerTimes.wasm).padStart(8)} ${ratio(wgradTime, peerTimes.wasm).padStart(6)} | ORT ${fmt(peerTimes.ort).padStart(7)} ${ratio(wgradTime, peerTimes.ort).padStart(6)}` : ''),
  );
}
console.log('Ratios are wgrad\'s speed over the peer\'s (peer ms / wgrad ms): above 1x wgrad is faster.');
const markdown = option('--markdown');
if (markdown) {
  const cell = (t: Timing | null | undefined) => (t ? t.median.toFixed(t.median < 10 ? 2 : 1) : '-');
  const lines = [
    `| case | shape | wgrad ms (min-max) | wgrad rate | tfjs-webgpu ms | wgrad ÷ tfjs-webgpu | tfjs-wasm ms | wgrad ÷ tfjs-wasm | ORT ms | wgrad ÷ ORT |`,
    `|---|---|---|---|---|---|---|---|---|---|`,
    ...rows.map(
      (row) =>
        `| ${row.name} | ${row.shape} | ${cell(row.wgrad)} (${row.wgrad.min.toFixed(1)}-${row.wgrad.max.toFixed(1)}) | ${row.rate} | ${cell(row.peers.webgpu)} | ${ratio(row.wgrad, row.peers.webgpu)} | ${cell(row.peers.wasm)} | ${ratio(row.wgrad, row.peers.wasm)} | ${cell(row.peers.ort)} | ${ratio(row.wgrad, row.peers.ort)} |`,
    ),
  ];
  writeFileSync(markdown, `wgrad ${version}, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, median of ${runs} runs after a warm-up.\n\n${header.map((h) => `- ${h}`).join('\n')}\n\n${lines.join('\n')}\n`);
}
const json = option('--json');
if (json) writeFileSync(json, JSON.stringify({ version, adapter: r, node: process.version, cpu: cpus()[0]?.model, runs, rows }, null, 1));
