// NaN as the float64 reference (and IEEE 754's maximum/minimum) has it. WGSL lets an implementation assume that no
// NaN occurs at run time: a self-comparison (x != x) may be folded away, and max/min may return either operand
// when one is NaN (llvmpipe returns the other one, so relu(NaN) was 0 and max([1, NaN, 3]) was 3). The bit pattern
// cannot be folded: a NaN has all exponent bits set and a non-zero mantissa.

fn is_nan(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

fn is_nan4(v: vec4<f32>) -> vec4<bool> {
  return (bitcast<vec4<u32>>(v) & vec4<u32>(0x7fffffffu)) > vec4<u32>(0x7f800000u);
}

// max and min that return NaN when either operand is NaN.
fn nan_max(a: f32, b: f32) -> f32 {
  return select(select(max(a, b), a, is_nan(a)), b, is_nan(b));
}

fn nan_min(a: f32, b: f32) -> f32 {
  return select(select(min(a, b), a, is_nan(a)), b, is_nan(b));
}

fn nan_max4(a: vec4<f32>, b: vec4<f32>) -> vec4<f32> {
  return select(select(max(a, b), a, is_nan4(a)), b, is_nan4(b));
}

fn nan_min4(a: vec4<f32>, b: vec4<f32>) -> vec4<f32> {
  return select(select(min(a, b), a, is_nan4(a)), b, is_nan4(b));
}
