// argmax: views x as [outer, R, inner]; out[o*inner + j] = the first r with the largest x[o, r, j] (i32).
// NaN compares false, so a NaN never wins unless every value is NaN (then 0). One output per invocation.
struct Params { outer: u32, r: u32, inner: u32, grid_x: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<i32>;

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
  var base = o * p.r * p.inner + j;
  var best = from_bits(0xff800000u);
  var arg = 0;
  for (var r = 0u; r < p.r; r++) {
    let v = x[base];
    if (v > best) { best = v; arg = i32(r); }
    base += p.inner;
  }
  out[i] = arg;
}
