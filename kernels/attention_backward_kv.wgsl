// attention_backward_kv: second half of the fused attention's gradient, one (b, h, j) key row per invocation.
// With stats[b,h,i] = (L_i, D_i) from attention_backward_q, for every query row i that sees key j:
//   P_ij = exp(scale q_i.k_j - L_i),  dV_j += keep_ij P_ij dO_i,
//   dS_ij = P_ij (keep_ij (dO_i . v_j) - D_i),  dK_j += scale dS_ij q_i.
// Layouts, masks and dropout as in attention.wgsl; dK and dV have K's and V's layouts.
struct Params {
  tq: u32, tk: u32, heads: u32, d: u32, dv: u32,
  q_b: u32, q_t: u32, q_h: u32,
  k_b: u32, k_t: u32, k_h: u32,
  v_b: u32, v_t: u32, v_h: u32,
  o_b: u32, o_t: u32, o_h: u32,
  mask_b: u32, mask_q: u32,
  scale: f32, rate: f32, seed: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> Q: array<f32>;
@group(0) @binding(2) var<storage, read> K: array<f32>;
@group(0) @binding(3) var<storage, read> V: array<f32>;
@group(0) @binding(4) var<storage, read> mask: array<f32>;
@group(0) @binding(5) var<storage, read> dO: array<f32>;
@group(0) @binding(6) var<storage, read> stats: array<f32>;
@group(0) @binding(7) var<storage, read_write> dK: array<f32>;
@group(0) @binding(8) var<storage, read_write> dV: array<f32>;

override HAS_MASK: bool = false;
override CAUSAL: bool = false;
override DROPOUT: bool = false;
override WG: u32 = 64;

const MAX_D = 256u;

//#include "attention_common.wgsl"

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  let h = gid.y;
  let b = gid.z;
  if (j >= p.tk) { return; }
  let k0 = b * p.k_b + j * p.k_t + h * p.k_h;
  let v0 = b * p.v_b + j * p.v_t + h * p.v_h;
  var k: array<f32, MAX_D>;
  for (var c = 0u; c < p.d; c++) { k[c] = K[k0 + c]; }
  var v: array<f32, MAX_D>;
  for (var c = 0u; c < p.dv; c++) { v[c] = V[v0 + c]; }
  var dk: array<f32, MAX_D>;
  var dv: array<f32, MAX_D>;
  for (var i = 0u; i < p.tq; i++) {
    if (!visible(b, i, j)) { continue; }
    let row = (b * p.heads + h) * p.tq + i;
    let lse = stats[row * 2u];
    if (lse == from_bits(0x7f800000u)) { continue; }
    let q0 = b * p.q_b + i * p.q_t + h * p.q_h;
    let o0 = b * p.o_b + i * p.o_t + h * p.o_h;
    var s = 0.0;
    for (var c = 0u; c < p.d; c++) { s = fma(Q[q0 + c], k[c], s); }
    let prob = exp(s * p.scale - lse);
    let kept = keep(b, h, i, j);
    var dp = 0.0;
    for (var c = 0u; c < p.dv; c++) {
      let g = dO[o0 + c];
      dp = fma(g, v[c], dp);
      dv[c] = fma(prob * kept, g, dv[c]);
    }
    let ds = prob * (dp * kept - stats[row * 2u + 1u]) * p.scale;
    for (var c = 0u; c < p.d; c++) { dk[c] = fma(ds, Q[q0 + c], dk[c]); }
  }
  for (var c = 0u; c < p.d; c++) { dK[k0 + c] = dk[c]; }
  for (var c = 0u; c < p.dv; c++) { dV[v0 + c] = dv[c]; }
}
