// copy_strided: for every multi-index (idx, j) over outer shape x inner extent,
//   dst[dst_offset + sum(idx * dst_strides) + j * dst_inner] = src[src_offset + sum(idx * src_strides) + j * src_inner].
// One kernel serves permute (permuted source strides), slice (source offset), expand (0 source strides),
// concat (destination offset per input) and the scatter of slice's gradient into a zeroed buffer.
// Element type is moved as raw 32-bit words, so f32 and i32 share it.
// The host merges dimensions that are contiguous on both sides and drops size-1 ones first, so `rank` (outer
// dimensions, <= 8) is usually 0-3. Each invocation moves ELEMS consecutive elements of the innermost dimension:
// the index arithmetic, which costs more than the copy on llvmpipe, is paid once per ELEMS elements.
// The grid is grid_x workgroups wide (the host sizes it to the work, under the 65535 limit).
// Entry point main_vec4 is the same walk over vec4 words: the host takes it when the inner dimension is contiguous
// on both sides and every offset, stride and the inner extent are multiples of 4 (then all in vec4 units). A vec4
// load costs llvmpipe about what a scalar one does. (The two entry points bind different views of the same
// buffers; WGSL allows that since no entry point uses both.)
struct Params {
  n: u32, rank: u32, src_offset: u32, dst_offset: u32,
  inner: u32, groups: u32, src_inner: u32, dst_inner: u32,
  grid_x: u32,
  shape: array<vec4<u32>, 2>,
  src_strides: array<vec4<u32>, 2>,
  dst_strides: array<vec4<u32>, 2>,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;
@group(0) @binding(1) var<storage, read> src4: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read_write> dst4: array<vec4<u32>>;

override WG: u32 = 256;
override ELEMS: u32 = 8u;

// Source and destination offsets of invocation i's first element, and how many elements it moves.
fn walk(i: u32) -> vec3<u32> {
  var rem = i / p.groups;
  let j0 = (i % p.groups) * ELEMS;
  var s = p.src_offset;
  var t = p.dst_offset;
  for (var d = i32(p.rank) - 1; d >= 0; d--) {
    let dim = p.shape[d / 4][d % 4];
    let idx = rem % dim;
    rem = rem / dim;
    s += idx * p.src_strides[d / 4][d % 4];
    t += idx * p.dst_strides[d / 4][d % 4];
  }
  return vec3<u32>(s + j0 * p.src_inner, t + j0 * p.dst_inner, min(ELEMS, p.inner - j0));
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * p.grid_x + wid.x) * WG + lid;
  if (i >= p.n) { return; }
  let w = walk(i);
  for (var e = 0u; e < w.z; e++) {
    dst[w.y + e * p.dst_inner] = src[w.x + e * p.src_inner];
  }
}

@compute @workgroup_size(WG)
fn main_vec4(@builtin(workgroup_id) wid: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * p.grid_x + wid.x) * WG + lid;
  if (i >= p.n) { return; }
  let w = walk(i);
  for (var e = 0u; e < w.z; e++) {
    dst4[w.y + e * p.dst_inner] = src4[w.x + e * p.src_inner];
  }
}
