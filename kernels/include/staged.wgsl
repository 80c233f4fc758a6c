// staged: where a kernel finds word w (vec4 w) of an input the host copied into an rgba32float texture
// (src/ops/staged.ts) instead of binding the buffer. The texture is 2^shift texels wide, and word w lies at texel
// (w mod 2^shift, w / 2^shift) of layer 0: a mask and a shift, since llvmpipe divides a lane at a time.
// Why a texture: on llvmpipe (Mesa 22.3) a storage-buffer load whose address differs between lanes is a loop over
// the lanes, each with a branch and a bounds test, while a read-only storage texture's texel is fetched for all
// lanes at once. The copy in (copyBufferToTexture) runs at memcpy speed: a 16M-float sum took 65 ms from the
// buffer, 10.5 ms to copy in and 7.9 ms from the texture (2 x AMD EPYC family 25, 2026-12-03; bench/staged-reads.ts
// times it through the ops).
fn staged_at(w: u32, shift: u32) -> vec2<u32> {
  return vec2<u32>(w & ((1u << shift) - 1u), w >> shift);
}
