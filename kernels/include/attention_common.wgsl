// What the three attention kernels (attention.wgsl, attention_backward_q.wgsl, attention_backward_kv.wgsl) share:
// the dropout multiplier and the visibility of a (query, key) pair. The including kernel declares, by these names,
// the uniform block `p` (heads, tq, tk, seed, rate, mask_b, mask_q), the storage buffer `mask`, and the override
// constants DROPOUT, CAUSAL and HAS_MASK.
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
