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

// main_vec4: the same for head dims that are whole vec4s (D4 = D / 4, DV4 = Dv / 4 as override constants), with
// Q, K, V, dO, dK and dV read and written as vec4s and queries taken 4 at a time, so that each element of the
// private k, v, dk and dv arrays is read once per 4 queries. Queries that do not see the key, or are fully masked,
// or are past Tq add nothing.
//#include "attention_vec4.wgsl"
@group(0) @binding(5) var<storage, read> dO4: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> dK4: array<vec4<f32>>;
@group(0) @binding(8) var<storage, read_write> dV4: array<vec4<f32>>;

@compute @workgroup_size(WG, 1, 1)
fn main_vec4(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  let h = gid.y;
  let b = gid.z;
  if (j >= p.tk) { return; }
  let kv = key_row(b, h, j);
  var k: array<vec4<f32>, 64>;
  for (var c = 0u; c < D4; c++) { k[c] = K4[kv.x + c]; }
  var v: array<vec4<f32>, 64>;
  for (var c = 0u; c < DV4; c++) { v[c] = V4[kv.y + c]; }
  var dk: array<vec4<f32>, 64>;
  var dv: array<vec4<f32>, 64>;
  let inf = from_bits(0x7f800000u);
  let zero = vec4<f32>(0.0);
  for (var i0 = 0u; i0 < p.tq; i0 += 4u) {
    var lse = vec4<f32>(inf);
    var dd = zero;
    var on = vec4<bool>(false);
    for (var e = 0u; e < 4u; e++) {
      let i = min(i0 + e, p.tq - 1u);
      let row = (b * p.heads + h) * p.tq + i;
      lse[e] = stats[row * 2u];
      dd[e] = stats[row * 2u + 1u];
      on[e] = i0 + e < p.tq && visible(b, i, j) && lse[e] != inf;
    }
    if (!any(on)) { continue; }
    let a0 = query_row(b, h, i0);
    let a1 = query_row(b, h, i0 + 1u);
    let a2 = query_row(b, h, i0 + 2u);
    let a3 = query_row(b, h, i0 + 3u);
    var d0 = zero;
    var d1 = zero;
    var d2 = zero;
    var d3 = zero;
    for (var c = 0u; c < D4; c++) {
      let kc = k[c];
      d0 = fma(Q4[a0.x + c], kc, d0);
      d1 = fma(Q4[a1.x + c], kc, d1);
      d2 = fma(Q4[a2.x + c], kc, d2);
      d3 = fma(Q4[a3.x + c], kc, d3);
    }
    let s = vec4<f32>(sum4(d0), sum4(d1), sum4(d2), sum4(d3));
    let prob = select(zero, exp(s * p.scale - lse), on);
    let kept = vec4<f32>(keep(b, h, i0, j), keep(b, h, i0 + 1u, j), keep(b, h, i0 + 2u, j), keep(b, h, i0 + 3u, j));
    let pk = prob * kept;
    var e0 = zero;
    var e1 = zero;
    var e2 = zero;
    var e3 = zero;
    for (var c = 0u; c < DV4; c++) {
      let g0 = select(zero, dO4[a0.y + c], on.x);
      let g1 = select(zero, dO4[a1.y + c], on.y);
      let g2 = select(zero, dO4[a2.y + c], on.z);
      let g3 = select(zero, dO4[a3.y + c], on.w);
      let vc = v[c];
      e0 = fma(g0, vc, e0);
      e1 = fma(g1, vc, e1);
      e2 = fma(g2, vc, e2);
      e3 = fma(g3, vc, e3);
      var a = dv[c];
      a = fma(vec4<f32>(pk.x), g0, a);
      a = fma(vec4<f32>(pk.y), g1, a);
      a = fma(vec4<f32>(pk.z), g2, a);
      a = fma(vec4<f32>(pk.w), g3, a);
      dv[c] = a;
    }
    let dp = vec4<f32>(sum4(e0), sum4(e1), sum4(e2), sum4(e3));
    let ds = select(zero, prob * (dp * kept - dd) * p.scale, on);
    for (var c = 0u; c < D4; c++) {
      var a = dk[c];
      a = fma(vec4<f32>(ds.x), select(zero, Q4[a0.x + c], on.x), a);
      a = fma(vec4<f32>(ds.y), select(zero, Q4[a1.x + c], on.y), a);
      a = fma(vec4<f32>(ds.z), select(zero, Q4[a2.x + c], on.z), a);
      a = fma(vec4<f32>(ds.w), select(zero, Q4[a3.x + c], on.w), a);
      dk[c] = a;
    }
  }
  for (var c = 0u; c < D4; c++) { dK4[kv.x + c] = dk[c]; }
  for (var c = 0u; c < DV4; c++) { dV4[kv.y + c] = dv[c]; }
}
