// gather: out[n, d] = table[idx[n], d] for table [V, D] (row-major) and i32 indices idx [N]; out is [N, D]. One
// element per invocation. Indices outside 0..V-1 report the first violation into `err` ([site, value, position])
// for the host to raise at the next readback; the clamp only keeps the read inside the table.
// site: this dispatch's check number plus one, or 0 when the host checked the indices already.
// main_vec4, for D % 4 == 0, moves a vec4 word an invocation (d is then D / 4, the words of a row): llvmpipe loads
// and stores a vec4 in one pass over the lanes and each float in a pass of its own. An Embedding lookup of [32, 200]
// rows of 64 from a [20000, 64] table took 0.97 ms by words against 3.57 by floats, the same bits (2 x AMD EPYC
// family 25 model 17, 2026-12-07, in turn in one process).
struct Params { n: u32, d: u32, v: u32, grid_x: u32, site: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> table: array<f32>;
@group(0) @binding(2) var<storage, read> idx: array<i32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read_write> err: array<atomic<u32>, 4>;
@group(0) @binding(1) var<storage, read> table4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> out4: array<vec4<f32>>;

override WG: u32 = 256;

// The table row that element (or word) i of the output reads: its index, clamped into the table. The row's first
// element reports an index outside it.
fn checked_row(i: u32) -> u32 {
  let at = i / p.d;
  let raw = idx[at];
  if (p.site != 0u && (raw < 0 || u32(raw) >= p.v) && i % p.d == 0u) {
    // The first violation wins the flag; later ones leave its value and position alone.
    if (atomicCompareExchangeWeak(&err[0], 0u, p.site).exchanged) {
      atomicStore(&err[1], bitcast<u32>(raw));
      atomicStore(&err[2], at);
    }
  }
  return min(u32(max(raw, 0)), p.v - 1u);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * p.grid_x + wid.x) * WG + lid;
  if (i >= p.n * p.d) { return; }
  out[i] = table[checked_row(i) * p.d + i % p.d];
}

@compute @workgroup_size(WG)
fn main_vec4(@builtin(workgroup_id) wid: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * p.grid_x + wid.x) * WG + lid;
  if (i >= p.n * p.d) { return; }
  out4[i] = table4[checked_row(i) * p.d + i % p.d];
}
