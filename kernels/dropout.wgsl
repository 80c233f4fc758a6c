// dropout: out[i] = keep(i) ? x[i] * scale : 0, where keep(i) = u(i) >= rate and u(i) = hash(seed, offset + i) / 2^24.
// offset (wrapping, as u32) lets a block of a larger tensor draw the mask that tensor would: attention() runs its
// weights in blocks that fit one storage binding, and block n starts at element offset of the whole.
// The hash (lowbias32, two rounds; kernels/include/hash.wgsl) is the same integer function as src/tensor/random.ts, so the CPU backend draws the
// identical mask; the backward pass is this kernel run on dy with the same seed.
// One vec4 word (elements 4w .. 4w+3) per invocation: llvmpipe loads and stores a vec4 in one pass over the lanes and
// each float in a pass of its own, and [32,8,49,49] attention weights took 1.46 ms a word at a time against 2.45 a
// float at a time, the same bits (2 x AMD EPYC family 25 model 17, 2026-12-07, in turn in one process). The last
// word may run past n: x and out are pooled buffers of whole words, and what lands past n is not the tensor's.
struct Params { n: u32, seed: u32, offset: u32, rate: f32, scale: f32, grid_x: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4<f32>>;

override WG: u32 = 256;

//#include "hash.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let w = (wid.y * p.grid_x + wid.x) * WG + lid;
  if (w * 4u >= p.n) { return; }
  let i = p.offset + w * 4u;
  let u = vec4<f32>(dropout_uniform(p.seed, i), dropout_uniform(p.seed, i + 1u), dropout_uniform(p.seed, i + 2u), dropout_uniform(p.seed, i + 3u));
  out[w] = select(vec4<f32>(0.0), x[w] * p.scale, u >= vec4<f32>(p.rate));
}
