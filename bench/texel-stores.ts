// What storing costs this adapter: a kernel that only stores, as many vec4 words as the bench's softmax
// ([12544,49]) and split-heads transpose ([32,49,8,160]) write, into a storage buffer a vec4 at a time, a storage
// buffer a float at a time, and a write-only storage texture; a copyBufferToBuffer of the same bytes beside them.
// It is the floor under those two ops on this adapter: whatever else they do comes on top (docs/bench.md).
//   node scripts/run.mjs bench/texel-stores.ts   (on the adapter wgrad picks; WGRAD_BACKEND=webgpu:<adapter> chooses)
// Each invocation of 8-lane workgroups stores 32 words, lane-interleaved (word (w * 32 + r) * 8 + lane), so a
// workgroup covers 256 consecutive words; 10 dispatches a submit, 11 submits per arm, the arms in turn.
import { GpuDevice } from '../src/device/device.js';
import { backendFromEnv } from '../src/device/runtime.js';

const dev = await GpuDevice.create({ adapter: backendFromEnv().adapter });
const device = dev.device;
console.log(dev.description);

const WIDTH = 1024; // texels per texture row
const PER_INVOCATION = 32;
const LANES = 8;
const REPS = 10;
const ROUNDS = 11;

type Target = 'buffer, vec4' | 'buffer, 4 floats' | 'storage texture';
const targets: Target[] = ['buffer, vec4', 'buffer, 4 floats', 'storage texture'];

function shader(target: Target): string {
  const decl =
    target === 'storage texture'
      ? 'var O: texture_storage_2d<rgba32float, write>;'
      : target === 'buffer, vec4'
        ? 'var<storage, read_write> O: array<vec4<f32>>;'
        : 'var<storage, read_write> O: array<f32>;';
  const store =
    target === 'storage texture'
      ? `textureStore(O, vec2<u32>(i % ${WIDTH}u, i / ${WIDTH}u), v);`
      : target === 'buffer, vec4'
        ? 'O[i] = v;'
        : 'O[4u * i] = v.x; O[4u * i + 1u] = v.y; O[4u * i + 2u] = v.z; O[4u * i + 3u] = v.w;';
  return `@group(0) @binding(0) ${decl}
@compute @workgroup_size(${LANES}) fn main(@builtin(workgroup_id) w: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  for (var r = 0u; r < ${PER_INVOCATION}u; r++) {
    let i = (w.x * ${PER_INVOCATION}u + r) * ${LANES}u + lane;
    let v = vec4<f32>(f32(i), f32(i) + 1.0, f32(i) * 2.0, 3.0);
    ${store}
  }
}`;
}

async function timeArms(arms: [string, (e: GPUCommandEncoder) => void][]): Promise<Map<string, { median: number; min: number }>> {
  const run = async (record: (e: GPUCommandEncoder) => void) => {
    const e = device.createCommandEncoder();
    for (let i = 0; i < REPS; i++) record(e);
    device.queue.submit([e.finish()]);
    await device.queue.onSubmittedWorkDone();
  };
  for (const [, record] of arms) for (let i = 0; i < 2; i++) await run(record);
  const ms = arms.map(() => [] as number[]);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [j, [, record]] of arms.entries()) {
      const t0 = performance.now();
      await run(record);
      ms[j].push((performance.now() - t0) / REPS);
    }
  }
  return new Map(arms.map(([name], j) => {
    const sorted = ms[j].sort((a, b) => a - b);
    return [name, { median: sorted[Math.floor(sorted.length / 2)], min: sorted[0] }];
  }));
}

const cases = [
  { name: 'softmax [12544,49] output', words: (12544 * 49) / 4 },
  { name: 'split-heads transpose [32,49,8,160] output', words: (32 * 49 * 8 * 160) / 4 },
];
for (const c of cases) {
  // Whole workgroups of 256 words: at most 255 words past the op's output, under 0.2% of it.
  const words = Math.ceil(c.words / (PER_INVOCATION * LANES)) * PER_INVOCATION * LANES;
  const bytes = words * 16;
  const buffer = device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  const copyDst = device.createBuffer({ size: bytes, usage: GPUBufferUsage.COPY_DST });
  const texture = device.createTexture({ size: [WIDTH, words / WIDTH, 1], format: 'rgba32float', usage: GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.TEXTURE_BINDING });
  const arms: [string, (e: GPUCommandEncoder) => void][] = targets.map((target) => {
    const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: shader(target) }), entryPoint: 'main' } });
    const resource = target === 'storage texture' ? texture.createView() : { buffer };
    const bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource }] });
    return [target, (e: GPUCommandEncoder) => {
      const pass = e.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(words / (PER_INVOCATION * LANES));
      pass.end();
    }];
  });
  arms.push(['copyBufferToBuffer', (e) => e.copyBufferToBuffer(buffer, 0, copyDst, 0, bytes)]);
  const times = await timeArms(arms);
  console.log(`${c.name}: ${words} vec4 words (${(bytes / 2 ** 20).toFixed(2)} MiB), ms per dispatch, median (min) of ${ROUNDS}`);
  for (const [name, t] of times) console.log(`  ${name.padEnd(20)} ${t.median.toFixed(3)} (${t.min.toFixed(3)})`);
  buffer.destroy();
  copyDst.destroy();
  texture.destroy();
}
process.exit(0);
