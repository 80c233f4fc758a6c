// fill: out[i] = value for i < n.
// Layout: contiguous f32 (or i32 bit pattern, passed through `bits`). One element per invocation, 1-D grid that
// wraps into y (rows of 65535 workgroups) when n exceeds 65535 workgroups.
struct Params { n: u32, bits: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;

override WG: u32 = 256;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * 65535u + wid.x) * WG + lid;
  if (i < p.n) { out[i] = p.bits; }
}
