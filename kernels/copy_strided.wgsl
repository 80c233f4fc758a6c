// copy_strided: for every multi-index idx over `shape` (rank <= 8),
//   dst[dst_offset + sum(idx * dst_strides)] = src[src_offset + sum(idx * src_strides)].
// One kernel serves permute (permuted source strides), slice (source offset), expand (0 source strides),
// concat (destination offset per input) and the scatter of slice's gradient into a zeroed buffer.
// Element type is moved as raw 32-bit words, so f32 and i32 share it. One element per invocation.
struct Params {
  n: u32, rank: u32, src_offset: u32, dst_offset: u32,
  shape: array<vec4<u32>, 2>,
  src_strides: array<vec4<u32>, 2>,
  dst_strides: array<vec4<u32>, 2>,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;

override WG: u32 = 256;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * 65535u + wid.x) * WG + lid;
  if (i >= p.n) { return; }
  var rem = i;
  var s = p.src_offset;
  var t = p.dst_offset;
  for (var d = i32(p.rank) - 1; d >= 0; d--) {
    let dim = p.shape[d / 4][d % 4];
    let idx = rem % dim;
    rem = rem / dim;
    s += idx * p.src_strides[d / 4][d % 4];
    t += idx * p.dst_strides[d / 4][d % 4];
  }
  dst[t] = src[s];
}
