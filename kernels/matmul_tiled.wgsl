// matmul_tiled: C[z] = act(op(A[z]) · op(B[z]) + bias), for hardware GPUs.
// Shapes and batching as in matmul_regblock.wgsl (op(A) [M,K], op(B) [K,N], C [M,N], row-major, TRANS_A/TRANS_B
// read the stored transpose in place).
// Tiling: a 16x16 workgroup computes a 64x64 block of C; each invocation owns a 4x4 register block. Each step stages
// a 64x16 tile of op(A) and a 16x64 tile of op(B) in workgroup memory, loading along each operand's contiguous axis
// so neighbouring invocations read neighbouring addresses. Out-of-range elements stage as 0, so any M, N, K works.
// Epilogue: + bias[col] with HAS_BIAS, then ACT 0 none, 1 relu, 2 gelu (erf form).

//#include "nan.wgsl"
struct Params { m: u32, n: u32, k: u32, a_batch: u32, b_batch: u32, c_batch: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> C: array<f32>;

override TRANS_A: bool = false;
override TRANS_B: bool = false;
override HAS_BIAS: bool = false;
override ACT: u32 = 0;

const TILE = 64u;
const TK = 16u;

var<workgroup> As: array<array<f32, TILE>, TK>;  // [k][m]
var<workgroup> Bs: array<array<f32, TILE>, TK>;  // [k][n]

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

fn load_a(base: u32, row: u32, k: u32) -> f32 {
  if (row >= p.m || k >= p.k) { return 0.0; }
  return A[base + select(row * p.k + k, k * p.m + row, TRANS_A)];
}

fn load_b(base: u32, k: u32, col: u32) -> f32 {
  if (k >= p.k || col >= p.n) { return 0.0; }
  return B[base + select(k * p.n + col, col * p.k + k, TRANS_B)];
}

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let lin = lid.y * 16u + lid.x;
  let row_base = wid.y * TILE;
  let col_base = wid.x * TILE;
  let a_base = wid.z * p.a_batch;
  let b_base = wid.z * p.b_batch;
  let c_base = wid.z * p.c_batch;

  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < p.k; k0 += TK) {
    for (var l = 0u; l < 4u; l++) {
      let e = lin + l * 256u;
      // Walk the contiguous axis fastest: k for a plain A, m for a transposed one.
      let am = select(e / TK, e % TILE, TRANS_A);
      let ak = select(e % TK, e / TILE, TRANS_A);
      As[ak][am] = load_a(a_base, row_base + am, k0 + ak);
      let bn = select(e % TILE, e / TK, TRANS_B);
      let bk = select(e / TILE, e % TK, TRANS_B);
      Bs[bk][bn] = load_b(b_base, k0 + bk, col_base + bn);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      let b = vec4<f32>(Bs[kk][lid.x * 4u], Bs[kk][lid.x * 4u + 1u], Bs[kk][lid.x * 4u + 2u], Bs[kk][lid.x * 4u + 3u]);
      for (var r = 0u; r < 4u; r++) {
        acc[r] = fma(vec4<f32>(As[kk][lid.y * 4u + r]), b, acc[r]);
      }
    }
    workgroupBarrier();
  }

  for (var r = 0u; r < 4u; r++) {
    let row = row_base + lid.y * 4u + r;
    if (row >= p.m) { break; }
    for (var j = 0u; j < 4u; j++) {
      let col = col_base + lid.x * 4u + j;
      if (col < p.n) { C[c_base + row * p.n + col] = epilogue(acc[r][j], col); }
    }
  }
}
