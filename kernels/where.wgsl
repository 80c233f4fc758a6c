// where: out[i] = cond[ic] != 0 ? a[ia] : b[ib], NumPy broadcasting over all three operands.
// Layout: contiguous f32 output of rank <= 8. The strides are the operands' row-major strides laid over the output
// shape, 0 on broadcast dimensions; the host merges dimensions all three walk through as one and drops size-1 ones
// first, as binary.wgsl's host does.
// One output vec4 per invocation, on a grid grid_x workgroups wide, sized to the work by the host. Pooled buffers
// come in 16-byte multiples, so the last partial vec4 touches padding only.
// VEC_INNER (the innermost dimension a multiple of 4, each operand either contiguous along it with its other strides
// multiples of 4, or broadcast along it: C_SPLAT / A_SPLAT / B_SPLAT) walks the index once per vec4 and loads each
// operand's vec4 (or its one element) at once. Otherwise each of the 4 elements walks and gathers its operands.
// On llvmpipe, where integer division and buffer loads go a lane at a time, attention's padding mask
// ([32,1,1,200] over [32,4,200,200] scores, -Infinity elsewhere) took 144 ms one element an invocation with the
// unmerged rank-4 walk, and 34.8 ms a word an invocation with the merged one (its two divisions per word).
// main_rows divides nothing: with VEC_INNER's operands and at most 3 outer dimensions, the host lays the walk out
// as (z, y, x, inner) in shape[0] and the strides' first vec4, and the grid's (x, y, z) is the outer index, x in
// steps of ROWS, as copy_rows.wgsl does. The WG lanes of a workgroup take words lid, lid + WG, ... of each of its
// ROWS rows.
struct Params {
  n: u32, rank: u32, grid_x: u32,
  shape: array<vec4<u32>, 2>,
  c_strides: array<vec4<u32>, 2>,
  a_strides: array<vec4<u32>, 2>,
  b_strides: array<vec4<u32>, 2>,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> cond: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> out: array<vec4<f32>>;

override VEC_INNER: bool = false;
override C_SPLAT: bool = false;
override A_SPLAT: bool = false;
override B_SPLAT: bool = false;
override WG: u32 = 256;
override ROWS: u32 = 8;

// The elements of cond, a and b that output element `flat` (< n) reads. The outermost index is what is left, with
// no division: a merged walk of rank 1 (operands of one shape, or one beside scalars) divides nothing.
fn walk(flat: u32) -> vec3<u32> {
  var rem = flat;
  var at = vec3<u32>(0u);
  for (var d = i32(p.rank) - 1; d >= 1; d--) {
    let dim = p.shape[d / 4][d % 4];
    let idx = rem % dim;
    rem = rem / dim;
    at += idx * vec3<u32>(p.c_strides[d / 4][d % 4], p.a_strides[d / 4][d % 4], p.b_strides[d / 4][d % 4]);
  }
  if (p.rank > 0u) {
    at += rem * vec3<u32>(p.c_strides[0].x, p.a_strides[0].x, p.b_strides[0].x);
  }
  return at;
}

// One output word of the VEC_INNER walk, from the elements at of cond, a and b: each operand's word, or its one
// element splat over the word.
fn pick_word(at: vec3<u32>) -> vec4<f32> {
  var xc = cond[at.x / 4u];
  if (C_SPLAT) { xc = vec4<f32>(xc[at.x % 4u]); }
  var xa = a[at.y / 4u];
  if (A_SPLAT) { xa = vec4<f32>(xa[at.y % 4u]); }
  var xb = b[at.z / 4u];
  if (B_SPLAT) { xb = vec4<f32>(xb[at.z % 4u]); }
  return select(xb, xa, xc != vec4<f32>(0.0));
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * p.grid_x + wid.x) * WG + lid;
  if (i * 4u >= p.n) { return; }
  if (VEC_INNER) {
    out[i] = pick_word(walk(i * 4u));
    return;
  }
  var xc = vec4<f32>(0.0);
  var xa = vec4<f32>(0.0);
  var xb = vec4<f32>(0.0);
  for (var e = 0u; e < 4u; e++) {
    let flat = i * 4u + e;
    if (flat >= p.n) { break; }
    let at = walk(flat);
    xc[e] = cond[at.x / 4u][at.x % 4u];
    xa[e] = a[at.y / 4u][at.y % 4u];
    xb[e] = b[at.z / 4u][at.z % 4u];
  }
  out[i] = select(xb, xa, xc != vec4<f32>(0.0));
}

@compute @workgroup_size(WG)
fn main_rows(@builtin(workgroup_id) wid: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let dims = p.shape[0];
  let words = dims.w / 4u;
  // Each operand's stride along the inner dimension: 1, or 0 where it is broadcast (a splat).
  let step = vec3<u32>(p.c_strides[0].w, p.a_strides[0].w, p.b_strides[0].w) * 4u;
  for (var r = 0u; r < ROWS; r++) {
    let x = wid.x * ROWS + r;
    if (x >= dims.z) { break; }
    let g = vec4<u32>(wid.z, wid.y, x, 0u);
    let base = vec3<u32>(dot(g, p.c_strides[0]), dot(g, p.a_strides[0]), dot(g, p.b_strides[0]));
    let o = ((wid.z * dims.y + wid.y) * dims.z + x) * words;
    for (var e = lid; e < words; e += WG) {
      out[o + e] = pick_word(base + step * e);
    }
  }
}
