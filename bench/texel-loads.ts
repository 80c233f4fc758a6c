// What one load of a vec4 costs this adapter, by where it comes from: a sampled texture (2-D and 2-D array), a
// read-only storage texture (2-D and 2-D array) and a storage buffer. matmul_texture reads its operands from
// read-only storage textures because of this probe (docs/kernel-choices.md).
//   node scripts/run.mjs bench/texel-loads.ts
// Each invocation of a 16x16 grid of 8x8 workgroups sums 1024 vec4s of a 512x512 rgba32float texture (or buffer).
process.env.EGL_PLATFORM ??= 'surfaceless';
const { create, globals } = await import('webgpu');
Object.assign(globalThis, globals);

const flags = process.argv.includes('--gpu') ? [] : ['backend=opengl'];
const gpu = create(flags);
const adapter = await gpu.requestAdapter(flags.length ? { featureLevel: 'compatibility' } : undefined);
if (!adapter) throw new Error(`no adapter (Dawn flags ${flags.join(' ') || 'none'})`);
const device = await adapter.requestDevice();
console.log(`${adapter.info.description || adapter.info.device} (${flags.length ? 'Dawn OpenGL, compatibility' : 'Dawn default backend'})`);

const W = 512;
const ITER = 256;
type Kind = { decl: string; load: (x: string, y: string) => string; layout: Partial<GPUBindGroupLayoutEntry>; view?: GPUTextureViewDimension };
const kinds: Record<string, Kind> = {
  'sampled 2d-array': { decl: 'var T: texture_2d_array<f32>;', load: (x, y) => `textureLoad(T, vec2<u32>(${x}, ${y}), 0, 0)`, layout: { texture: { sampleType: 'unfilterable-float', viewDimension: '2d-array' } }, view: '2d-array' },
  'sampled 2d': { decl: 'var T: texture_2d<f32>;', load: (x, y) => `textureLoad(T, vec2<u32>(${x}, ${y}), 0)`, layout: { texture: { sampleType: 'unfilterable-float', viewDimension: '2d' } }, view: '2d' },
  'storage 2d-array': { decl: 'var T: texture_storage_2d_array<rgba32float, read>;', load: (x, y) => `textureLoad(T, vec2<u32>(${x}, ${y}), 0)`, layout: { storageTexture: { access: 'read-only', format: 'rgba32float', viewDimension: '2d-array' } }, view: '2d-array' },
  'storage 2d': { decl: 'var T: texture_storage_2d<rgba32float, read>;', load: (x, y) => `textureLoad(T, vec2<u32>(${x}, ${y}))`, layout: { storageTexture: { access: 'read-only', format: 'rgba32float', viewDimension: '2d' } }, view: '2d' },
  'storage buffer': { decl: 'var<storage, read> T: array<vec4<f32>>;', load: (x, y) => `T[(${y}) * ${W}u + (${x})]`, layout: { buffer: { type: 'read-only-storage' } } },
};
const usage = GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.COPY_DST;
// Compatibility mode fixes a texture's view dimension at creation.
const textures = {
  '2d': device.createTexture({ size: [W, W, 1], format: 'rgba32float', usage, textureBindingViewDimension: '2d' }),
  '2d-array': device.createTexture({ size: [W, W, 2], format: 'rgba32float', usage, textureBindingViewDimension: '2d-array' }),
} as Record<string, GPUTexture>;
const buffer = device.createBuffer({ size: W * W * 16, usage: GPUBufferUsage.STORAGE });
const out = device.createBuffer({ size: 128 * 128 * 16, usage: GPUBufferUsage.STORAGE });

for (const [name, k] of Object.entries(kinds)) {
  const at = (dx: number) => k.load(`(g.x * 4u + i + ${dx}u) % ${W}u`, `(g.y + i) % ${W}u`);
  const code = `@group(0) @binding(0) ${k.decl}
@group(0) @binding(1) var<storage, read_write> O: array<vec4<f32>>;
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  var s = vec4<f32>(0.0);
  for (var i = 0u; i < ${ITER}u; i++) { s += ${at(0)} + ${at(1)} + ${at(2)} + ${at(3)}; }
  O[g.y * 128u + g.x] = s;
}`;
  device.pushErrorScope('validation');
  const bgl = device.createBindGroupLayout({
    entries: [{ binding: 0, visibility: GPUShaderStage.COMPUTE, ...k.layout }, { binding: 1, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'storage' } }],
  });
  const pipeline = device.createComputePipeline({
    layout: device.createPipelineLayout({ bindGroupLayouts: [bgl] }),
    compute: { module: device.createShaderModule({ code }), entryPoint: 'main' },
  });
  const resource = k.view ? textures[k.view].createView({ dimension: k.view }) : { buffer };
  const group = device.createBindGroup({ layout: bgl, entries: [{ binding: 0, resource }, { binding: 1, resource: { buffer: out } }] });
  const error = await device.popErrorScope();
  if (error) {
    console.log(`${name.padEnd(18)} not available: ${error.message.split('\n')[0]}`);
    continue;
  }
  const run = async () => {
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(16, 16);
    pass.end();
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
  };
  await run();
  const times: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  const ms = times.sort((a, b) => a - b)[2];
  console.log(`${name.padEnd(18)} ${ms.toFixed(2).padStart(7)} ms  ${((ms * 1e6) / (128 * 128 * ITER * 4)).toFixed(2)} ns a load`);
}
device.destroy();
process.exit(0);
