// reduce: views x as [outer, R, inner] and reduces R. Each invocation owns one (o, c, j) and folds the `chunk`
// consecutive rows r in [c*chunk, min(R, (c+1)*chunk)), writing out[(o*chunks + c)*inner + j] = scale * fold.
// With chunks = 1 this is the whole reduction; with more, the host runs a second pass over the partials, so that a
// reduction to few outputs still spreads over many invocations.
// Adjacent invocations take adjacent j, so reads along inner are contiguous.
// OP: 0 sum, 1 max, 2 min.

//#include "nan.wgsl"
struct Params { outer: u32, r: u32, inner: u32, chunk: u32, chunks: u32, scale: f32, grid_x: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

override OP: u32 = 0;
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
  let total = p.outer * p.chunks * p.inner;
  if (i >= total) { return; }
  let j = i % p.inner;
  let c = (i / p.inner) % p.chunks;
  let o = i / (p.inner * p.chunks);
  let r0 = c * p.chunk;
  let r1 = min(p.r, r0 + p.chunk);
  var base = (o * p.r + r0) * p.inner + j;
  var acc: f32;
  switch OP {
    case 1u: { acc = from_bits(0xff800000u); }  // -inf
    case 2u: { acc = from_bits(0x7f800000u); }  // +inf
    default: { acc = 0.0; }
  }
  for (var r = r0; r < r1; r++) {
    let v = x[base];
    switch OP {
      case 1u: { acc = nan_max(acc, v); }
      case 2u: { acc = nan_min(acc, v); }
      default: { acc += v; }
    }
    base += p.inner;
  }
  out[i] = acc * p.scale;
}
