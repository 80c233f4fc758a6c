// dropout: out[i] = keep(i) ? x[i] * scale : 0, where keep(i) = u(i) >= rate and u(i) = hash(seed, offset + i) / 2^24.
// offset (wrapping, as u32) lets a block of a larger tensor draw the mask that tensor would: attention() runs its
// weights in blocks that fit one storage binding, and block n starts at element offset of the whole.
// The hash (lowbias32, two rounds; kernels/include/hash.wgsl) is the same integer function as src/tensor/random.ts, so the CPU backend draws the
// identical mask; the backward pass is this kernel run on dy with the same seed. One element per invocation.
struct Params { n: u32, seed: u32, offset: u32, rate: f32, scale: f32, grid_x: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

override WG: u32 = 256;

//#include "hash.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * p.grid_x + wid.x) * WG + lid;
  if (i >= p.n) { return; }
  out[i] = select(0.0, x[i] * p.scale, dropout_uniform(p.seed, p.offset + i) >= p.rate);
}
