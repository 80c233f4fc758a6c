// softmax / log-softmax over the last axis of x viewed as [rows, cols]. A row whose max is -inf (fully masked) gives
// zeros for softmax. LOG selects log-softmax: x - max - log(sum).
// Two ways to split the work, picked by the host from the row length:
// - ROW_PER_LANE (short rows, e.g. attention's 49): each invocation does a whole row in three passes (max, sum,
//   write), with no workgroup memory. On llvmpipe a barrier costs more than a short row.
// - otherwise one workgroup per row: the WG invocations stride over the row, then combine with tree reductions in
//   workgroup memory, first the max, then the sum of exp(x - max).
// Workgroups are numbered wid.y * grid_x + wid.x (the host sizes the grid to the work).
struct Params { rows: u32, cols: u32, grid_x: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

override WG: u32 = 64;
override LOG: bool = false;
override ROW_PER_LANE: bool = false;

var<workgroup> red: array<f32, WG>;

// Non-finite constants must be made at runtime: WGSL rejects inf/NaN in constant expressions.
fn from_bits(bits: u32) -> f32 {
  var b = bits;
  return bitcast<f32>(b);
}

fn row_per_lane(row: u32) {
  if (row >= p.rows) { return; }
  let base = row * p.cols;
  var m = from_bits(0xff800000u);
  for (var c = 0u; c < p.cols; c++) { m = max(m, x[base + c]); }
  let finite = m != from_bits(0xff800000u);
  let shift = select(0.0, m, finite);
  var sum = 0.0;
  for (var c = 0u; c < p.cols; c++) { sum += exp(x[base + c] - shift); }
  if (LOG) {
    let lse = shift + log(sum);
    for (var c = 0u; c < p.cols; c++) { out[base + c] = x[base + c] - lse; }
  } else {
    let inv = select(0.0, 1.0 / sum, finite);
    for (var c = 0u; c < p.cols; c++) { out[base + c] = exp(x[base + c] - shift) * inv; }
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
  // `row` is uniform across the workgroup, so every invocation reaches the barriers below.
  let live = row < p.rows;
  let base = row * p.cols;
  var m = from_bits(0xff800000u);
  if (live) {
    for (var c = lid; c < p.cols; c += WG) { m = max(m, x[base + c]); }
  }
  red[lid] = m;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { red[lid] = max(red[lid], red[lid + s]); }
    workgroupBarrier();
  }
  let row_max = red[0];
  workgroupBarrier();
  let finite = row_max != from_bits(0xff800000u);
  let shift = select(0.0, row_max, finite);
  var total = 0.0;
  if (live) {
    for (var c = lid; c < p.cols; c += WG) { total += exp(x[base + c] - shift); }
  }
  red[lid] = total;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { red[lid] += red[lid + s]; }
    workgroupBarrier();
  }
  let sum = red[0];
  if (!live) { return; }
  if (LOG) {
    let lse = shift + log(sum);
    for (var c = lid; c < p.cols; c += WG) { out[base + c] = x[base + c] - lse; }
  } else {
    let inv = select(0.0, 1.0 / sum, finite);
    for (var c = lid; c < p.cols; c += WG) { out[base + c] = exp(x[base + c] - shift) * inv; }
  }
}
