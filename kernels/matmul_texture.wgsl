// matmul_texture: C[z] = act(A[z] · B[z] + bias), for software adapters (llvmpipe), reading operands from textures.
// A is an rgba32float texture array [layers][M rows][K4 texels]: texel (k4, row) holds A[row, 4k4 .. 4k4+3].
// B is [layers][K4*4 rows][N4 texels]: texel (n4, k) holds B[k, 4n4 .. 4n4+3]. With TRANS_B, B is given transposed
// as [layers][N rows][K4 texels], texel (k4, n) holding B[4k4 .. 4k4+3, n], which is how A·Bᵀ stores it, so it needs
// no transposing copy; the 4x4 blocks are regrouped in registers. Padding texels are zero (pack_texture.wgsl writes
// them; a stacked or flat B's rows past K are zeroed here), so the inner loop has no tail branches. C is [M, N] row-major
// per batch, N <= N4*4.
// Batch z (grid z) reads layer z * a_layer (0 broadcasts a single-layer operand) and writes at c_base + z * c_batch.
// Why textures: on llvmpipe a textureLoad fetches a whole texel per lane through the sampler path, while a storage
// buffer load is bounds-checked and issued per lane; at the same register tile this ran about 2x faster.
// Work per invocation: a TMx8 block of C in TM*2 vec4 accumulators. TM is 8, or less when it divides M with less
// waste (attention's M = 49 runs 7 rows per invocation, none wasted, where 8 would compute 56). Measured at 1024^3
// on Dawn OpenGL -> Mesa 22.3 llvmpipe (2 cores), with 8x1 workgroups: 8x8 19-21 GFLOP/s; 4x8 15, 16x4 14,
// 4x16 11.6, 8x16 6.6, 16x16 7.3 (larger tiles spill); workgroups of 4 or 16 lost 35-45%.
// FLAT numbers the invocations' blocks flat over (batch, row block, column block) instead of by grid position, so
// small matrices leave no lanes idle: attention's 49x49 scores on an 8x8 grid of 7x8 blocks idled 15 lanes in 64.
// A_STACK and B_STACK read an operand whose rows were copied in as stored, with no packing: the rows of all its
// batches lie a_pack (b_pack) to a texture row in one layer, so a texture row is a multiple of 256 bytes, as
// copyBufferToTexture requires. Row g of the stack starts at texel ((g % pack) * row texels, g / pack) (stack_at).
// B's rows run along K unless TRANS_B, so there rows past K (K % 4 != 0) would read the next batch, and are zeroed.
// Epilogue: + bias[col] with HAS_BIAS, then ACT 0 none, 1 relu, 2 gelu (erf form), a vec4 at a time.
struct Params {
  m: u32, n: u32, k4: u32, n4: u32, a_layer: u32, b_layer: u32, c_batch: u32, c_base: u32,
  col_blocks: u32, row_blocks: u32, batches: u32, grid_x: u32,  // FLAT only
  a_pack: u32, b_pack: u32, k: u32,  // A_STACK, B_STACK only (packs are powers of two); B_FLAT: b_pack is its width
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var A: texture_2d_array<f32>;
@group(0) @binding(2) var B: texture_2d_array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> C: array<f32>;

override HAS_BIAS: bool = false;
override ACT: u32 = 0;
override WG_X: u32 = 8;
override WG_Y: u32 = 1;
override TRANS_B: bool = false;
override FLAT: bool = false;
override A_STACK: bool = false;
override B_STACK: bool = false;
// B_FLAT: B (read along K, N % 4 != 0) is its buffer copied in as it lies, texel t holding floats 4t .. 4t+3, b_pack
// texels to a texture row, all batches in one layer. A row of B then starts mid-texel: at float k*N + 4*col4 of its
// batch, which starts on a texel (the host checks K*N % 4 == 0, or one batch). The offset into the texel is
// (k * N) % 4, which over 4 steps of k is (r * B_NMOD4) % 4 for r = k % 4: a constant once the r loop is unrolled,
// so the shift is a register swizzle, paid for with a third texel load. Columns past N read the next row; they
// are never stored.
override B_FLAT: bool = false;
override B_NMOD4: u32 = 0u;
// TRANS_A: A is given transposed as [layers][K4*4 rows][M4 texels], texel (m4, k) holding A[4m4 .. 4m4+3, k], which
// is how Aᵀ·B stores it (a weight gradient Xᵀ·dY); TM is then 8, two texels of rows.
override TRANS_A: bool = false;

override TM: u32 = 8u;  // rows of C per invocation, at most MAX_TM
const MAX_TM = 8u;
const TN4 = 2u;  // vec4 columns of C per invocation (8 scalars)

// Same approximation as unary.wgsl (A&S 7.1.26, 1.5e-7 absolute error), four lanes at a time.
fn erf4(v: vec4<f32>) -> vec4<f32> {
  let a = abs(v);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  let r = 1.0 - poly * exp(-a * a);
  return select(r, -r, v < vec4<f32>(0.0));
}

fn activate(v: vec4<f32>) -> vec4<f32> {
  if (ACT == 1u) { return max(v, vec4<f32>(0.0)); }
  if (ACT == 2u) { return 0.5 * v * (1.0 + erf4(v * 0.70710678118654752)); }
  return v;
}

// Texel t of a B_FLAT operand, b_pack (a power of two, 1 << shift) texels to a row.
fn flat_texel(t: u32, shift: u32) -> vec2<u32> {
  return vec2<u32>(t & (p.b_pack - 1u), t >> shift);
}

// Floats s .. s+7 of texels x0, x1, x2 (s < 4).
fn shifted(x0: vec4<f32>, x1: vec4<f32>, x2: vec4<f32>, s: u32) -> array<vec4<f32>, 2> {
  if (s == 1u) { return array(vec4<f32>(x0.yzw, x1.x), vec4<f32>(x1.yzw, x2.x)); }
  if (s == 2u) { return array(vec4<f32>(x0.zw, x1.xy), vec4<f32>(x1.zw, x2.xy)); }
  if (s == 3u) { return array(vec4<f32>(x0.w, x1.xyz), vec4<f32>(x1.w, x2.xyz)); }
  return array(x0, x1);
}

// The first texel of row `row` of batch z in a stack: rows of `texels` texels, `pack` (1 << shift) to a texture row.
fn stack_at(row: u32, z: u32, rows: u32, pack: u32, shift: u32, texels: u32) -> vec2<u32> {
  let g = z * rows + row;
  return vec2<u32>((g & (pack - 1u)) * texels, g >> shift);
}

// The first texel of an operand's row `row` (of K4 texels) in batch z: (0, row) of layer z, or its place in a stack.
fn stacked(row: u32, z: u32, rows: u32, pack: u32, stack: bool) -> vec2<u32> {
  if (!stack) { return vec2<u32>(0u, row); }
  return stack_at(row, z, rows, pack, countTrailingZeros(pack), p.k4);
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>,
        @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  var block = gid;  // (column block, row block, batch)
  if (FLAT) {
    let i = (wid.y * p.grid_x + wid.x) * (WG_X * WG_Y) + lid;
    let per_batch = p.col_blocks * p.row_blocks;
    if (i >= per_batch * p.batches) { return; }
    let rem = i % per_batch;
    block = vec3<u32>(rem % p.col_blocks, rem / p.col_blocks, i / per_batch);
  }
  let col4 = block.x * TN4;
  let row0 = block.y * TM;
  if (col4 >= p.n4 || row0 >= p.m) { return; }
  let a_z = block.z * p.a_layer;
  let b_z = block.z * p.b_layer;

  // Rows past M and columns past N4 clamp their loads (the results are discarded at the store).
  // Row i of A starts at texel a_at[i] of layer a_l (B's row c of Bᵀ likewise at bt_at[c] of layer b_l).
  var a_at: array<vec2<u32>, MAX_TM>;
  for (var i = 0u; i < TM; i++) { a_at[i] = stacked(min(row0 + i, p.m - 1u), a_z, p.m, p.a_pack, A_STACK); }
  let a_l = select(a_z, 0u, A_STACK);
  let b_l = select(b_z, 0u, B_STACK);
  let b_shift = countTrailingZeros(p.b_pack);  // a stacked B's row g (a flat B's texel g) is in texture row g >> b_shift
  var b_col: array<u32, TN4>;
  for (var j = 0u; j < TN4; j++) { b_col[j] = min(col4 + j, p.n4 - 1u); }
  var at_col: array<u32, 2>;  // TRANS_A: the texel columns holding this invocation's rows
  for (var g = 0u; g < 2u; g++) { at_col[g] = min(row0 / 4u + g, (p.m + 3u) / 4u - 1u); }
  let b_flat0 = b_z * p.k * p.n + col4 * 4u;  // B_FLAT: float (0, col4*4) of this batch's B
  var bt_at: array<vec2<u32>, 8>;  // TRANS_B: the rows of Bᵀ (columns of C) this invocation reads
  for (var c = 0u; c < 4u * TN4; c++) { bt_at[c] = stacked(min(col4 * 4u + c, p.n - 1u), b_z, p.n, p.b_pack, B_STACK); }

  var acc: array<vec4<f32>, 16>;  // [MAX_TM][TN4]
  for (var kk = 0u; kk < p.k4; kk++) {
    var b: array<vec4<f32>, 8>;  // rows 4kk..4kk+3 of B, TN4 texels each
    if (TRANS_B) {
      var t: array<vec4<f32>, 8>;  // t[c] = B[4kk .. 4kk+3, column c]
      for (var c = 0u; c < 4u * TN4; c++) { t[c] = textureLoad(B, vec2<u32>(bt_at[c].x + kk, bt_at[c].y), b_l, 0); }
      for (var r = 0u; r < 4u; r++) {
        for (var j = 0u; j < TN4; j++) { b[r * TN4 + j] = vec4<f32>(t[4u * j][r], t[4u * j + 1u][r], t[4u * j + 2u][r], t[4u * j + 3u][r]); }
      }
    } else if (B_FLAT) {
      for (var r = 0u; r < 4u; r++) {
        let k = kk * 4u + r;
        let t0 = (b_flat0 + k * p.n) >> 2u;
        let s = (r * B_NMOD4) & 3u;
        let x0 = textureLoad(B, flat_texel(t0, b_shift), 0, 0);
        let x1 = textureLoad(B, flat_texel(t0 + 1u, b_shift), 0, 0);
        var x2 = x1;
        if (s != 0u) { x2 = textureLoad(B, flat_texel(t0 + 2u, b_shift), 0, 0); }
        let v = shifted(x0, x1, x2, s);
        for (var j = 0u; j < TN4; j++) { b[r * TN4 + j] = select(v[j], vec4<f32>(0.0), k >= p.k); }
      }
    } else {
      for (var r = 0u; r < 4u; r++) {
        let k = kk * 4u + r;
        var at = vec2<u32>(0u, k);
        if (B_STACK) { at = stack_at(k, b_z, p.k, p.b_pack, b_shift, p.n4); }
        for (var j = 0u; j < TN4; j++) {
          let v = textureLoad(B, vec2<u32>(at.x + b_col[j], at.y), b_l, 0);
          b[r * TN4 + j] = select(v, vec4<f32>(0.0), B_STACK && k >= p.k);
        }
      }
    }
    var ta: array<vec4<f32>, 8>;  // TRANS_A: ta[4g + r] = A[row0+4g .. row0+4g+3, 4kk + r]
    if (TRANS_A) {
      for (var g = 0u; g < 2u; g++) {
        for (var r = 0u; r < 4u; r++) { ta[4u * g + r] = textureLoad(A, vec2<u32>(at_col[g], kk * 4u + r), a_l, 0); }
      }
    }
    for (var i = 0u; i < TM; i++) {
      var a: vec4<f32>;
      if (TRANS_A) {
        let g = 4u * (i / 4u);
        let c = i % 4u;
        a = vec4<f32>(ta[g][c], ta[g + 1u][c], ta[g + 2u][c], ta[g + 3u][c]);
      } else {
        a = textureLoad(A, vec2<u32>(a_at[i].x + kk, a_at[i].y), a_l, 0);
      }
      for (var j = 0u; j < TN4; j++) {
        var c = acc[i * TN4 + j];
        c = fma(vec4<f32>(a.x), b[j], c);
        c = fma(vec4<f32>(a.y), b[TN4 + j], c);
        c = fma(vec4<f32>(a.z), b[2u * TN4 + j], c);
        c = fma(vec4<f32>(a.w), b[3u * TN4 + j], c);
        acc[i * TN4 + j] = c;
      }
    }
  }

  // The bias of this invocation's columns, loaded once (clamped: columns past N are never stored). Reading it per
  // element in the store loop made the kernel 1.6x slower on llvmpipe.
  var bias4: array<vec4<f32>, TN4>;
  for (var j = 0u; j < TN4; j++) {
    bias4[j] = vec4<f32>(0.0);
    if (HAS_BIAS) {
      let c0 = (col4 + j) * 4u;
      let last = p.n - 1u;
      bias4[j] = vec4<f32>(bias[min(c0, last)], bias[min(c0 + 1u, last)], bias[min(c0 + 2u, last)], bias[min(c0 + 3u, last)]);
    }
  }
  let c_base = p.c_base + block.z * p.c_batch;
  for (var i = 0u; i < TM; i++) {
    let row = row0 + i;
    if (row >= p.m) { break; }
    for (var j = 0u; j < TN4; j++) {
      let v = activate(acc[i * TN4 + j] + bias4[j]);
      for (var e = 0u; e < 4u; e++) {
        let col = (col4 + j) * 4u + e;
        if (col < p.n) { C[c_base + row * p.n + col] = v[e]; }
      }
    }
  }
}
