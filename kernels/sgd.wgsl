// sgd: one in-place SGD step as Keras computes it, with g = grad * scale[0] (global-norm clipping factor):
//   without momentum:  p -= lr g
//   with momentum:     u = momentum u - lr g;  p += u            (NESTEROV: p += momentum u - lr g)
// Layout: contiguous f32, one element per invocation, on a grid grid_x workgroups wide, sized to the work by the host.
struct Params { n: u32, lr: f32, momentum: f32, grid_x: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read> scale: array<f32>;
@group(0) @binding(3) var<storage, read_write> param: array<f32>;
@group(0) @binding(4) var<storage, read_write> velocity: array<f32>;

override MOMENTUM: bool = false;
override NESTEROV: bool = false;
override WG: u32 = 256;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * p.grid_x + wid.x) * WG + lid;
  if (i >= p.n) { return; }
  let g = grad[i] * scale[0];
  if (!MOMENTUM) {
    param[i] -= p.lr * g;
    return;
  }
  let u = p.momentum * velocity[i] - p.lr * g;
  velocity[i] = u;
  param[i] += select(u, p.momentum * u - p.lr * g, NESTEROV);
}
