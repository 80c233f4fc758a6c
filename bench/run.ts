// npm run bench [-- --quick] [--filter REGEX] [--no-peers | --peers webgpu,wasm,ort,torch] [--interleave] [--json out.json]
//   [--markdown out/bench.md]   (a table to paste into docs/bench.md; the file is overwritten)
// Kernel throughput of wgrad beside TensorFlow.js (WebGPU and wasm backends) and ONNX Runtime's CPU MatMul, all on
// this machine's adapter in one run, and optionally PyTorch on the CPU (--peers ...,torch; bench/torch.ts). Times are the median (and min-max) of the timed runs after a warm-up, waiting
// for the GPU to finish each run; inputs stay resident. A fast op repeats inside each run, and its time per op is given.
import { cpus } from 'node:os';
import { writeFileSync } from 'node:fs';
import * as wg from '../src/node.js';
import type { Timing } from '../src/node.js';
import { loadTf, ortMatmul, tfSync, type Tf } from './peers.js';
import { threadProbe } from './thread-probe.js';
import { cpuFlags, findTorchPython, startTorch, torchWarnings, type TorchPeer } from './torch.js';
import { cases, type Case } from './cases.js';
import { SCALING_NAME, scalingLine, scalingSizes, timeScaling, type ScalingPoint } from './scaling.js';
import { timeInTurn } from '../src/device/timing.js';
import { parseFlags } from '../scripts/cli.js';

const PEERS = ['webgpu', 'wasm', 'ort', 'torch'];
const DEFAULT_PEERS = ['webgpu', 'wasm', 'ort'];
const args = parseFlags('npm run bench --', "Kernel throughput of wgrad beside TensorFlow.js (WebGPU and wasm) and ONNX Runtime's CPU MatMul, on this machine's adapter.", {
  quick: { type: 'boolean', default: false, description: 'one timed run per case and no machine-state probe (a smoke test, not a measurement)' },
  filter: { type: 'string', default: '', description: "only the cases whose name matches this regular expression (the size-scaling check after the cases is 'matmul size scaling')" },
  peers: { type: 'string', default: DEFAULT_PEERS.join(','), description: `comma-separated peers to time beside wgrad, from ${PEERS.join(', ')} (torch: PyTorch on the CPU, when a Python with torch is found)` },
  python: { type: 'string', default: '', description: "the Python for the torch peer (unset: python3, then /usr/bin/python3, the first that imports torch)" },
  'no-peers': { type: 'boolean', default: false, description: 'time wgrad alone' },
  interleave: { type: 'boolean', default: false, description: "time every library on a case before the next case, their timed runs in turn (fairer on a machine whose speed drifts), instead of each library's cases in a block" },
  json: { type: 'string', default: '', description: 'also write the results as JSON to this file' },
  markdown: { type: 'string', default: '', description: 'also write the table as Markdown to this file' },
});
const quick = args.quick;
const peerList = args['no-peers'] ? [] : args.peers.split(',').map((p) => p.trim()).filter(Boolean);
const unknownPeer = peerList.find((p) => !PEERS.includes(p));
if (unknownPeer) {
  process.stderr.write(`npm run bench --: unknown peer '${unknownPeer}'; --peers takes a comma-separated list of ${PEERS.join(', ')}.\n`);
  process.exit(2);
}
let filter: RegExp | null = null;
try {
  filter = args.filter ? new RegExp(args.filter) : null;
} catch (err) {
  process.stderr.write(`npm run bench --: --filter is not a regular expression: ${(err as Error).message}\n`);
  process.exit(2);
}
const runs = quick ? 1 : 5;
const interleave = args.interleave;

// The probe runs before the device opens: on an H100 over Vulkan, with the probe between opening the device and the
// first case, the kernels then ran 4-5x slower (2048^3: 3.8 against 0.7 ms).
const probe = quick ? null : await threadProbe();
const info = await wg.init({ log: false, debug: args.debug });
const version = wg.VERSION;
const r = info.adapter!;
// The adapter report's CPU (with family and model numbers on Linux) for a software adapter, os.cpus()'s otherwise.
const cpuName = r.cpu || `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}`;
console.log(`wgrad ${version} bench, ${new Date().toISOString().slice(0, 10)}`);
console.log(`adapter: ${r.device || r.description} | vendor '${r.vendor}' | architecture '${r.architecture}' | Dawn ${r.backend} (${r.featureLevel}) | ${r.software ? 'software' : 'hardware'}`);
console.log(`node ${process.version} | ${cpuName} | matmul variant ${wg.matmulVariant(r)}`);
const header = [
  `adapter: ${r.device || r.description} | vendor '${r.vendor}' | architecture '${r.architecture}' | Dawn ${r.backend} (${r.featureLevel}) | ${r.software ? 'software' : 'hardware'}`,
  `node ${process.version} | ${cpuName}`,
];
const bits = /llvmpipe.*?-(\d+)-bits/.exec(r.device || r.description)?.[1];
if (bits) {
  const why = r.vectorWidth || 'not settled by wgrad';
  const lines = [`llvmpipe vector width: ${bits} bits (${why})`, ...r.notes.map((note) => `wgrad: ${note}`)];
  header.push(...lines);
  console.log(lines.join('\n'));
}
header.push(`timing order: ${interleave ? 'interleaved, every library on a case before the next case, their timed runs in turn' : "in blocks, each library's cases before the next library's"}`);
console.log(header[header.length - 1]);
if (probe) {
  header.push(`machine state: a busy loop took ${probe.oneMs} ms on one thread and ${probe.twoMs} ms on each of two (${probe.cores} cores' worth)`);
  console.log(header[header.length - 1]);
}
const tf: Tf | null = peerList.includes('webgpu') || peerList.includes('wasm') ? await loadTf(r) : null;

// PyTorch's CPU speed follows its BLAS, and OpenBLAS 0.3.21 misdetects some VMs' CPUs (Sapphire Rapids as Prescott,
// 4-40 GFLOP/s at 1024^3) unless OPENBLAS_CORETYPE names it (SkylakeX for AVX-512, Haswell or Zen for AVX2).
let torch: TorchPeer | null = null;
if (peerList.includes('torch')) {
  const torchLines = header.length;
  const found = findTorchPython(args.python ? [args.python] : ['python3', '/usr/bin/python3']);
  if ('why' in found) {
    header.push(`torch peer: not available (${found.why}); on Debian: apt-get install python3-torch libopenblas0`);
  } else {
    try {
      torch = await startTorch(found.python);
      const b = torch.build;
      header.push(`torch ${b.torch} (${b.python}) on the CPU, ${b.threads} intra-op thread(s), BLAS ${b.openblasConfig ?? b.blas}${b.openblasCore ? `, core type ${b.openblasCore}` : ''} (OPENBLAS_CORETYPE=${b.coretype || 'unset'})`);
      header.push(...torchWarnings(b, cpuFlags()));
    } catch (err) {
      header.push(`torch peer: failed to start (${(err as Error).message})`);
    }
  }
  console.log(header.slice(torchLines).join('\n'));
}

// A real GPU finishes a small op in microseconds, well under the cost of one submit and wait. Cases faster than this
// repeat inside each timed run (the same rule for every library) and report the time per op.
const MIN_RUN_MS = 20;

const time = (run: (reps: number) => Promise<void>): Promise<Timing> =>
  wg.timeRepeated(run, { runs, minRunMs: MIN_RUN_MS, maxReps: 1000, warmMs: 200, sizeBelowMs: quick ? 0 : 1000 });

interface Row {
  name: string;
  shape: string;
  wgrad: Timing;
  rate: string;
  peers: Record<string, Timing | null>;
}

const rows: Row[] = [];
const digits = (ms: number) => ms.toFixed(ms < 1 ? 3 : ms < 10 ? 2 : 1);
const fmt = (t: Timing | null | undefined) => (t ? digits(t.median) : '-');
const span = (t: Timing) => `${digits(t.min)}-${digits(t.max)}${t.reps > 1 ? `, x${t.reps}` : ''}`;
// Three significant digits, so that a ratio just under a target (9.96) does not print as the target (10.0).
const ratioText = (r: number): string => (r >= 100 ? r.toFixed(0) : r.toPrecision(3));
const ratio = (w: Timing, p: Timing | null | undefined) => (p ? `${ratioText(p.median / w.median)}x` : '-');

const line = (row: Row) =>
  `${row.name.padEnd(30)} ${row.shape.padEnd(26)} ${fmt(row.wgrad).padStart(8)} ms (${span(row.wgrad)}) ${row.rate.padStart(18)}`;

// By default each library times all its cases before the next one starts, wgrad first, so that one library's
// threads and device state cannot slow another's cases. (On the H100, wgrad's 1568x1280x1280 matmul ran 1.30 ms
// after the peers' 2048^3 cases against 0.27 ms alone; that run also lacked the busy warm-up, so the clock state may
// explain it.) With --interleave every library times a case before the next case starts, their timed runs in turn
// (timeCaseInTurn), so a ratio compares runs taken a fraction of a second apart, not minutes: on a shared machine
// whose speed drifts, that is the fairer ratio.
const selected = cases(quick).filter((c) => !filter || filter.test(c.name));
const tfBackends = tf ? ['webgpu', 'wasm'].filter((b) => peerList.includes(b)) : [];

function addRow(c: Case, t: Timing): Row {
  const rate = c.flops ? `${(c.flops / t.median / 1e6).toFixed(2)} GFLOP/s` : c.bytes ? `${(c.bytes / t.median / 1e6).toFixed(2)} GB/s` : c.perDispatch ? `${((t.median / c.perDispatch) * 1000).toFixed(1)} us/dispatch` : '';
  rows.push({ name: c.name, shape: c.shape, wgrad: t, rate, peers: {} });
  return rows[rows.length - 1];
}

/** One library's side of a case: `run(reps)` does the op reps times and waits for it. */
interface Arm {
  peer: string | null;
  run(reps: number): Promise<void>;
  dispose(): void | Promise<void>;
}

function wgradArm(c: Case): Arm {
  const w = c.wgrad();
  return {
    peer: null,
    async run(reps) {
      for (let i = 0; i < reps; i++) wg.tidy(() => void w.run());
      await wg.sync();
    },
    dispose: () => w.dispose(),
  };
}

async function tfArm(c: Case, backend: string): Promise<Arm | null> {
  if (!tf || !c.tf || (c.tfOnly && !c.tfOnly.includes(backend))) return null;
  const use = async () => {
    if (tf.getBackend() !== backend) {
      await tf.setBackend(backend);
      await tf.ready();
    }
  };
  await use();
  const t = c.tf(tf);
  const free = (out: ReturnType<typeof t.run>) => {
    for (const o of Array.isArray(out) ? out : [out]) o.dispose();
  };
  return {
    peer: backend,
    async run(reps) {
      // Each backend's tensors stay on it; switching back costs microseconds when the backend is already set up.
      await use();
      let out = t.run();
      for (let r = 1; r < reps; r++) {
        free(out);
        out = t.run();
      }
      await tfSync(tf, out);
      free(out);
    },
    dispose: () => t.dispose(),
  };
}

async function ortArm(c: Case): Promise<Arm | null> {
  if (!peerList.includes('ort') || !c.ort) return null;
  const ort = await ortMatmul(...c.ort);
  return {
    peer: 'ort',
    async run(reps) {
      for (let r = 0; r < reps; r++) await ort.run();
    },
    dispose: () => ort.release(),
  };
}

async function torchArm(c: Case): Promise<Arm | null> {
  if (!torch || !c.torch) return null;
  const op = await torch.open(c.torch);
  return op && { peer: 'torch', run: (reps) => op.run(reps), dispose: () => op.close() };
}

async function timeWgrad(c: Case): Promise<void> {
  const arm = wgradArm(c);
  const t = await time((reps) => arm.run(reps));
  arm.dispose();
  console.log(line(addRow(c, t)));
}

/**
 * --interleave: the libraries' timed runs of a case go round in turn (timeInTurn), one run of wgrad, then one of each
 * peer, `runs` rounds, so that a change in the machine's speed during the case slows each alike. The torch peer keeps
 * the case's op built in its process between runs; its runs are timed here, so each includes one request and answer
 * over the pipe (about 0.1 ms, against runs of 20 ms or more).
 */
async function timeCaseInTurn(c: Case): Promise<void> {
  const arms: Arm[] = [wgradArm(c)];
  for (const backend of tfBackends) {
    const arm = await tfArm(c, backend);
    if (arm) arms.push(arm);
  }
  const ort = await ortArm(c);
  if (ort) arms.push(ort);
  const torchOp = await torchArm(c);
  if (torchOp) arms.push(torchOp);
  const timings = await timeInTurn(arms, (arm, reps) => arm.run(reps), { rounds: runs, minRunMs: MIN_RUN_MS, maxReps: 1000, warmMs: 200, sizeBelowMs: quick ? 0 : 1000 });
  for (const arm of arms) await arm.dispose();
  wg.emptyCache();
  const row = addRow(c, timings[0]);
  arms.forEach((arm, i) => {
    if (arm.peer) row.peers[arm.peer] = timings[i];
  });
  console.log(line(row));
}

async function timeTf(c: Case, row: Row, backend: string): Promise<void> {
  const arm = await tfArm(c, backend);
  if (!arm) return;
  row.peers[backend] = await time((reps) => arm.run(reps));
  await arm.dispose();
}

async function timeOrt(c: Case, row: Row): Promise<void> {
  const arm = await ortArm(c);
  if (!arm) return;
  row.peers.ort = await time((reps) => arm.run(reps));
  await arm.dispose();
}

async function timeTorch(c: Case, row: Row): Promise<void> {
  if (!torch || !c.torch) return;
  row.peers.torch = await torch.time(c.torch, { runs, minRunMs: MIN_RUN_MS, warmMs: 200 });
}

if (interleave) {
  for (const c of selected) await timeCaseInTurn(c);
} else {
  for (const c of selected) await timeWgrad(c);
  wg.emptyCache();
  for (const backend of tfBackends) {
    console.log(`timing tfjs-${backend}...`);
    for (const [i, c] of selected.entries()) await timeTf(c, rows[i], backend);
  }
  if (peerList.includes('ort')) console.log('timing ONNX Runtime...');
  for (const [i, c] of selected.entries()) await timeOrt(c, rows[i]);
  if (torch) console.log('timing PyTorch (CPU)...');
  for (const [i, c] of selected.entries()) await timeTorch(c, rows[i]);
}
// Whether GFLOP/s fall from 1024^3 to 2048^3, with both sizes timed in the same minutes (bench/scaling.ts).
const scalingRounds = quick ? 1 : 9;
let scaling: ScalingPoint[] | null = null;
if (!filter || filter.test(SCALING_NAME)) {
  scaling = await timeScaling(scalingSizes(quick), scalingRounds, MIN_RUN_MS);
  wg.emptyCache();
}
torch?.close();
// The same probe after the cases: these VMs change speed within a run, and a table is read differently when the
// machine ended slower (or faster) than it began. After the last case it can slow no kernel.
const probeAfter = probe ? await threadProbe() : null;
if (probeAfter) {
  header.push(`machine state after the cases: the busy loop took ${probeAfter.oneMs} ms on one thread and ${probeAfter.twoMs} ms on each of two (${probeAfter.cores} cores' worth)`);
  console.log(header[header.length - 1]);
}
if (peerList.length > 0) {
  const cell = (row: Row, peer: string) => `${fmt(row.peers[peer]).padStart(8)} ${ratio(row.wgrad, row.peers[peer]).padStart(7)}`;
  for (const row of rows) console.log(`${line(row)} | tfjs-webgpu ${cell(row, 'webgpu')} | tfjs-wasm ${cell(row, 'wasm')} | ORT ${cell(row, 'ort')}${torch ? ` | torch ${cell(row, 'torch')}` : ''}`);
}
console.log('Ratios are wgrad\'s speed over the peer\'s (peer ms / wgrad ms): above 1x wgrad is faster.');
if (scaling) console.log(scalingLine(scaling, scalingRounds));
const markdown = args.markdown || undefined;
if (markdown) {
  const lines = [
    `| case | shape | wgrad ms (min-max) | wgrad rate | tfjs-webgpu ms | wgrad ÷ tfjs-webgpu | tfjs-wasm ms | wgrad ÷ tfjs-wasm | ORT ms | wgrad ÷ ORT |${torch ? ' torch ms | wgrad ÷ torch |' : ''}`,
    `|---|---|---|---|---|---|---|---|---|---|${torch ? '---|---|' : ''}`,
    ...rows.map(
      (row) =>
        `| ${row.name} | ${row.shape} | ${fmt(row.wgrad)} (${span(row.wgrad)}) | ${row.rate} | ${fmt(row.peers.webgpu)} | ${ratio(row.wgrad, row.peers.webgpu)} | ${fmt(row.peers.wasm)} | ${ratio(row.wgrad, row.peers.wasm)} | ${fmt(row.peers.ort)} | ${ratio(row.wgrad, row.peers.ort)} |${torch ? ` ${fmt(row.peers.torch)} | ${ratio(row.wgrad, row.peers.torch)} |` : ''}`,
    ),
  ];
  writeFileSync(markdown, `wgrad ${version}, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, median of ${runs} runs after a warm-up. An op faster than ${MIN_RUN_MS} ms repeats inside each run (x N) and its time per op is given.\n\n${header.map((h) => `- ${h}`).join('\n')}\n\n${lines.join('\n')}\n${scaling ? `\n${scalingLine(scaling, scalingRounds)}.\n` : ''}`);
}
const json = args.json || undefined;
if (json) writeFileSync(json, JSON.stringify({ version, adapter: r, node: process.version, cpu: cpuName, runs, order: interleave ? 'interleaved' : 'blocks', machineState: probe && { before: probe, after: probeAfter }, rows, scaling }, null, 1));
