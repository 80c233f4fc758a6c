// pack_texture: writes a matmul operand into an rgba32float texture array for matmul_texture, straight from its
// buffer. Texel (t, r) of layer z holds the logical row r, columns 4t .. 4t+3:
//   src[base + z * layer_step + r * row_stride + c * col_stride], and 0 where r >= rows or c >= cols.
// A transposed operand is the same walk with the strides swapped. This one pass replaces a zero-fill, a strided
// packing copy and a buffer-to-texture copy; those were needed because copyBufferToTexture wants rows 256 bytes
// apart, and on llvmpipe they cost attention's batched matmuls more than the product itself.
// Each invocation writes TEXELS consecutive texels of one row, so the index arithmetic is paid once per run. Runs
// of all rows are numbered flat over the grid (grid_x workgroups wide), so short rows leave no lanes idle; the
// grid's z is the layer.
// main_vec4 is the same walk when col_stride is 1 and base, layer_step, row_stride and cols are multiples of 4:
// one vec4 load per texel, where llvmpipe pays about as much for a scalar load.
struct Params { rows: u32, cols: u32, row_stride: u32, col_stride: u32, layer_step: u32, base: u32, width: u32, height: u32, runs: u32, grid_x: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var dst: texture_storage_2d_array<rgba32float, write>;
@group(0) @binding(2) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> src4: array<vec4<f32>>;

override WG: u32 = 64;
override TEXELS: u32 = 4u;

// The run of invocation lid in workgroup wid: its row and first texel, or row = height when it has none.
fn run_of(wid: vec3<u32>, lid: u32) -> vec2<u32> {
  let i = (wid.y * p.grid_x + wid.x) * WG + lid;
  if (i >= p.runs * p.height) { return vec2<u32>(p.height, 0u); }
  return vec2<u32>(i / p.runs, (i % p.runs) * TEXELS);
}

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let run = run_of(wid, lid);
  let r = run.x;
  let t0 = run.y;
  if (r >= p.height) { return; }
  let row = p.base + wid.z * p.layer_step + r * p.row_stride;
  for (var t = t0; t < min(t0 + TEXELS, p.width); t++) {
    var v = vec4<f32>(0.0);
    if (r < p.rows) {
      for (var e = 0u; e < 4u; e++) {
        let c = t * 4u + e;
        if (c < p.cols) { v[e] = src[row + c * p.col_stride]; }
      }
    }
    textureStore(dst, vec2<u32>(t, r), wid.z, v);
  }
}

@compute @workgroup_size(WG, 1, 1)
fn main_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let run = run_of(wid, lid);
  let r = run.x;
  let t0 = run.y;
  if (r >= p.height) { return; }
  let row4 = (p.base + wid.z * p.layer_step + r * p.row_stride) / 4u;
  for (var t = t0; t < min(t0 + TEXELS, p.width); t++) {
    var v = vec4<f32>(0.0);
    if (r < p.rows && t * 4u < p.cols) { v = src4[row4 + t]; }
    textureStore(dst, vec2<u32>(t, r), wid.z, v);
  }
}
