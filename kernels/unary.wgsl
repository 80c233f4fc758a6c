// unary: out[i] = f(x[i]) for the elementwise op chosen by the override OP; `alpha` is the scalar operand of pow.
// Layout: contiguous f32 read and written as vec4: one vec4 per invocation (a vec4 load costs llvmpipe about what a
// scalar one does). Buffers are pooled in 16-byte multiples, so the last partial vec4 reads and writes padding only.
// The grid is grid_x workgroups wide, sized to the work by the host. main_staged reads x from a texture the host
// copied it into (include/staged.wgsl), 2^stage_shift texels wide.
// OP codes (kept in step with src/ops/unary.ts):
//   0 neg  1 exp  2 log  3 sqrt  4 abs  5 relu  6 gelu (erf form)  7 tanh  8 sigmoid  9 pow(x, alpha)
//   10 step (x > 0 ? 1 : 0, ReLU's derivative)  11 gelu'(x)  12 square  13 reciprocal  14 sign

//#include "nan.wgsl"
//#include "staged.wgsl"
struct Params { n4: u32, alpha: f32, grid_x: u32, stage_shift: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(1) var x_staged: texture_storage_2d_array<rgba32float, read>;

override OP: u32 = 0;
override WG: u32 = 256;

// Abramowitz & Stegun 7.1.26 has 1.5e-7 absolute error, which is below f32 resolution near erf's range [-1, 1].
// Non-finite constants must be made at runtime: WGSL rejects inf/NaN in constant expressions.
fn from_bits(bits: u32) -> f32 {
  var b = bits;
  return bitcast<f32>(b);
}

fn erf_approx(v: vec4<f32>) -> vec4<f32> {
  let a = abs(v);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  let r = 1.0 - poly * exp(-a * a);
  return select(r, -r, v < vec4<f32>(0.0));
}

// tanh through exp(-2|v|) so large |v| never forms inf/inf.
fn stable_tanh(v: vec4<f32>) -> vec4<f32> {
  let e = exp(-2.0 * abs(v));
  let r = (1.0 - e) / (1.0 + e);
  return select(r, -r, v < vec4<f32>(0.0));
}

// WGSL's pow is undefined for a negative base; integer exponents keep their sign rules here.
fn signed_pow(v: vec4<f32>, e: f32) -> vec4<f32> {
  if (e == 0.0) { return vec4<f32>(1.0); }
  let r = pow(abs(v), vec4<f32>(e));
  let is_int = floor(e) == e;
  let odd = is_int && (i32(e) & 1) == 1;
  let neg = v < vec4<f32>(0.0);
  let signed = select(r, -r, neg & vec4<bool>(odd));
  let finite = abs(v) < vec4<f32>(from_bits(0x7f800000u));
  let out = select(signed, vec4<f32>(from_bits(0x7fc00000u)), neg & finite & vec4<bool>(!is_int));
  return select(out, v, is_nan4(v));
}

fn apply(v: vec4<f32>) -> vec4<f32> {
  switch OP {
    case 0u: { return -v; }
    case 1u: { return exp(v); }
    case 2u: { return log(v); }
    case 3u: { return sqrt(v); }
    case 4u: { return abs(v); }
    case 5u: { return nan_max4(v, vec4<f32>(0.0)); }
    case 6u: { return 0.5 * v * (1.0 + erf_approx(v * 0.70710678118654752)); }
    case 7u: { return stable_tanh(v); }
    case 8u: { return 1.0 / (1.0 + exp(-v)); }
    case 9u: { return signed_pow(v, p.alpha); }
    case 10u: { return select(vec4<f32>(0.0), vec4<f32>(1.0), v > vec4<f32>(0.0)); }
    case 11u: {
      let cdf = 0.5 * (1.0 + erf_approx(v * 0.70710678118654752));
      return cdf + v * 0.39894228040143268 * exp(-0.5 * v * v);
    }
    case 12u: { return v * v; }
    case 13u: { return 1.0 / v; }
    case 14u: { return select(sign(v), v, is_nan4(v)); }
    default: { return v; }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * p.grid_x + wid.x) * WG + lid;
  if (i < p.n4) { out[i] = apply(x[i]); }
}

@compute @workgroup_size(WG)
fn main_staged(@builtin(workgroup_id) wid: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * p.grid_x + wid.x) * WG + lid;
  if (i < p.n4) { out[i] = apply(textureLoad(x_staged, staged_at(i, p.stage_shift), 0)); }
}
