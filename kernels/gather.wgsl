// gather: out[n, d] = table[idx[n], d] for table [V, D] (row-major) and i32 indices idx [N]; out is [N, D].
// Indices are range-checked on the host before dispatch; the clamp only guards memory. One element per invocation.
struct Params { n: u32, d: u32, v: u32, grid_x: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> table: array<f32>;
@group(0) @binding(2) var<storage, read> idx: array<i32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

override WG: u32 = 256;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * p.grid_x + wid.x) * WG + lid;
  if (i >= p.n * p.d) { return; }
  let row = min(u32(max(idx[i / p.d], 0)), p.v - 1u);
  out[i] = table[row * p.d + i % p.d];
}
