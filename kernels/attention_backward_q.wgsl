// attention_backward_q: first half of the fused attention's gradient, one (b, h, i) query row per invocation.
// Recomputes the row's softmax statistics from Q and K (no T x T matrix was kept), then
//   L_i = m_i + log(l_i)                      (log of the softmax denominator)
//   D_i = dO_i . O_i                          (= sum_j P_ij dP_ij, with dropout folded into dP)
//   dQ_i = scale * sum_j P_ij (dP_ij - D_i) k_j,   P_ij = exp(scale q_i.k_j - L_i), dP_ij = keep_ij (dO_i . v_j)
// and writes stats[b,h,i] = (L_i, D_i) for attention_backward_kv. Layouts, masks and dropout as in attention.wgsl;
// dQ has Q's layout and dO has O's. A fully masked row has zero gradient (stats L = +inf).
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
@group(0) @binding(5) var<storage, read> O: array<f32>;
@group(0) @binding(6) var<storage, read> dO: array<f32>;
@group(0) @binding(7) var<storage, read_write> dQ: array<f32>;
@group(0) @binding(8) var<storage, read_write> stats: array<f32>;

override HAS_MASK: bool = false;
override CAUSAL: bool = false;
override DROPOUT: bool = false;
override WG: u32 = 64;

const MAX_D = 256u;

//#include "attention_common.wgsl"

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  let h = gid.y;
  let b = gid.z;
  if (i >= p.tq) { return; }
  let q0 = b * p.q_b + i * p.q_t + h * p.q_h;
  let o0 = b * p.o_b + i * p.o_t + h * p.o_h;
  var q: array<f32, MAX_D>;
  for (var c = 0u; c < p.d; c++) { q[c] = Q[q0 + c] * p.scale; }
  var g: array<f32, MAX_D>;
  var delta = 0.0;
  for (var c = 0u; c < p.dv; c++) {
    g[c] = dO[o0 + c];
    delta = fma(g[c], O[o0 + c], delta);
  }
  var m = from_bits(0xff800000u);
  var l = 0.0;
  for (var j = 0u; j < p.tk; j++) {
    if (!visible(b, i, j)) { continue; }
    let k0 = b * p.k_b + j * p.k_t + h * p.k_h;
    var s = 0.0;
    for (var c = 0u; c < p.d; c++) { s = fma(q[c], K[k0 + c], s); }
    let m_new = max(m, s);
    l = l * exp(m - m_new) + exp(s - m_new);
    m = m_new;
  }
  let row = (b * p.heads + h) * p.tq + i;
  var dq: array<f32, MAX_D>;
  if (l > 0.0) {
    let lse = m + log(l);
    for (var j = 0u; j < p.tk; j++) {
      if (!visible(b, i, j)) { continue; }
      let k0 = b * p.k_b + j * p.k_t + h * p.k_h;
      let v0 = b * p.v_b + j * p.v_t + h * p.v_h;
      var s = 0.0;
      for (var c = 0u; c < p.d; c++) { s = fma(q[c], K[k0 + c], s); }
      var dp = 0.0;
      for (var c = 0u; c < p.dv; c++) { dp = fma(g[c], V[v0 + c], dp); }
      let prob = exp(s - lse);
      let ds = prob * (dp * keep(b, h, i, j) - delta);
      for (var c = 0u; c < p.d; c++) { dq[c] = fma(ds, K[k0 + c], dq[c]); }
    }
    stats[row * 2u] = lse;
  } else {
    stats[row * 2u] = from_bits(0x7f800000u);
  }
  stats[row * 2u + 1u] = delta;
  for (var c = 0u; c < p.d; c++) { dQ[q0 + c] = dq[c] * p.scale; }
}

// main_vec4: the same for head dims that are whole vec4s (D4 = D / 4, DV4 = Dv / 4 as override constants), with
// Q, K, V, O, dO and dQ read and written as vec4s and keys taken 4 at a time, as in attention.wgsl's main_vec4.
// Both passes compute a score the same way, so the probabilities agree with the statistics. Keys that are masked
// or past Tk add nothing.
//#include "attention_vec4.wgsl"
@group(0) @binding(5) var<storage, read> O4: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read> dO4: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> dQ4: array<vec4<f32>>;

@compute @workgroup_size(WG, 1, 1)
fn main_vec4(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  let h = gid.y;
  let b = gid.z;
  if (i >= p.tq) { return; }
  let at = query_row(b, h, i);
  for (var c = 0u; c < D4; c++) { q4[c] = Q4[at.x + c] * p.scale; }
  var g: array<vec4<f32>, 64>;
  var delta4 = vec4<f32>(0.0);
  for (var c = 0u; c < DV4; c++) {
    g[c] = dO4[at.y + c];
    delta4 = fma(g[c], O4[at.y + c], delta4);
  }
  let delta = sum4(delta4);
  let neg_inf = from_bits(0xff800000u);
  var m = neg_inf;
  var l = 0.0;
  for (var j0 = 0u; j0 < p.tk; j0 += 4u) {
    let vis = visible4(b, i, j0);
    if (!any(vis)) { continue; }
    let s = scores4(key_row(b, h, j0), key_row(b, h, j0 + 1u), key_row(b, h, j0 + 2u), key_row(b, h, j0 + 3u));
    let sv = select(vec4<f32>(neg_inf), s, vis);
    let m_new = max(m, max(max(sv.x, sv.y), max(sv.z, sv.w)));
    l = l * exp(m - m_new) + sum4(select(vec4<f32>(0.0), exp(s - m_new), vis));
    m = m_new;
  }
  let row = (b * p.heads + h) * p.tq + i;
  var dq: array<vec4<f32>, 64>;
  if (l > 0.0) {
    let lse = m + log(l);
    let zero = vec4<f32>(0.0);
    for (var j0 = 0u; j0 < p.tk; j0 += 4u) {
      let vis = visible4(b, i, j0);
      if (!any(vis)) { continue; }
      let r0 = key_row(b, h, j0);
      let r1 = key_row(b, h, j0 + 1u);
      let r2 = key_row(b, h, j0 + 2u);
      let r3 = key_row(b, h, j0 + 3u);
      let s = scores4(r0, r1, r2, r3);
      var e0 = vec4<f32>(0.0);
      var e1 = vec4<f32>(0.0);
      var e2 = vec4<f32>(0.0);
      var e3 = vec4<f32>(0.0);
      for (var c = 0u; c < DV4; c++) {
        let gc = g[c];
        e0 = fma(gc, V4[r0.y + c], e0);
        e1 = fma(gc, V4[r1.y + c], e1);
        e2 = fma(gc, V4[r2.y + c], e2);
        e3 = fma(gc, V4[r3.y + c], e3);
      }
      let dp = vec4<f32>(sum4(e0), sum4(e1), sum4(e2), sum4(e3));
      let prob = select(zero, exp(s - lse), vis);
      let ds = select(zero, prob * (dp * keep4(b, h, i, j0) - delta), vis);
      for (var c = 0u; c < D4; c++) {
        var a = dq[c];
        a = fma(vec4<f32>(ds.x), select(zero, K4[r0.x + c], vis.x), a);
        a = fma(vec4<f32>(ds.y), select(zero, K4[r1.x + c], vis.y), a);
        a = fma(vec4<f32>(ds.z), select(zero, K4[r2.x + c], vis.z), a);
        a = fma(vec4<f32>(ds.w), select(zero, K4[r3.x + c], vis.w), a);
        dq[c] = a;
      }
    }
    stats[row * 2u] = lse;
  } else {
    stats[row * 2u] = from_bits(0x7f800000u);
  }
  stats[row * 2u + 1u] = delta;
  for (var c = 0u; c < D4; c++) { dQ4[at.x + c] = dq[c] * p.scale; }
}
