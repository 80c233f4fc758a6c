// binary: out[i] = f(a[ia], b[ib]) with NumPy broadcasting; OP chooses f.
// Layout: contiguous f32 output of rank <= 8. `a_strides`/`b_strides` are the operands' row-major strides laid over
// the output shape, 0 on broadcast dimensions; the host merges dimensions both walk through as one and drops size-1
// ones first. With SAME_SHAPE the index maths is skipped (ia = ib = i).
// Buffers are read and written as vec4, one output vec4 per invocation: with SAME_SHAPE that is one vector op.
// VEC_INNER (the innermost dimension a multiple of 4, each operand either contiguous along it with its other strides
// multiples of 4, or broadcast along it: A_SPLAT / B_SPLAT) walks the index once per vec4 and loads each operand's
// vec4 (or its one element) at once. Otherwise each of the 4 elements walks and gathers its operands: on llvmpipe,
// where integer division and buffer loads go a lane at a time, the gradient of a mean over tokens ([32,1,1280]
// spread over [32,49,1280]) took 48 ms that way. Pooled buffers come in 16-byte multiples, so the last
// partial vec4 touches padding only. The grid is grid_x workgroups wide, sized to the work by the host.
// main_same_staged is SAME_SHAPE with both operands read from textures the host copied them into
// (include/staged.wgsl), 2^stage_shift texels wide. main_scalar_staged is an operand of the output's shape, staged,
// with a one-element one (x * 0.5, 1 - x) read from its buffer; SCALAR_A says the scalar is a.
// OP codes (kept in step with src/ops/binary.ts):
//   0 add 1 sub 2 mul 3 div 4 maximum 5 minimum 6 equal 7 notEqual 8 greater 9 greaterEqual 10 less 11 lessEqual

//#include "nan.wgsl"
//#include "staged.wgsl"
struct Params {
  n: u32, rank: u32, grid_x: u32, stage_shift: u32,
  shape: array<vec4<u32>, 2>,
  a_strides: array<vec4<u32>, 2>,
  b_strides: array<vec4<u32>, 2>,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(1) var a_staged: texture_storage_2d_array<rgba32float, read>;
@group(0) @binding(2) var b_staged: texture_storage_2d_array<rgba32float, read>;
@group(0) @binding(1) var full_staged: texture_storage_2d_array<rgba32float, read>;
@group(0) @binding(2) var<storage, read> scalar: array<f32>;

override OP: u32 = 0;
override SAME_SHAPE: bool = false;
override VEC_INNER: bool = false;
override A_SPLAT: bool = false;
override B_SPLAT: bool = false;
override SCALAR_A: bool = false;
override WG: u32 = 256;

fn mask(c: vec4<bool>) -> vec4<f32> { return select(vec4<f32>(0.0), vec4<f32>(1.0), c); }

fn apply(x: vec4<f32>, y: vec4<f32>) -> vec4<f32> {
  switch OP {
    case 0u: { return x + y; }
    case 1u: { return x - y; }
    case 2u: { return x * y; }
    case 3u: { return x / y; }
    case 4u: { return nan_max4(x, y); }
    case 5u: { return nan_min4(x, y); }
    case 6u: { return mask(x == y); }
    case 7u: { return mask(x != y); }
    case 8u: { return mask(x > y); }
    case 9u: { return mask(x >= y); }
    case 10u: { return mask(x < y); }
    case 11u: { return mask(x <= y); }
    default: { return x; }
  }
}

// The elements of a and b that output element `flat` (< n) reads. The outermost index is what is left, with no
// division: a merged walk of rank 1 (an operand times a scalar, say) divides nothing.
fn walk(flat: u32) -> vec2<u32> {
  var rem = flat;
  var ia = 0u;
  var ib = 0u;
  for (var d = i32(p.rank) - 1; d >= 1; d--) {
    let dim = p.shape[d / 4][d % 4];
    let idx = rem % dim;
    rem = rem / dim;
    ia += idx * p.a_strides[d / 4][d % 4];
    ib += idx * p.b_strides[d / 4][d % 4];
  }
  if (p.rank > 0u) {
    ia += rem * p.a_strides[0].x;
    ib += rem * p.b_strides[0].x;
  }
  return vec2<u32>(ia, ib);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * p.grid_x + wid.x) * WG + lid;
  if (i * 4u >= p.n) { return; }
  if (SAME_SHAPE) {
    out[i] = apply(a[i], b[i]);
    return;
  }
  if (VEC_INNER) {
    let at = walk(i * 4u);
    var xa = a[at.x / 4u];
    if (A_SPLAT) { xa = vec4<f32>(xa[at.x % 4u]); }
    var xb = b[at.y / 4u];
    if (B_SPLAT) { xb = vec4<f32>(xb[at.y % 4u]); }
    out[i] = apply(xa, xb);
    return;
  }
  var xa = vec4<f32>(0.0);
  var xb = vec4<f32>(0.0);
  for (var e = 0u; e < 4u; e++) {
    let flat = i * 4u + e;
    if (flat >= p.n) { break; }
    let at = walk(flat);
    xa[e] = a[at.x / 4u][at.x % 4u];
    xb[e] = b[at.y / 4u][at.y % 4u];
  }
  out[i] = apply(xa, xb);
}

@compute @workgroup_size(WG)
fn main_same_staged(@builtin(workgroup_id) wid: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * p.grid_x + wid.x) * WG + lid;
  if (i * 4u >= p.n) { return; }
  let at = staged_at(i, p.stage_shift);
  out[i] = apply(textureLoad(a_staged, at, 0), textureLoad(b_staged, at, 0));
}

@compute @workgroup_size(WG)
fn main_scalar_staged(@builtin(workgroup_id) wid: vec3<u32>,
                      @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * p.grid_x + wid.x) * WG + lid;
  if (i * 4u >= p.n) { return; }
  let x = textureLoad(full_staged, staged_at(i, p.stage_shift), 0);
  let s = vec4<f32>(scalar[0]);
  if (SCALAR_A) {
    out[i] = apply(s, x);
  } else {
    out[i] = apply(x, s);
  }
}
