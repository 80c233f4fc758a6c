// attention (fused forward): out[b,i,h,:] = sum_j softmax_j(scale * q_i . k_j) * v_j for one (b, h, i) per invocation.
// Q [*, Tq, *, D], K [*, Tk, *, D], V [*, Tk, *, Dv] and O are read and written through (batch, time, head) strides,
// so the same kernel serves [B,T,H,D] (heads split in place, no transpose) and [B,H,T,D]; the last axis is contiguous.
// Softmax is online (running max m and sum l, rescaling the accumulator), so the Tq x Tk weights never reach memory.
// Masking: with HAS_MASK, key j is skipped where mask[b, i or 0, j] == 0 (a key-padding or full attention mask);
// CAUSAL skips j > i. A row with every key masked outputs zeros. DROPOUT drops weights after normalisation with the
// hash of kernels/dropout.wgsl on index ((b*H + h)*Tq + i)*Tk + j, so the backward pass redraws the same mask.
// Work per invocation: Tk * (D + Dv) FMAs; q and the accumulator live in private arrays (D, Dv <= 256).
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
@group(0) @binding(5) var<storage, read_write> O: array<f32>;

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
  var q: array<f32, MAX_D>;
  for (var c = 0u; c < p.d; c++) { q[c] = Q[q0 + c] * p.scale; }
  var acc: array<f32, MAX_D>;
  var m = from_bits(0xff800000u);
  var l = 0.0;
  for (var j = 0u; j < p.tk; j++) {
    if (!visible(b, i, j)) { continue; }
    let k0 = b * p.k_b + j * p.k_t + h * p.k_h;
    var s = 0.0;
    for (var c = 0u; c < p.d; c++) { s = fma(q[c], K[k0 + c], s); }
    let m_new = max(m, s);
    let correction = exp(m - m_new);
    let w = exp(s - m_new);
    l = l * correction + w;
    let wd = w * keep(b, h, i, j);
    let v0 = b * p.v_b + j * p.v_t + h * p.v_h;
    for (var c = 0u; c < p.dv; c++) { acc[c] = fma(wd, V[v0 + c], acc[c] * correction); }
    m = m_new;
  }
  let inv = select(0.0, 1.0 / l, l > 0.0);
  let o0 = b * p.o_b + i * p.o_t + h * p.o_h;
  for (var c = 0u; c < p.dv; c++) { O[o0 + c] = acc[c] * inv; }
}

// main_vec4: the same for D % 4 == 0 and Dv % 4 == 0 (every row then starts on a vec4), with the head dims as
// override constants D4 and DV4 so that the loops over them have constant trip counts: Q, K, V and O are read and
// written a vec4 at a time (llvmpipe issues each storage access lane by lane, so a vec4 costs about what a float does).
//#include "attention_vec4.wgsl"
@group(0) @binding(5) var<storage, read_write> O4: array<vec4<f32>>;

// Keys go 4 at a time, so that each element of q and of the accumulator, which live in private arrays that llvmpipe
// indexes a lane at a time, is read once per 4 keys instead of once per key. A key whose weight is 0 (masked,
// dropped or past Tk) adds nothing, not even a NaN of its V, as in the float64 reference.
@compute @workgroup_size(WG, 1, 1)
fn main_vec4(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  let h = gid.y;
  let b = gid.z;
  if (i >= p.tq) { return; }
  let at = query_row(b, h, i);  // (first vec4 of Q's row, of O's)
  for (var c = 0u; c < D4; c++) { q4[c] = Q4[at.x + c] * p.scale; }
  var acc: array<vec4<f32>, 64>;
  let neg_inf = from_bits(0xff800000u);
  var m = neg_inf;
  var l = 0.0;
  for (var j0 = 0u; j0 < p.tk; j0 += 4u) {
    let vis = visible4(b, i, j0);
    if (!any(vis)) { continue; }
    let r0 = key_row(b, h, j0);
    let r1 = key_row(b, h, j0 + 1u);
    let r2 = key_row(b, h, j0 + 2u);
    let r3 = key_row(b, h, j0 + 3u);
    let s = scores4(r0, r1, r2, r3);
    let sv = select(vec4<f32>(neg_inf), s, vis);
    let m_new = max(m, max(max(sv.x, sv.y), max(sv.z, sv.w)));
    let correction = exp(m - m_new);
    let w = select(vec4<f32>(0.0), exp(s - m_new), vis);
    l = l * correction + sum4(w);
    let wd = w * keep4(b, h, i, j0);
    let on = wd != vec4<f32>(0.0);
    let zero = vec4<f32>(0.0);
    for (var c = 0u; c < DV4; c++) {
      var a = acc[c] * correction;
      a = fma(vec4<f32>(wd.x), select(zero, V4[r0.y + c], on.x), a);
      a = fma(vec4<f32>(wd.y), select(zero, V4[r1.y + c], on.y), a);
      a = fma(vec4<f32>(wd.z), select(zero, V4[r2.y + c], on.z), a);
      a = fma(vec4<f32>(wd.w), select(zero, V4[r3.y + c], on.w), a);
      acc[c] = a;
    }
    m = m_new;
  }
  let inv = select(0.0, 1.0 / l, l > 0.0);
  for (var c = 0u; c < DV4; c++) { O4[at.y + c] = acc[c] * inv; }
}
