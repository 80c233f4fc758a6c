// matmul_regblock: C[z] = act(op(A[z]) · op(B[z]) + bias), for software adapters (llvmpipe).
// Shapes: op(A) is [M,K] (A stored [M,K], or [K,M] with TRANS_A), op(B) is [K,N] (B stored [K,N], or [N,K] with
// TRANS_B); C is [M,N]; all row-major. Batch z (grid z) starts at z * {a,b,c}_batch elements (0 = broadcast).
// Work per invocation: a 16x16 block of C held in 64 vec4 accumulators, no workgroup memory and no barriers.
// Why: llvmpipe runs each invocation as one SIMD lane and issues every load per lane, so the kernel that wins there
// maximises FMAs per load (32 loads feed 256 FMAs per k step) and skips workgroup staging, which only adds barriers.
// Measured on Dawn OpenGL -> Mesa 22.3 llvmpipe (2 cores): see src/device/tuning.ts for the numbers.
// Tails: loads clamp to the last row/column (their results are never stored), stores are guarded.
// Epilogue: + bias[col] with HAS_BIAS, then ACT 0 none, 1 relu, 2 gelu (erf form).
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
override WG_X: u32 = 8;
override WG_Y: u32 = 1;

const TM = 16u;
const TN = 16u;

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
  if (ACT == 1u) { r = max(r, 0.0); }
  if (ACT == 2u) { r = 0.5 * r * (1.0 + erf_approx(r * 0.70710678118654752)); }
  return r;
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let col0 = gid.x * TN;
  let row0 = gid.y * TM;
  if (col0 >= p.n || row0 >= p.m) { return; }
  let z = gid.z;
  let a_base = z * p.a_batch;
  let b_base = z * p.b_batch;
  let c_base = z * p.c_batch;

  var a_off: array<u32, TM>;
  for (var i = 0u; i < TM; i++) {
    let r = min(row0 + i, p.m - 1u);
    a_off[i] = a_base + select(r * p.k, r, TRANS_A);
  }
  var b_off: array<u32, TN>;
  for (var j = 0u; j < TN; j++) {
    let c = min(col0 + j, p.n - 1u);
    b_off[j] = b_base + select(c, c * p.k, TRANS_B);
  }
  let a_step = select(1u, p.m, TRANS_A);
  let b_step = select(p.n, 1u, TRANS_B);

  var acc: array<vec4<f32>, 64>;
  for (var k = 0u; k < p.k; k++) {
    let ak = k * a_step;
    let bk = k * b_step;
    let b0 = vec4<f32>(B[b_off[0] + bk], B[b_off[1] + bk], B[b_off[2] + bk], B[b_off[3] + bk]);
    let b1 = vec4<f32>(B[b_off[4] + bk], B[b_off[5] + bk], B[b_off[6] + bk], B[b_off[7] + bk]);
    let b2 = vec4<f32>(B[b_off[8] + bk], B[b_off[9] + bk], B[b_off[10] + bk], B[b_off[11] + bk]);
    let b3 = vec4<f32>(B[b_off[12] + bk], B[b_off[13] + bk], B[b_off[14] + bk], B[b_off[15] + bk]);
    for (var i = 0u; i < TM; i++) {
      let a = A[a_off[i] + ak];
      acc[i * 4u] = fma(vec4<f32>(a), b0, acc[i * 4u]);
      acc[i * 4u + 1u] = fma(vec4<f32>(a), b1, acc[i * 4u + 1u]);
      acc[i * 4u + 2u] = fma(vec4<f32>(a), b2, acc[i * 4u + 2u]);
      acc[i * 4u + 3u] = fma(vec4<f32>(a), b3, acc[i * 4u + 3u]);
    }
  }

  for (var i = 0u; i < TM; i++) {
    let row = row0 + i;
    if (row >= p.m) { break; }
    for (var j = 0u; j < TN; j++) {
      let col = col0 + j;
      if (col >= p.n) { break; }
      C[c_base + row * p.n + col] = epilogue(acc[i * 4u + j / 4u][j % 4u], col);
    }
  }
}
