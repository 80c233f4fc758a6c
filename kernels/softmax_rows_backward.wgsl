// softmax_rows_backward: the gradient of softmax_rows.wgsl for short rows (cols <= 61), one row per invocation,
// reading y and dy once as vec4 words kept in registers.
//   softmax:     dx = y * (dy - sum(dy * y))
//   log-softmax: dx = dy - exp(y) * sum(dy)
// y is the forward output. Elements of a word outside the row are masked to 0, which adds nothing to the sum.
// main_staged reads the same words of y and dy from textures the host copied them into (include/staged.wgsl),
// 2^stage_shift texels wide.

//#include "staged.wgsl"
struct Params { rows: u32, cols: u32, grid_x: u32, stage_shift: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> y: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> dy: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> dx: array<vec4<f32>>;
@group(0) @binding(1) var y_staged: texture_storage_2d_array<rgba32float, read>;
@group(0) @binding(2) var dy_staged: texture_storage_2d_array<rgba32float, read>;

override WG: u32 = 64;
override WORDS: u32 = 16;
override LOG: bool = false;
// floor(cols / 4) - 1: words 1 .. FULL of a row's span are always whole and stored as vec4s (softmax_rows.wgsl
// says why); the rest a float at a time. The [12544, 49] backward went from 1.15 to 0.88 ms (2026-12-07).
override FULL: u32 = 0u;
const MAX_WORDS = 16u;

// The row's span of words of y and dy, loaded by the entry point from the buffers or the textures.
var<private> y_raw: array<vec4<f32>, MAX_WORDS>;
var<private> dy_raw: array<vec4<f32>, MAX_WORDS>;

fn first_word(row: u32) -> u32 {
  return row * p.cols / 4u;
}

fn backward_row(row: u32) {
  let base = row * p.cols;
  let end = base + p.cols;
  let w0 = base / 4u;
  var yv: array<vec4<f32>, MAX_WORDS>;
  var gv: array<vec4<f32>, MAX_WORDS>;
  var total = 0.0;
  for (var j = 0u; j < WORDS; j++) {
    let idx = vec4<u32>((w0 + j) * 4u) + vec4<u32>(0u, 1u, 2u, 3u);
    let inside = (idx >= vec4<u32>(base)) & (idx < vec4<u32>(end));
    yv[j] = select(vec4<f32>(0.0), y_raw[j], inside);
    gv[j] = select(vec4<f32>(0.0), dy_raw[j], inside);
    total += dot(gv[j], select(yv[j], vec4<f32>(1.0), LOG));
  }
  for (var j = 0u; j < WORDS; j++) {
    let r = select(yv[j] * (gv[j] - total), gv[j] - exp(yv[j]) * total, LOG);
    if (j >= 1u && j <= FULL) {
      dx[w0 + j] = r;
    } else {
      let first = (w0 + j) * 4u;
      for (var k = 0u; k < 4u; k++) {
        let i = first + k;
        if (i >= base && i < end) { dx[w0 + j][k] = r[k]; }
      }
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row = (wid.y * p.grid_x + wid.x) * WG + lid;
  if (row >= p.rows) { return; }
  let w0 = first_word(row);
  for (var j = 0u; j < WORDS; j++) {
    y_raw[j] = y[w0 + j];
    dy_raw[j] = dy[w0 + j];
  }
  backward_row(row);
}

@compute @workgroup_size(WG)
fn main_staged(@builtin(workgroup_id) wid: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let row = (wid.y * p.grid_x + wid.x) * WG + lid;
  if (row >= p.rows) { return; }
  let w0 = first_word(row);
  for (var j = 0u; j < WORDS; j++) {
    let at = staged_at(w0 + j, p.stage_shift);
    y_raw[j] = textureLoad(y_staged, at, 0);
    dy_raw[j] = textureLoad(dy_staged, at, 0);
  }
  backward_row(row);
}

// Rows of whole words longer than the register span (softmax_rows.wgsl's main_words_staged): two passes over the
// texels, the row's sum and then its words, each stored whole.
@compute @workgroup_size(WG)
fn main_words_staged(@builtin(workgroup_id) wid: vec3<u32>,
                     @builtin(local_invocation_index) lid: u32) {
  let row = (wid.y * p.grid_x + wid.x) * WG + lid;
  if (row >= p.rows) { return; }
  let words = p.cols / 4u;
  let w0 = row * words;
  var t4 = vec4<f32>(0.0);
  for (var j = 0u; j < words; j++) {
    let at = staged_at(w0 + j, p.stage_shift);
    t4 += textureLoad(dy_staged, at, 0) * select(textureLoad(y_staged, at, 0), vec4<f32>(1.0), LOG);
  }
  let total = dot(t4, vec4<f32>(1.0));
  for (var j = 0u; j < words; j++) {
    let at = staged_at(w0 + j, p.stage_shift);
    let yv = textureLoad(y_staged, at, 0);
    let gv = textureLoad(dy_staged, at, 0);
    dx[w0 + j] = select(yv * (gv - total), gv - exp(yv) * total, LOG);
  }
}
