// How the adapter spreads one dispatch's workgroups over its threads, and how busy those threads are during the
// bench's matmuls. Mesa 22.3's llvmpipe hands each of its compute threads a fixed, contiguous share of a dispatch's
// workgroups (lp_cs_tpool: workgroups / threads each, in order) instead of letting idle threads take more, so a
// dispatch lasts as long as its slowest share. The first part times three dispatches of the same size: the first
// half of the workgroups heavy, every other workgroup heavy, and all heavy. With fixed contiguous shares the first
// equals the third (one thread does every heavy workgroup); with shared work it equals the second.
// The second part reads each thread's CPU time (/proc/self/task, Linux) across a loop of matmuls: llvmpipe's
// threads are the busy ones, and the less busy of them waited for the other at the end of each dispatch.
// Run: node scripts/run.mjs bench/workgroup-split.ts [--sizes 1024,2048]
import { readdirSync, readFileSync } from 'node:fs';
import * as wg from '../src/node.js';
import { getDevice } from '../src/device/runtime.js';
import { timeInTurn } from '../src/device/timing.js';
import { parseFlags } from '../scripts/cli.js';

const args = parseFlags('node scripts/run.mjs bench/workgroup-split.ts', 'Times uneven dispatches and reads the threads\' CPU time during matmuls.', {
  sizes: { type: 'integers', default: [1024, 2048], min: 1, description: 'sizes n of the n x n x n products' },
});
const sizes = args.sizes;
const info = await wg.init({ log: false });
console.log(`adapter: ${info.description}${info.adapter?.cpu ? ` | ${info.adapter.cpu}` : ''}`);
const device = getDevice().device;

// 4096 workgroups; a heavy one runs 60,000 steps of an integer hash per lane (under llvmpipe's 65,535-iteration
// loop budget), a light one 10.
const WORKGROUPS = 4096;
const module = device.createShaderModule({
  code: `
@group(0) @binding(0) var<storage, read_write> out: array<u32>;
@group(0) @binding(1) var<uniform> mode: vec4<u32>;
@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  var heavy = true;
  if (mode.x == 0u) { heavy = wid.x < ${WORKGROUPS / 2}u; }
  if (mode.x == 1u) { heavy = (wid.x & 1u) == 0u; }
  var steps = 10u;
  if (heavy) { steps = 60000u; }
  var h = lid + wid.x * 8u;
  for (var i = 0u; i < steps; i++) { h = h * 1664525u + 1013904223u; h = h ^ (h >> 13u); }
  out[wid.x * 8u + lid] = h;
}`,
});
const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
const out = device.createBuffer({ size: WORKGROUPS * 32, usage: GPUBufferUsage.STORAGE });
const modes = ['first half heavy', 'every other heavy', 'all heavy'];
const groups = modes.map((_, m) => {
  const u = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(u, 0, new Uint32Array([m, 0, 0, 0]));
  return device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: out } }, { binding: 1, resource: { buffer: u } }] });
});
// The three dispatches timed in turn (timeInTurn), so that a change in the machine's speed slows each alike.
const dispatch = async (m: number, reps: number): Promise<void> => {
  for (let i = 0; i < reps; i++) {
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, groups[m]);
    pass.dispatchWorkgroups(WORKGROUPS);
    pass.end();
    device.queue.submit([enc.finish()]);
  }
  await device.queue.onSubmittedWorkDone();
};
const ROUNDS = 7;
const timed = await timeInTurn(modes.map((_, m) => m), dispatch, { rounds: ROUNDS, minRunMs: 20, maxReps: 10 });
console.log(`${WORKGROUPS} workgroups, ${ROUNDS} rounds in turn: ${modes.map((name, m) => `${name} ${timed[m].median.toFixed(0)} ms`).join(', ')}`);

// Each thread's user + system CPU time in ms (clock ticks of 10 ms).
function threadTimes(): Map<string, number> {
  const times = new Map<string, number>();
  for (const id of readdirSync('/proc/self/task')) {
    const stat = readFileSync(`/proc/self/task/${id}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    times.set(id, (Number(fields[11]) + Number(fields[12])) * 10);
  }
  return times;
}
for (const n of sizes) {
  const a = wg.rand([n, n], { seed: 1 });
  const b = wg.rand([n, n], { seed: 2 });
  const run = async () => { wg.tidy(() => void wg.matmul(a, b)); await wg.sync(); };
  for (let i = 0; i < 2; i++) await run();
  const reps = Math.max(3, Math.ceil(2000 / ((2 * n ** 3) / 40e6)));  // about 2 s at 40 GFLOP/s
  const before = threadTimes();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) await run();
  const wall = performance.now() - t0;
  const busy = [...threadTimes()].map(([id, ms]) => (ms - (before.get(id) ?? 0)) / wall).filter((f) => f > 0.02).sort((x, y) => y - x);
  console.log(`${reps} x matmul ${n}^3: ${(wall / reps).toFixed(1)} ms each; threads busy ${busy.map((f) => `${(100 * f).toFixed(0)}%`).join(', ')} of the time`);
  a.dispose();
  b.dispose();
}
