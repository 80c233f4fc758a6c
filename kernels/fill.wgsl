// fill: out[i] = value for i < n.
// Layout: contiguous f32 (or i32 bit pattern, passed through `bits`). One element per invocation, on a grid
// grid_x workgroups wide, sized to the work by the host.
struct Params { n: u32, bits: u32, grid_x: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;

override WG: u32 = 256;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * p.grid_x + wid.x) * WG + lid;
  if (i < p.n) { out[i] = p.bits; }
}
