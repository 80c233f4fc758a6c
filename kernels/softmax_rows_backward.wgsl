// softmax_rows_backward: the gradient of softmax_rows.wgsl for short rows (cols <= 61), one row per invocation,
// reading y and dy once as vec4 words kept in registers.
//   softmax:     dx = y * (dy - sum(dy * y))
//   log-softmax: dx = dy - exp(y) * sum(dy)
// y is the forward output. Elements of a word outside the row are masked to 0, which adds nothing to the sum.
struct Params { rows: u32, cols: u32, grid_x: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> y: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> dy: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

override WG: u32 = 64;
override WORDS: u32 = 16;
override LOG: bool = false;
const MAX_WORDS = 16u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row = (wid.y * p.grid_x + wid.x) * WG + lid;
  if (row >= p.rows) { return; }
  let base = row * p.cols;
  let end = base + p.cols;
  let w0 = base / 4u;
  var yv: array<vec4<f32>, MAX_WORDS>;
  var gv: array<vec4<f32>, MAX_WORDS>;
  var total = 0.0;
  for (var j = 0u; j < WORDS; j++) {
    let idx = vec4<u32>((w0 + j) * 4u) + vec4<u32>(0u, 1u, 2u, 3u);
    let inside = (idx >= vec4<u32>(base)) & (idx < vec4<u32>(end));
    yv[j] = select(vec4<f32>(0.0), y[w0 + j], inside);
    gv[j] = select(vec4<f32>(0.0), dy[w0 + j], inside);
    total += dot(gv[j], select(yv[j], vec4<f32>(1.0), LOG));
  }
  for (var j = 0u; j < WORDS; j++) {
    let r = select(yv[j] * (gv[j] - total), gv[j] - exp(yv[j]) * total, LOG);
    let first = (w0 + j) * 4u;
    for (var k = 0u; k < 4u; k++) {
      let i = first + k;
      if (i >= base && i < end) { dx[i] = r[k]; }
    }
  }
}
