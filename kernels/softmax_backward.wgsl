// Gradient of softmax / log-softmax over the last axis, rows split as in softmax.wgsl: ROW_PER_LANE for short rows,
// otherwise one workgroup per row.
//   softmax:     dx = y * (dy - sum(dy * y))
//   log-softmax: dx = dy - exp(y) * sum(dy)
// y is the forward output. The row sum is a tree reduction in workgroup memory.
struct Params { rows: u32, cols: u32, grid_x: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

override WG: u32 = 64;
override LOG: bool = false;
override ROW_PER_LANE: bool = false;

var<workgroup> red: array<f32, WG>;

fn row_per_lane(row: u32) {
  if (row >= p.rows) { return; }
  let base = row * p.cols;
  var total = 0.0;
  for (var c = 0u; c < p.cols; c++) {
    let g = dy[base + c];
    total += select(g * y[base + c], g, LOG);
  }
  for (var c = 0u; c < p.cols; c++) {
    let g = dy[base + c];
    let v = y[base + c];
    dx[base + c] = select(v * (g - total), g - exp(v) * total, LOG);
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  if (ROW_PER_LANE) {
    row_per_lane((wid.y * p.grid_x + wid.x) * WG + lid);
    return;
  }
  let row = wid.y * p.grid_x + wid.x;
  let live = row < p.rows;
  let base = row * p.cols;
  var acc = 0.0;
  if (live) {
    for (var c = lid; c < p.cols; c += WG) {
      let g = dy[base + c];
      acc += select(g * y[base + c], g, LOG);
    }
  }
  red[lid] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { red[lid] += red[lid + s]; }
    workgroupBarrier();
  }
  let total = red[0];
  if (!live) { return; }
  for (var c = lid; c < p.cols; c += WG) {
    let g = dy[base + c];
    let v = y[base + c];
    dx[base + c] = select(v * (g - total), g - exp(v) * total, LOG);
  }
}
