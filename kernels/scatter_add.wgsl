// scatter_add: the gradient of gather. For each distinct table row u (rows[u]) and column d,
//   out[rows[u], d] = sum over s in [seg[u], seg[u+1]) of g[pos[s], d]
// `pos` lists the positions that gathered each row, grouped by row in ascending position order (built on the host
// from the index values), so every sum has a fixed order: results are deterministic, with no float atomics.
// `out` is [V, D], zeroed beforehand; g is [N, D]. One (u, d) pair per invocation.
struct Params { u: u32, d: u32, grid_x: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> rows: array<i32>;
@group(0) @binding(3) var<storage, read> seg: array<i32>;
@group(0) @binding(4) var<storage, read> pos: array<i32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;

override WG: u32 = 256;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * p.grid_x + wid.x) * WG + lid;
  if (i >= p.u * p.d) { return; }
  let u = i / p.d;
  let d = i % p.d;
  var acc = 0.0;
  for (var s = seg[u]; s < seg[u + 1u]; s++) {
    acc += g[u32(pos[s]) * p.d + d];
  }
  out[u32(rows[u]) * p.d + d] = acc;
}
