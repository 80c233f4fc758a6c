// scatter_add: the gradient of gather. For each distinct table row u (rows[u]) and column d,
//   out[rows[u], d] = sum over s in [seg[u], seg[u+1]) of g[pos[s], d]
// `pos` lists the positions that gathered each row, grouped by row in ascending position order (built on the host
// from the index values), so every sum has a fixed order: results are deterministic, with no float atomics.
// `out` is [V, D], zeroed beforehand; g is [N, D]. One (u, d) pair per invocation.
// One dispatch sums positions `first` .. `first + len` of each row's group and adds them to `out`: the host splits a
// group longer than the adapter's loop budget into pieces, in order (llvmpipe silently ends an invocation's loops
// past 65535 iterations: a row gathered 98,000 times got a third of its gradient wrong).
// main_vec4, for D % 4 == 0, sums a vec4 word of the row an invocation (d is then D / 4): llvmpipe loads and stores
// a vec4 in one pass over the lanes and each float in a pass of its own (kernels/gather.wgsl).
struct Params { u: u32, d: u32, grid_x: u32, first: u32, len: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> rows: array<i32>;
@group(0) @binding(3) var<storage, read> seg: array<i32>;
@group(0) @binding(4) var<storage, read> pos: array<i32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<storage, read> g4: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> out4: array<vec4<f32>>;

override WG: u32 = 256;

// The positions of row group u that this dispatch sums: [s0, s1) of pos, empty when the group is done.
fn piece(u: u32) -> vec2<i32> {
  let s0 = seg[u] + i32(p.first);
  return vec2<i32>(s0, min(seg[u + 1u], s0 + i32(p.len)));
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * p.grid_x + wid.x) * WG + lid;
  if (i >= p.u * p.d) { return; }
  let u = i / p.d;
  let d = i % p.d;
  let s = piece(u);
  if (s.x >= s.y) { return; }
  var acc = 0.0;
  for (var k = s.x; k < s.y; k++) {
    acc += g[u32(pos[k]) * p.d + d];
  }
  let at = u32(rows[u]) * p.d + d;
  out[at] = out[at] + acc;
}

@compute @workgroup_size(WG)
fn main_vec4(@builtin(workgroup_id) wid: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * p.grid_x + wid.x) * WG + lid;
  if (i >= p.u * p.d) { return; }
  let u = i / p.d;
  let d = i % p.d;
  let s = piece(u);
  if (s.x >= s.y) { return; }
  var acc = vec4<f32>(0.0);
  for (var k = s.x; k < s.y; k++) {
    acc += g4[u32(pos[k]) * p.d + d];
  }
  let at = u32(rows[u]) * p.d + d;
  out4[at] = out4[at] + acc;
}
