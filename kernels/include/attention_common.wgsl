// What the three attention kernels (attention.wgsl, attention_backward_q.wgsl, attention_backward_kv.wgsl) share:
// the dropout multiplier and the visibility of a (query, key) pair. The including kernel declares, by these names,
// the uniform block `p` (heads, tq, tk, seed, rate, mask_b, mask_q, and the q_, k_, v_, o_ strides), the storage
// buffer `mask`, and the override constants DROPOUT, CAUSAL and HAS_MASK.
//#include "hash.wgsl"

fn from_bits(bits: u32) -> f32 {
  var b = bits;
  return bitcast<f32>(b);
}

// Inverted-dropout multiplier of weight (b, h, i, j): 0 or 1/(1 - rate).
fn keep(b: u32, h: u32, i: u32, j: u32) -> f32 {
  if (!DROPOUT) { return 1.0; }
  let idx = ((b * p.heads + h) * p.tq + i) * p.tk + j;
  return select(0.0, 1.0 / (1.0 - p.rate), dropout_uniform(p.seed, idx) >= p.rate);
}

fn visible(b: u32, i: u32, j: u32) -> bool {
  if (CAUSAL && j > i) { return false; }
  if (HAS_MASK && mask[b * p.mask_b + i * p.mask_q + j] == 0.0) { return false; }
  return true;
}

// The vec4 entry points (main_vec4) take keys (or queries) 4 at a time. These give a row's first vec4 in K and V
// (of Q and O/dO for a query), clamped to the last row, so that a block's tail past Tk (Tq) reads a real row; its
// contributions are masked off by the caller.
fn key_row(b: u32, h: u32, j: u32) -> vec2<u32> {
  let jc = min(j, p.tk - 1u);
  return vec2<u32>((b * p.k_b + jc * p.k_t + h * p.k_h) / 4u, (b * p.v_b + jc * p.v_t + h * p.v_h) / 4u);
}

fn query_row(b: u32, h: u32, i: u32) -> vec2<u32> {
  let ic = min(i, p.tq - 1u);
  return vec2<u32>((b * p.q_b + ic * p.q_t + h * p.q_h) / 4u, (b * p.o_b + ic * p.o_t + h * p.o_h) / 4u);
}

// Which of keys j0 .. j0+3 query i sees (false past Tk).
fn visible4(b: u32, i: u32, j0: u32) -> vec4<bool> {
  return vec4<bool>(j0 < p.tk && visible(b, i, j0), j0 + 1u < p.tk && visible(b, i, j0 + 1u),
                    j0 + 2u < p.tk && visible(b, i, j0 + 2u), j0 + 3u < p.tk && visible(b, i, j0 + 3u));
}

fn keep4(b: u32, h: u32, i: u32, j0: u32) -> vec4<f32> {
  return vec4<f32>(keep(b, h, i, j0), keep(b, h, i, j0 + 1u), keep(b, h, i, j0 + 2u), keep(b, h, i, j0 + 3u));
}

fn sum4(v: vec4<f32>) -> f32 {
  return dot(v, vec4<f32>(1.0));
}
