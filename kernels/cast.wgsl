// cast: out[i] = convert(x[i]) between f32 and i32, moved as raw 32-bit words.
// TO_FLOAT: i32 -> f32 (exact below 2^24); otherwise f32 -> i32, truncating toward zero like Math.trunc.
// One element per invocation, on a grid grid_x workgroups wide, sized to the work by the host.
struct Params { n: u32, grid_x: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;

override TO_FLOAT: bool = true;
override WG: u32 = 256;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * p.grid_x + wid.x) * WG + lid;
  if (i >= p.n) { return; }
  if (TO_FLOAT) {
    out[i] = bitcast<u32>(f32(bitcast<i32>(x[i])));
  } else {
    out[i] = bitcast<u32>(i32(bitcast<f32>(x[i])));
  }
}
