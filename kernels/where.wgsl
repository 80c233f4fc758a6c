// where: out[i] = cond[ic] != 0 ? a[ia] : b[ib], NumPy broadcasting over all three operands.
// Layout: contiguous f32 output of rank <= 8; strides are laid over the output shape with 0 on broadcast dimensions.
// One element per invocation, on a grid grid_x workgroups wide, sized to the work by the host.
struct Params {
  n: u32, rank: u32, grid_x: u32,
  shape: array<vec4<u32>, 2>,
  c_strides: array<vec4<u32>, 2>,
  a_strides: array<vec4<u32>, 2>,
  b_strides: array<vec4<u32>, 2>,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> cond: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

override WG: u32 = 256;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * p.grid_x + wid.x) * WG + lid;
  if (i >= p.n) { return; }
  var rem = i;
  var ic = 0u;
  var ia = 0u;
  var ib = 0u;
  for (var d = i32(p.rank) - 1; d >= 0; d--) {
    let dim = p.shape[d / 4][d % 4];
    let idx = rem % dim;
    rem = rem / dim;
    ic += idx * p.c_strides[d / 4][d % 4];
    ia += idx * p.a_strides[d / 4][d % 4];
    ib += idx * p.b_strides[d / 4][d % 4];
  }
  out[i] = select(b[ib], a[ia], cond[ic] != 0.0);
}
