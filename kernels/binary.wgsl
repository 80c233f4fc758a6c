// binary: out[i] = f(a[ia], b[ib]) with NumPy broadcasting; OP chooses f.
// Layout: contiguous f32 output of rank <= 8. `a_strides`/`b_strides` are the operands' row-major strides laid over
// the output shape, 0 on broadcast dimensions. With SAME_SHAPE the index maths is skipped (ia = ib = i).
// Buffers are read and written as vec4, one output vec4 per invocation: with SAME_SHAPE that is one vector op,
// otherwise each of its 4 elements gathers its operands. Pooled buffers come in 16-byte multiples, so the last
// partial vec4 touches padding only. The grid is grid_x workgroups wide, sized to the work by the host.
// OP codes (kept in step with src/ops/binary.ts):
//   0 add 1 sub 2 mul 3 div 4 maximum 5 minimum 6 equal 7 notEqual 8 greater 9 greaterEqual 10 less 11 lessEqual

//#include "nan.wgsl"
struct Params {
  n: u32, rank: u32, grid_x: u32,
  shape: array<vec4<u32>, 2>,
  a_strides: array<vec4<u32>, 2>,
  b_strides: array<vec4<u32>, 2>,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4<f32>>;

override OP: u32 = 0;
override SAME_SHAPE: bool = false;
override WG: u32 = 256;

fn mask(c: vec4<bool>) -> vec4<f32> { return select(vec4<f32>(0.0), vec4<f32>(1.0), c); }

fn apply(x: vec4<f32>, y: vec4<f32>) -> vec4<f32> {
  switch OP {
    case 0u: { return x + y; }
    case 1u: { return x - y; }
    case 2u: { return x * y; }
    case 3u: { return x / y; }
    case 4u: { return nan_max4(x, y); }
    case 5u: { return nan_min4(x, y); }
    case 6u: { return mask(x == y); }
    case 7u: { return mask(x != y); }
    case 8u: { return mask(x > y); }
    case 9u: { return mask(x >= y); }
    case 10u: { return mask(x < y); }
    case 11u: { return mask(x <= y); }
    default: { return x; }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * p.grid_x + wid.x) * WG + lid;
  if (i * 4u >= p.n) { return; }
  if (SAME_SHAPE) {
    out[i] = apply(a[i], b[i]);
    return;
  }
  var xa = vec4<f32>(0.0);
  var xb = vec4<f32>(0.0);
  for (var e = 0u; e < 4u; e++) {
    let flat = i * 4u + e;
    if (flat >= p.n) { break; }
    var rem = flat;
    var ia = 0u;
    var ib = 0u;
    for (var d = i32(p.rank) - 1; d >= 0; d--) {
      let dim = p.shape[d / 4][d % 4];
      let idx = rem % dim;
      rem = rem / dim;
      ia += idx * p.a_strides[d / 4][d % 4];
      ib += idx * p.b_strides[d / 4][d % 4];
    }
    xa[e] = a[ia / 4u][ia % 4u];
    xb[e] = b[ib / 4u][ib % 4u];
  }
  out[i] = apply(xa, xb);
}
