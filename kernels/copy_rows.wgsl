// copy_rows: copy_strided's walk when at most 3 outer dimensions are left after merging and each fits the grid.
// The grid's (x, y, z) is then the outer multi-index, so no invocation divides: on llvmpipe, where integer
// division is done a lane at a time, the index arithmetic cost copy_strided as much as the copy. The WG lanes of
// a workgroup move ROWS inner runs, x = wid.x * ROWS + r for r < ROWS (while x < extent_x), lane l taking words
// l, l + WG, l + 2 WG, ... of each. The host puts the dimension with the smallest source stride on x, so that
// a workgroup reads neighbouring runs of the source. Both choices are about llvmpipe, where every storage access
// is a loop over lanes and each workgroup costs a coroutine frame: the split-heads permute [32,49,8,160] ->
// [32,8,49,160] took a median of 4.1 ms walking in destination order one run per workgroup, 1.8 ms with the
// source order and 8 runs per workgroup (one process, interleaved, 2 x AMD EPYC family 26).
// main moves 32-bit words; main_vec4 moves vec4 words (the host's choice, as in copy_strided.wgsl).
// main_vec4_staged reads the source's words from a texture the host copied it into (include/staged.wgsl),
// 2^stage_shift texels wide: the split-heads permute took 8.4 ms reading the buffer and 2.9 ms with the copy in
// (2 x AMD EPYC family 25, 2026-12-03); what is left is mostly its 524,288 vec4 stores.
//#include "staged.wgsl"
struct Params {
  src_offset: u32, dst_offset: u32, inner: u32, src_inner: u32,
  dst_inner: u32, extent_x: u32, stage_shift: u32,
  src_strides: vec4<u32>,  // of the grid's x, y, z (w unused)
  dst_strides: vec4<u32>,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;
@group(0) @binding(1) var<storage, read> src4: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read_write> dst4: array<vec4<u32>>;
@group(0) @binding(1) var src_staged: texture_storage_2d_array<rgba32float, read>;

override WG: u32 = 8;
override ROWS: u32 = 8;

// Source and destination offsets of run r of this workgroup. The loops below run ROWS times with an exit test
// (a constant trip count; the last workgroup along x has fewer runs than ROWS).
fn starts(wid: vec3<u32>, r: u32) -> vec2<u32> {
  let w = vec4<u32>(wid.x * ROWS + r, wid.y, wid.z, 0u);
  return vec2<u32>(p.src_offset + dot(w, p.src_strides), p.dst_offset + dot(w, p.dst_strides));
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  for (var r = 0u; r < ROWS; r++) {
    if (wid.x * ROWS + r >= p.extent_x) { break; }
    let at = starts(wid, r);
    for (var e = lid; e < p.inner; e += WG) { dst[at.y + e * p.dst_inner] = src[at.x + e * p.src_inner]; }
  }
}

@compute @workgroup_size(WG)
fn main_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  for (var r = 0u; r < ROWS; r++) {
    if (wid.x * ROWS + r >= p.extent_x) { break; }
    let at = starts(wid, r);
    for (var e = lid; e < p.inner; e += WG) { dst4[at.y + e] = src4[at.x + e]; }
  }
}

@compute @workgroup_size(WG)
fn main_vec4_staged(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  for (var r = 0u; r < ROWS; r++) {
    if (wid.x * ROWS + r >= p.extent_x) { break; }
    let at = starts(wid, r);
    for (var e = lid; e < p.inner; e += WG) {
      dst4[at.y + e] = bitcast<vec4<u32>>(textureLoad(src_staged, staged_at(at.x + e, p.stage_shift), 0));
    }
  }
}
