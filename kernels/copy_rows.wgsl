// copy_rows: copy_strided's walk when at most 3 outer dimensions are left after merging and each fits the grid.
// The grid's (x, y, z) is then the outer multi-index, so no invocation divides: on llvmpipe, where integer
// division is done a lane at a time, the index arithmetic cost copy_strided as much as the copy. The WG lanes of
// a workgroup move one inner run, lane l taking words l, l + WG, l + 2 WG, ...
// main moves 32-bit words; main_vec4 moves vec4 words (the host's choice, as in copy_strided.wgsl).
struct Params {
  src_offset: u32, dst_offset: u32, inner: u32, src_inner: u32,
  dst_inner: u32,
  src_strides: vec4<u32>,  // of the grid's x, y, z (w unused)
  dst_strides: vec4<u32>,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;
@group(0) @binding(1) var<storage, read> src4: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read_write> dst4: array<vec4<u32>>;

override WG: u32 = 8;

fn starts(wid: vec3<u32>) -> vec2<u32> {
  let w = vec4<u32>(wid, 0u);
  return vec2<u32>(p.src_offset + dot(w, p.src_strides), p.dst_offset + dot(w, p.dst_strides));
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let at = starts(wid);
  for (var e = lid; e < p.inner; e += WG) { dst[at.y + e * p.dst_inner] = src[at.x + e * p.src_inner]; }
}

@compute @workgroup_size(WG)
fn main_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let at = starts(wid);
  for (var e = lid; e < p.inner; e += WG) { dst4[at.y + e] = src4[at.x + e]; }
}
