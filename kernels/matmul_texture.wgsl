// matmul_texture: C[z] = act(A[z] · B[z] + bias), for software adapters (llvmpipe), reading operands from textures.
// A is an rgba32float texture array [layers][M rows][K4 texels], read as a storage texture: texel (k4, row) holds
// A[row, 4k4 .. 4k4+3].
// B is [layers][K4*4 rows][N4 texels]: texel (n4, k) holds B[k, 4n4 .. 4n4+3]. With TRANS_B, B is given transposed
// as [layers][N rows][K4 texels], texel (k4, n) holding B[4k4 .. 4k4+3, n], which is how A·Bᵀ stores it, so it needs
// no transposing copy; the 4x4 blocks are regrouped in registers. Padding texels are zero (pack_texture.wgsl writes
// them; a stacked or flat B's rows past K are zeroed here), so the inner loop has no tail branches. C is [M, N] row-major
// per batch, N <= N4*4, bound as vec4s (pooled buffers are whole vec4s): stored a vec4 at a time when N % 4 == 0
// (C_VEC4), else a component at a time.
// Batch z (grid z) reads layer z * a_layer (0 broadcasts a single-layer operand) and writes at c_base + z * c_batch.
// Why textures: on llvmpipe (Mesa 22.3) a storage buffer load is bounds-checked and issued lane by lane, while a
// texel of a read-only storage texture is fetched for all lanes in one vectorised gather. A and B are bound as
// storage textures, not sampled ones: a sampled textureLoad goes through llvmpipe's sampler function, which
// recomputes the mip level's layout per lane (60% of perf's samples at 16x16); bench/texel-loads.ts measured 1.93 ns
// a vec4 load sampled against 0.55 from a storage texture (2.33 from a storage buffer). The 1568x1280x1280 product
// went from 24 to 36-38 GFLOP/s (2 x AMD EPYC, 2026-12-02).
// Work per invocation: RG x CJ sub-blocks (each 1 or 2) of TM rows by 8 columns, TM at most 8: a 16x16 block of C
// at most. A larger block loads fewer texels per product: at 1024^3 on llvmpipe, 8x8 63 ms, 16x8 59, 8x16 64,
// 16x16 55 (2026-12-02; with sampled textures 150, 125, 123 and 98). The math is then most of the cost: llvmpipe
// emits each fma as a multiply and an add, blends every accumulator with the loop's execution mask, and keeps the
// 256 accumulators of a 16x16 block on the stack.
// The sub-blocks are why it can be that large: one loop over a 16-row block was left rolled by the compiler, which
// then indexed the accumulators a lane at a time (16x8 as one loop: 256-570 ms). Each sub-block's loops are those of
// the 8x8 block, which unroll. The host (textureTile) sizes the block to the shape: attention's M = 49 runs 2 x 7
// rows (56, where 2 x 8 would compute 64). Earlier measurements, with 8x1 workgroups: workgroups of 4 or 16 lost 35-45%.
// FLAT numbers the invocations' blocks flat over (batch, row block, column block) instead of by grid position, so
// small matrices leave no lanes idle: attention's 49x49 scores on an 8x8 grid of 7x8 blocks idled 15 lanes in 64.
// A_STACK and B_STACK read an operand whose rows were copied in as stored, with no packing: the rows of all its
// batches lie a_pack (b_pack) to a texture row in one layer, so a texture row is a multiple of 256 bytes, as
// copyBufferToTexture requires. Row g of the stack starts at texel ((g % pack) * row texels, g / pack) (stack_at).
// B's rows run along K unless TRANS_B, so there rows past K (K % 4 != 0) would read the next batch, and are zeroed.
// Epilogue: + bias[col] with HAS_BIAS, then ACT 0 none, 1 relu, 2 gelu (erf form), a vec4 at a time.

//#include "nan.wgsl"
struct Params {
  m: u32, n: u32, k4: u32, n4: u32, a_layer: u32, b_layer: u32, c_batch: u32, c_base: u32,
  col_blocks: u32, row_blocks: u32, batches: u32, grid_x: u32,  // FLAT only
  a_pack: u32, b_pack: u32, k: u32,  // A_STACK, B_STACK only (packs are powers of two); B_FLAT: b_pack is its width
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var A: texture_storage_2d_array<rgba32float, read>;
@group(0) @binding(2) var B: texture_storage_2d_array<rgba32float, read>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> C: array<vec4<f32>>;

override HAS_BIAS: bool = false;
override ACT: u32 = 0;
override WG_X: u32 = 8;
override WG_Y: u32 = 1;
override TRANS_B: bool = false;
override FLAT: bool = false;
// COL_MAJOR: the grid is (row workgroups, column workgroups, batch), so llvmpipe, which runs workgroups in the grid's
// x-fastest order, goes down a panel of columns before the next one. Consecutive workgroups then read the same panel
// of B (K x 128 floats: 512 KiB at K = 1024, in a core's L2) and each its own rows of A, where by position each read
// a new panel of B from L3 or memory. It gains when the machine's L3 is contended, and nothing when it is quiet: on
// 2 x Zen 3, 2026-12-03, in turn in one process, 2048^3 638 against 892 ms, then 809 against 802 an hour later;
// 1568x1280x1280 199 against 241 and 232 against 234; 1024^3 within 6% either way; the seed-1 head's training
// step 2311 against 2551. The host sets it whenever the grid has more than one row.
override COL_MAJOR: bool = false;
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
// C_VEC4: N % 4 == 0, so every row of C starts on a vec4 and is stored a vec4 at a time. llvmpipe stores a vec4 in
// one pass over the lanes and each scalar in a pass of its own: P·V ([256,49,49]x[256,49,160]) took 18.2-18.9 ms
// against 20.1-20.3 with scalar stores (one process each, 2026-11-23).
override C_VEC4: bool = false;

override TM: u32 = 8u;  // rows of C per row sub-block, at most MAX_TM
override RG: u32 = 1u;  // row sub-blocks per invocation, 1 or 2
override CJ: u32 = 1u;  // column sub-blocks per invocation (of TN4 texels each), 1 or 2
const MAX_TM = 8u;
const TN4 = 2u;  // vec4 columns of C per column sub-block (8 scalars)
// Same approximation as unary.wgsl (A&S 7.1.26, 1.5e-7 absolute error), four lanes at a time.
fn erf4(v: vec4<f32>) -> vec4<f32> {
  let a = abs(v);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  let r = 1.0 - poly * exp(-a * a);
  return select(r, -r, v < vec4<f32>(0.0));
}

fn activate(v: vec4<f32>) -> vec4<f32> {
  if (ACT == 1u) { return nan_max4(v, vec4<f32>(0.0)); }
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

// Where this invocation reads, set once before the K loop (sub-block r's rows are RG-major: r * TM + i).
var<private> a_at: array<vec2<u32>, 16>;  // [RG * TM]: the first texel of each row of A
var<private> at_col: array<u32, 4>;  // TRANS_A, [RG * 2]: the texel columns holding the rows
var<private> b_col: array<u32, 4>;  // [CJ * TN4]: B's texel columns, clamped
var<private> bt_at: array<vec2<u32>, 16>;  // TRANS_B, [CJ * 4 * TN4]: the first texel of each row of Bᵀ
var<private> a_l: u32;  // A's layer
var<private> b_l: u32;  // B's layer
var<private> b_z: u32;  // the batch
var<private> b_shift: u32;  // a stacked B's row g (a flat B's texel g) is in texture row g >> b_shift
var<private> b_flat0: u32;  // B_FLAT: float (0, col4 * 4) of this batch's B

// Rows r * TM .. r * TM + TM - 1 of this invocation's A at step kk: A[row, 4kk .. 4kk+3] each.
fn load_a(r: u32, kk: u32) -> array<vec4<f32>, MAX_TM> {
  var a: array<vec4<f32>, MAX_TM>;
  if (TRANS_A) {
    var ta: array<vec4<f32>, 8>;  // ta[4g + q] = A[rows 4g .. 4g+3 of the sub-block, 4kk + q]
    for (var g = 0u; g < 2u; g++) {
      for (var q = 0u; q < 4u; q++) { ta[4u * g + q] = textureLoad(A, vec2<u32>(at_col[2u * r + g], kk * 4u + q), a_l); }
    }
    for (var i = 0u; i < 8u; i++) {
      let g = 4u * (i / 4u);
      let c = i % 4u;
      a[i] = vec4<f32>(ta[g][c], ta[g + 1u][c], ta[g + 2u][c], ta[g + 3u][c]);
    }
  } else {
    for (var i = 0u; i < TM; i++) {
      let at = a_at[r * TM + i];
      a[i] = textureLoad(A, vec2<u32>(at.x + kk, at.y), a_l);
    }
  }
  return a;
}

// Rows 4kk .. 4kk+3 of B over column sub-block c's TN4 texels: b[q * TN4 + j] = B[4kk + q, texel c * TN4 + j].
fn load_b(c: u32, kk: u32) -> array<vec4<f32>, 8> {
  var b: array<vec4<f32>, 8>;
  if (TRANS_B) {
    var t: array<vec4<f32>, 8>;  // t[e] = B[4kk .. 4kk+3, column e of the sub-block]
    for (var e = 0u; e < 4u * TN4; e++) {
      let at = bt_at[c * 4u * TN4 + e];
      t[e] = textureLoad(B, vec2<u32>(at.x + kk, at.y), b_l);
    }
    for (var q = 0u; q < 4u; q++) {
      for (var j = 0u; j < TN4; j++) { b[q * TN4 + j] = vec4<f32>(t[4u * j][q], t[4u * j + 1u][q], t[4u * j + 2u][q], t[4u * j + 3u][q]); }
    }
  } else if (B_FLAT) {
    for (var q = 0u; q < 4u; q++) {
      let k = kk * 4u + q;
      let t0 = (b_flat0 + c * 4u * TN4 + k * p.n) >> 2u;
      let s = (q * B_NMOD4) & 3u;
      let x0 = textureLoad(B, flat_texel(t0, b_shift), 0);
      let x1 = textureLoad(B, flat_texel(t0 + 1u, b_shift), 0);
      var x2 = x1;
      if (s != 0u) { x2 = textureLoad(B, flat_texel(t0 + 2u, b_shift), 0); }
      let v = shifted(x0, x1, x2, s);
      for (var j = 0u; j < TN4; j++) { b[q * TN4 + j] = select(v[j], vec4<f32>(0.0), k >= p.k); }
    }
  } else {
    for (var q = 0u; q < 4u; q++) {
      let k = kk * 4u + q;
      var at = vec2<u32>(0u, k);
      if (B_STACK) { at = stack_at(k, b_z, p.k, p.b_pack, b_shift, p.n4); }
      for (var j = 0u; j < TN4; j++) {
        let v = textureLoad(B, vec2<u32>(at.x + b_col[c * TN4 + j], at.y), b_l);
        b[q * TN4 + j] = select(v, vec4<f32>(0.0), B_STACK && k >= p.k);
      }
    }
  }
  return b;
}

// acc += a · b for one TM x (4 TN4) sub-block over 4 steps of K. Each sub-block keeps its own small loops: llvmpipe
// unrolls these, where one loop over a 16x16 tile was left rolled and indexed its accumulators a lane at a time.
fn block(acc: ptr<function, array<vec4<f32>, 16>>, a: ptr<function, array<vec4<f32>, MAX_TM>>, b: ptr<function, array<vec4<f32>, 8>>) {
  for (var i = 0u; i < TM; i++) {
    let av = (*a)[i];
    for (var j = 0u; j < TN4; j++) {
      var v = (*acc)[i * TN4 + j];
      v = fma(vec4<f32>(av.x), (*b)[j], v);
      v = fma(vec4<f32>(av.y), (*b)[TN4 + j], v);
      v = fma(vec4<f32>(av.z), (*b)[2u * TN4 + j], v);
      v = fma(vec4<f32>(av.w), (*b)[3u * TN4 + j], v);
      (*acc)[i * TN4 + j] = v;
    }
  }
}

// Writes sub-block (r, c) of C: act(acc + bias), rows past M and columns past N skipped.
fn store(acc: ptr<function, array<vec4<f32>, 16>>, r: u32, c: u32, row0: u32, col4: u32, c_base: u32) {
  // The bias of these columns, loaded once (clamped: columns past N are never stored). Reading it per element in
  // the store loop made the kernel 1.6x slower on llvmpipe.
  var bias4: array<vec4<f32>, TN4>;
  for (var j = 0u; j < TN4; j++) {
    bias4[j] = vec4<f32>(0.0);
    if (HAS_BIAS) {
      let c0 = (col4 + c * TN4 + j) * 4u;
      let last = p.n - 1u;
      bias4[j] = vec4<f32>(bias[min(c0, last)], bias[min(c0 + 1u, last)], bias[min(c0 + 2u, last)], bias[min(c0 + 3u, last)]);
    }
  }
  for (var i = 0u; i < TM; i++) {
    let row = row0 + r * TM + i;
    if (row >= p.m) { break; }
    for (var j = 0u; j < TN4; j++) {
      let v = activate((*acc)[i * TN4 + j] + bias4[j]);
      let col4j = col4 + c * TN4 + j;
      if (C_VEC4) {
        if (col4j < p.n4) { C[(c_base + row * p.n) / 4u + col4j] = v; }
      } else {
        for (var e = 0u; e < 4u; e++) {
          let at = c_base + row * p.n + col4j * 4u + e;
          if (col4j * 4u + e < p.n) { C[at / 4u][at % 4u] = v[e]; }
        }
      }
    }
  }
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>,
        @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(local_invocation_index) lid: u32,
        @builtin(local_invocation_id) lxy: vec3<u32>) {
  var block_at = gid;  // (column block, row block, batch)
  if (COL_MAJOR) { block_at = vec3<u32>(wid.y * WG_X + lxy.x, wid.x * WG_Y + lxy.y, gid.z); }
  if (FLAT) {
    let i = (wid.y * p.grid_x + wid.x) * (WG_X * WG_Y) + lid;
    let per_batch = p.col_blocks * p.row_blocks;
    if (i >= per_batch * p.batches) { return; }
    let rem = i % per_batch;
    block_at = vec3<u32>(rem % p.col_blocks, rem / p.col_blocks, i / per_batch);
  }
  let col4 = block_at.x * TN4 * CJ;
  let row0 = block_at.y * TM * RG;
  if (col4 >= p.n4 || row0 >= p.m) { return; }
  let a_z = block_at.z * p.a_layer;
  b_z = block_at.z * p.b_layer;
  a_l = select(a_z, 0u, A_STACK);
  b_l = select(b_z, 0u, B_STACK);
  b_shift = countTrailingZeros(p.b_pack);
  b_flat0 = b_z * p.k * p.n + col4 * 4u;
  // Rows past M and columns past N clamp their loads (the results are discarded at the store).
  for (var i = 0u; i < RG * TM; i++) { a_at[i] = stacked(min(row0 + i, p.m - 1u), a_z, p.m, p.a_pack, A_STACK); }
  for (var g = 0u; g < 2u * RG; g++) { at_col[g] = min(row0 / 4u + g, (p.m + 3u) / 4u - 1u); }
  for (var j = 0u; j < TN4 * CJ; j++) { b_col[j] = min(col4 + j, p.n4 - 1u); }
  for (var e = 0u; e < 4u * TN4 * CJ; e++) { bt_at[e] = stacked(min(col4 * 4u + e, p.n - 1u), b_z, p.n, p.b_pack, B_STACK); }

  // Sub-block (r, c) accumulates in acc_rc; B's rows are loaded once per column sub-block, A's once per row sub-block.
  var acc00: array<vec4<f32>, 16>;
  var acc01: array<vec4<f32>, 16>;
  var acc10: array<vec4<f32>, 16>;
  var acc11: array<vec4<f32>, 16>;
  for (var kk = 0u; kk < p.k4; kk++) {
    var b0 = load_b(0u, kk);
    var b1: array<vec4<f32>, 8>;
    if (CJ > 1u) { b1 = load_b(1u, kk); }
    var a = load_a(0u, kk);
    block(&acc00, &a, &b0);
    if (CJ > 1u) { block(&acc01, &a, &b1); }
    if (RG > 1u) {
      a = load_a(1u, kk);
      block(&acc10, &a, &b0);
      if (CJ > 1u) { block(&acc11, &a, &b1); }
    }
  }

  let c_base = p.c_base + block_at.z * p.c_batch;
  store(&acc00, 0u, 0u, row0, col4, c_base);
  if (CJ > 1u) { store(&acc01, 0u, 1u, row0, col4, c_base); }
  if (RG > 1u) {
    store(&acc10, 1u, 0u, row0, col4, c_base);
    if (CJ > 1u) { store(&acc11, 1u, 1u, row0, col4, c_base); }
  }
}
