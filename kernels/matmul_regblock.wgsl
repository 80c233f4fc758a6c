// matmul_regblock: C[z] = act(A[z] · B[z] + bias), for software adapters (llvmpipe).
// Layout: A is [M, K4*4] and B is [K4*4, N4*4], row-major and read as vec4 rows; their padding columns/rows are
// zero (the host packs transposed or unaligned operands into this form first). C is [M, N], row-major, N <= N4*4.
// Batch z (grid z) starts at z * {a,b,c}_batch elements of each operand (0 broadcasts it).
// Work per invocation: a 4x16 block of C in 16 vec4 accumulators; each k4 step loads 4 vec4 of A and 16 of B
// for 64 vec4 FMAs. No workgroup memory: llvmpipe runs each invocation as a SIMD lane, keeps "registers" in L1
// anyway, and only pays for barriers. Measured at 1024^3 on Dawn OpenGL -> Mesa 22.3 llvmpipe (2 cores):
// 4x16 vec4 7.8-8.0 GFLOP/s, 16x16 vec4 7.0, 8x16 5.4, 2x16 5.5, scalar-load 16x16 2.5 (see docs/kernel-choices.md).
// Tails: rows past M and vec4 columns past N4 clamp their loads and skip their stores.
// Epilogue: + bias[col] with HAS_BIAS, then ACT 0 none, 1 relu, 2 gelu (erf form).

//#include "nan.wgsl"
struct Params { m: u32, n: u32, k4: u32, n4: u32, a_batch: u32, b_batch: u32, c_batch: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> B: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> C: array<f32>;

override HAS_BIAS: bool = false;
override ACT: u32 = 0;
override WG_X: u32 = 8;

const TM = 4u;   // rows of C per invocation
const TN4 = 4u;  // vec4 columns of C per invocation (16 scalars)

// Same approximation as unary.wgsl (A&S 7.1.26, 1.5e-7 absolute error).
fn erf_approx(v: f32) -> f32 {
  let a = abs(v);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  let r = 1.0 - poly * exp(-a * a);
  return select(r, -r, v < 0.0);
}

fn epilogue(v: f32, col: u32) -> f32 {
  var r = v;
  if (HAS_BIAS) { r += bias[col]; }
  if (ACT == 1u) { r = nan_max(r, 0.0); }
  if (ACT == 2u) { r = 0.5 * r * (1.0 + erf_approx(r * 0.70710678118654752)); }
  return r;
}

@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let col4 = gid.x * TN4;
  let row0 = gid.y * TM;
  if (col4 >= p.n4 || row0 >= p.m) { return; }
  let a_base = gid.z * p.a_batch / 4u;
  let b_base = gid.z * p.b_batch / 4u;

  var a_row: array<u32, TM>;
  for (var i = 0u; i < TM; i++) { a_row[i] = a_base + min(row0 + i, p.m - 1u) * p.k4; }
  var b_col: array<u32, TN4>;
  for (var j = 0u; j < TN4; j++) { b_col[j] = b_base + min(col4 + j, p.n4 - 1u); }

  var acc: array<vec4<f32>, 16>;  // [TM][TN4]
  for (var kk = 0u; kk < p.k4; kk++) {
    var b: array<vec4<f32>, 16>;  // rows 4kk..4kk+3 of B, TN4 vec4 each
    for (var r = 0u; r < 4u; r++) {
      let row = (kk * 4u + r) * p.n4;
      for (var j = 0u; j < TN4; j++) { b[r * TN4 + j] = B[row + b_col[j]]; }
    }
    for (var i = 0u; i < TM; i++) {
      let a = A[a_row[i] + kk];
      for (var j = 0u; j < TN4; j++) {
        var c = acc[i * TN4 + j];
        c = fma(vec4<f32>(a.x), b[j], c);
        c = fma(vec4<f32>(a.y), b[TN4 + j], c);
        c = fma(vec4<f32>(a.z), b[2u * TN4 + j], c);
        c = fma(vec4<f32>(a.w), b[3u * TN4 + j], c);
        acc[i * TN4 + j] = c;
      }
    }
  }

  let c_base = gid.z * p.c_batch;
  for (var i = 0u; i < TM; i++) {
    let row = row0 + i;
    if (row >= p.m) { break; }
    for (var j = 0u; j < TN4; j++) {
      for (var e = 0u; e < 4u; e++) {
        let col = (col4 + j) * 4u + e;
        if (col < p.n) { C[c_base + row * p.n + col] = epilogue(acc[i * TN4 + j][e], col); }
      }
    }
  }
}
