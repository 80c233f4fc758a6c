// gather: out[n, d] = table[idx[n], d] for table [V, D] (row-major) and i32 indices idx [N]; out is [N, D]. One
// element per invocation. Indices outside 0..V-1 report the first violation into `err` ([site, value, position])
// for the host to raise at the next readback; the clamp only keeps the read inside the table.
// site: this dispatch's check number plus one, or 0 when the host checked the indices already.
struct Params { n: u32, d: u32, v: u32, grid_x: u32, site: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> table: array<f32>;
@group(0) @binding(2) var<storage, read> idx: array<i32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read_write> err: array<atomic<u32>, 4>;

override WG: u32 = 256;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * p.grid_x + wid.x) * WG + lid;
  if (i >= p.n * p.d) { return; }
  let at = i / p.d;
  let raw = idx[at];
  if (p.site != 0u && (raw < 0 || u32(raw) >= p.v) && i % p.d == 0u) {
    // The first violation wins the flag; later ones leave its value and position alone.
    if (atomicCompareExchangeWeak(&err[0], 0u, p.site).exchanged) {
      atomicStore(&err[1], bitcast<u32>(raw));
      atomicStore(&err[2], at);
    }
  }
  let row = min(u32(max(raw, 0)), p.v - 1u);
  out[i] = table[row * p.d + i % p.d];
}
