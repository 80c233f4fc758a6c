// argmax: views x as [outer, R, inner]; out[o*inner + j] = the first r with the largest x[o, r, j] (i32).
// NaN compares false, so a NaN never wins unless every value is NaN (then 0). One output per invocation.
// One dispatch covers rows r0 .. r1 of R: the host splits a long R into pieces within the adapter's loop budget
// (llvmpipe silently ends an invocation's loops past 65535 iterations), and each piece after the first starts from
// the best value and index that the pieces before it left in `best` and `out`. A later piece must be strictly
// larger to win, so ties still go to the first r.
struct Params { outer: u32, r: u32, inner: u32, grid_x: u32, r0: u32, r1: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<i32>;
@group(0) @binding(3) var<storage, read_write> best_of: array<f32>;

override WG: u32 = 256;

// Non-finite constants must be made at runtime: WGSL rejects inf/NaN in constant expressions.
fn from_bits(bits: u32) -> f32 {
  var b = bits;
  return bitcast<f32>(b);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * p.grid_x + wid.x) * WG + lid;
  if (i >= p.outer * p.inner) { return; }
  let j = i % p.inner;
  let o = i / p.inner;
  var base = (o * p.r + p.r0) * p.inner + j;
  var best = from_bits(0xff800000u);
  var arg = 0;
  if (p.r0 > 0u) {
    best = best_of[i];
    arg = out[i];
  }
  for (var r = p.r0; r < p.r1; r++) {
    let v = x[base];
    if (v > best) { best = v; arg = i32(r); }
    base += p.inner;
  }
  out[i] = arg;
  best_of[i] = best;
}
