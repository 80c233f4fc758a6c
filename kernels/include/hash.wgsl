// lowbias32 (Chris Wellons's integer hash) and the dropout draw built on it: u(seed, i) = hash(hash(seed) ^ i) / 2^24,
// uniform in [0, 1). src/tensor/random.ts computes the same two functions on the host (lowbias32, dropoutUniform),
// so the CPU reference draws the identical dropout mask for the same seed.

fn lowbias32(v: u32) -> u32 {
  var h = v;
  h ^= h >> 16u;
  h *= 0x7feb352du;
  h ^= h >> 15u;
  h *= 0x846ca68bu;
  h ^= h >> 16u;
  return h;
}

fn dropout_uniform(seed: u32, i: u32) -> f32 {
  return f32(lowbias32(lowbias32(seed) ^ i) >> 8u) * (1.0 / 16777216.0);
}
