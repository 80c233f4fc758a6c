// reduce: views x as [outer, R, inner] and reduces R. Each invocation owns one (o, c, j) and folds the `chunk`
// consecutive rows r in [c*chunk, min(R, (c+1)*chunk)), writing out[(o*chunks + c)*inner + j] = scale * fold.
// With chunks = 1 this is the whole reduction; with more, the host runs a second pass over the partials, so that a
// reduction to few outputs still spreads over many invocations.
// Adjacent invocations take adjacent j, so reads along inner are contiguous.
// OP: 0 sum, 1 max, 2 min.
// main_vec4 is the same walk over vec4 words, for llvmpipe, where every storage load is issued lane by lane, so a
// word costs about what a float does: a 16M-float sum took 48 ms from floats and 16 from words (2 Xeon cores,
// 2026-12-02). There r, inner and chunk count words along the axis that is read as words: main_along for
// inner == 1 (R % 4 == 0), main_vec4 for inner % 4 == 0. main_along_staged and main_vec4_staged read the same
// words from a texture the host copied x into (include/staged.wgsl), 2^stage_shift texels wide.

//#include "nan.wgsl"
//#include "staged.wgsl"
struct Params { outer: u32, r: u32, inner: u32, chunk: u32, chunks: u32, scale: f32, grid_x: u32, stage_shift: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> out4: array<vec4<f32>>;
@group(0) @binding(1) var xs: texture_storage_2d_array<rgba32float, read>;

override OP: u32 = 0;
override WG: u32 = 256;

// Non-finite constants must be made at runtime: WGSL rejects inf/NaN in constant expressions.
fn from_bits(bits: u32) -> f32 {
  var b = bits;
  return bitcast<f32>(b);
}

fn identity() -> f32 {
  switch OP {
    case 1u: { return from_bits(0xff800000u); }  // -inf
    case 2u: { return from_bits(0x7f800000u); }  // +inf
    default: { return 0.0; }
  }
}

fn fold(a: f32, b: f32) -> f32 {
  switch OP {
    case 1u: { return nan_max(a, b); }
    case 2u: { return nan_min(a, b); }
    default: { return a + b; }
  }
}

fn fold4(a: vec4<f32>, b: vec4<f32>) -> vec4<f32> {
  switch OP {
    case 1u: { return nan_max4(a, b); }
    case 2u: { return nan_min4(a, b); }
    default: { return a + b; }
  }
}

// Invocation i's rows [r0, r1) and the index of its first element (or word); then a step of p.inner per row.
struct Span { r0: u32, r1: u32, base: u32 }

fn span(i: u32) -> Span {
  let j = i % p.inner;
  let c = (i / p.inner) % p.chunks;
  let o = i / (p.inner * p.chunks);
  let r0 = c * p.chunk;
  return Span(r0, min(p.r, r0 + p.chunk), (o * p.r + r0) * p.inner + j);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * p.grid_x + wid.x) * WG + lid;
  if (i >= p.outer * p.chunks * p.inner) { return; }
  let s = span(i);
  var base = s.base;
  var acc = identity();
  for (var r = s.r0; r < s.r1; r++) {
    acc = fold(acc, x[base]);
    base += p.inner;
  }
  out[i] = acc * p.scale;
}

// Folds invocation i's words (main_vec4 and main_along).
fn fold_words(i: u32) -> vec4<f32> {
  let s = span(i);
  var base = s.base;
  var acc = vec4<f32>(identity());
  for (var r = s.r0; r < s.r1; r++) {
    acc = fold4(acc, x4[base]);
    base += p.inner;
  }
  return acc;
}

// fold_words from the staged texture. Two functions, not one with a flag: an entry point may use only one of the
// two variables at binding 1.
fn fold_staged(i: u32) -> vec4<f32> {
  let s = span(i);
  var base = s.base;
  var acc = vec4<f32>(identity());
  for (var r = s.r0; r < s.r1; r++) {
    acc = fold4(acc, textureLoad(xs, staged_at(base, p.stage_shift), 0));
    base += p.inner;
  }
  return acc;
}

// inner % 4 == 0: a word is 4 consecutive j, and each invocation writes 4 outputs.
@compute @workgroup_size(WG)
fn main_vec4(@builtin(workgroup_id) wid: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * p.grid_x + wid.x) * WG + lid;
  if (i >= p.outer * p.chunks * p.inner) { return; }
  out4[i] = fold_words(i) * p.scale;
}

// inner == 1 and R % 4 == 0: a word is 4 consecutive r, folded across its components at the end.
@compute @workgroup_size(WG)
fn main_along(@builtin(workgroup_id) wid: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * p.grid_x + wid.x) * WG + lid;
  if (i >= p.outer * p.chunks * p.inner) { return; }
  let acc = fold_words(i);
  out[i] = fold(fold(acc.x, acc.y), fold(acc.z, acc.w)) * p.scale;
}

@compute @workgroup_size(WG)
fn main_vec4_staged(@builtin(workgroup_id) wid: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * p.grid_x + wid.x) * WG + lid;
  if (i >= p.outer * p.chunks * p.inner) { return; }
  out4[i] = fold_staged(i) * p.scale;
}

@compute @workgroup_size(WG)
fn main_along_staged(@builtin(workgroup_id) wid: vec3<u32>,
                     @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * p.grid_x + wid.x) * WG + lid;
  if (i >= p.outer * p.chunks * p.inner) { return; }
  let acc = fold_staged(i);
  out[i] = fold(fold(acc.x, acc.y), fold(acc.z, acc.w)) * p.scale;
}
