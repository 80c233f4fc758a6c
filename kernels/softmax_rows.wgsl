// softmax_rows: softmax / log-softmax over the last axis of x viewed as [rows, cols], for short rows (cols <= 61,
// e.g. attention's 49). One invocation per row. The row's span is read once as WORDS vec4 words and kept in
// registers, so each float costs a quarter of a load instead of one load per pass (softmax.wgsl's ROW_PER_LANE
// path reads every element three times). On llvmpipe every load is a per-lane gather, so loads dominate.
// Elements of a word outside the row are masked to -inf, which exp sends to 0. A row whose max is -inf (fully
// masked) gives zeros for softmax. The binding of x must be a multiple of 16 bytes (the buffer pool's are).
// main_staged reads the same words from a texture the host copied x into (include/staged.wgsl), 2^stage_shift
// texels wide: on llvmpipe the [12544, 49] attention softmax took 3.2 ms from the buffer and 1.4 ms with the copy
// (2 x AMD EPYC family 25, 2026-12-03), most of what is left being its stores.
// Stores: words 1 .. FULL of a row's span lie inside the row whatever the row's offset in its first word, so they
// are stored whole; only the first word and those past FULL are stored a float at a time (a component of out's
// word, so a neighbouring row's lane writes the rest of a shared word). llvmpipe stores a vec4 in one pass over the
// lanes and each float in a pass of its own: bench/texel-stores.ts stored the 153,856 words of this output in 0.52 ms
// as vec4s and 0.91 as floats, and the [12544, 49] softmax went from 0.93 to 0.75 ms (2 x AMD EPYC family 25
// model 17, 2026-12-07, in turn in one process).
// main_words_staged takes longer rows of whole words (cols % 4 == 0, e.g. a text model's 200 tokens), which do not
// fit the registers: it reads the row's cols / 4 texels three times (max, sum, write), since a texel load costs
// llvmpipe a fraction of a buffer load, and stores every word whole. The host uses it only with staged inputs.
//#include "staged.wgsl"
struct Params { rows: u32, cols: u32, grid_x: u32, stage_shift: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(1) var xs: texture_storage_2d_array<rgba32float, read>;

override WG: u32 = 64;
// Words a row can span: floor((cols + 2) / 4) + 1, at most MAX_WORDS. A constant trip count lets the loops unroll
// and the words stay in registers.
override WORDS: u32 = 16;
override LOG: bool = false;
// floor(cols / 4) - 1: the words of a row's span that are always whole (0 for rows under 8).
override FULL: u32 = 0u;
const MAX_WORDS = 16u;

fn from_bits(bits: u32) -> f32 {
  var b = bits;
  return bitcast<f32>(b);
}

// The row's span of words, loaded by the entry point from the buffer or the texture.
var<private> raw: array<vec4<f32>, MAX_WORDS>;

fn first_word(row: u32) -> u32 {
  return row * p.cols / 4u;
}

fn softmax_row(row: u32) {
  let base = row * p.cols;
  let end = base + p.cols;
  let w0 = base / 4u;
  let neg_inf = from_bits(0xff800000u);
  var v: array<vec4<f32>, MAX_WORDS>;
  var m = neg_inf;
  for (var j = 0u; j < WORDS; j++) {
    let idx = vec4<u32>((w0 + j) * 4u) + vec4<u32>(0u, 1u, 2u, 3u);
    let w = select(vec4<f32>(neg_inf), raw[j], (idx >= vec4<u32>(base)) & (idx < vec4<u32>(end)));
    v[j] = w;
    m = max(m, max(max(w.x, w.y), max(w.z, w.w)));
  }
  let finite = m != neg_inf;
  let shift = select(0.0, m, finite);
  var e: array<vec4<f32>, MAX_WORDS>;
  var sum = 0.0;
  for (var j = 0u; j < WORDS; j++) {
    e[j] = exp(v[j] - shift);
    sum += dot(e[j], vec4<f32>(1.0));
  }
  let lse = shift + log(sum);
  let inv = select(0.0, 1.0 / sum, finite);
  for (var j = 0u; j < WORDS; j++) {
    let r = select(e[j] * inv, v[j] - lse, LOG);
    if (j >= 1u && j <= FULL) {
      out[w0 + j] = r;
    } else {
      let first = (w0 + j) * 4u;
      for (var k = 0u; k < 4u; k++) {
        let i = first + k;
        if (i >= base && i < end) { out[w0 + j][k] = r[k]; }
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
  for (var j = 0u; j < WORDS; j++) { raw[j] = x[w0 + j]; }
  softmax_row(row);
}

@compute @workgroup_size(WG)
fn main_staged(@builtin(workgroup_id) wid: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let row = (wid.y * p.grid_x + wid.x) * WG + lid;
  if (row >= p.rows) { return; }
  let w0 = first_word(row);
  for (var j = 0u; j < WORDS; j++) { raw[j] = textureLoad(xs, staged_at(w0 + j, p.stage_shift), 0); }
  softmax_row(row);
}

@compute @workgroup_size(WG)
fn main_words_staged(@builtin(workgroup_id) wid: vec3<u32>,
                     @builtin(local_invocation_index) lid: u32) {
  let row = (wid.y * p.grid_x + wid.x) * WG + lid;
  if (row >= p.rows) { return; }
  let words = p.cols / 4u;
  let w0 = row * words;
  let neg_inf = from_bits(0xff800000u);
  var m4 = vec4<f32>(neg_inf);
  for (var j = 0u; j < words; j++) { m4 = max(m4, textureLoad(xs, staged_at(w0 + j, p.stage_shift), 0)); }
  let m = max(max(m4.x, m4.y), max(m4.z, m4.w));
  let finite = m != neg_inf;
  let shift = select(0.0, m, finite);
  var s4 = vec4<f32>(0.0);
  for (var j = 0u; j < words; j++) { s4 += exp(textureLoad(xs, staged_at(w0 + j, p.stage_shift), 0) - shift); }
  let sum = dot(s4, vec4<f32>(1.0));
  let lse = shift + log(sum);
  let inv = select(0.0, 1.0 / sum, finite);
  for (var j = 0u; j < words; j++) {
    let v = textureLoad(xs, staged_at(w0 + j, p.stage_shift), 0);
    out[w0 + j] = select(exp(v - shift) * inv, v - lse, LOG);
  }
}
