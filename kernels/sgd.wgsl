// sgd: one in-place SGD step as Keras computes it, with g = grad * scale[0] (global-norm clipping factor):
//   without momentum:  p -= lr g
//   with momentum:     u = momentum u - lr g;  p += u            (NESTEROV: p += momentum u - lr g)
// Layout: contiguous f32 read and written as vec4, four elements per invocation, on a grid grid_x workgroups wide,
// sized to the work by the host (llvmpipe loads and stores buffers a lane at a time, and a vec4 costs it about what a
// float does). Pooled buffers come in 16-byte multiples, so a last partial vec4 touches padding only.
// main_staged reads grad and param from textures the host copied them into (include/staged.wgsl), 2^stage_shift
// texels wide; the velocity, when there is one, is read from its buffer.

//#include "staged.wgsl"
struct Params { n: u32, lr: f32, momentum: f32, grid_x: u32, stage_shift: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> grad: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> scale: array<f32>;
@group(0) @binding(3) var<storage, read_write> param: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> velocity: array<vec4<f32>>;
@group(0) @binding(1) var grad_staged: texture_storage_2d_array<rgba32float, read>;
@group(0) @binding(2) var param_staged: texture_storage_2d_array<rgba32float, read>;
@group(0) @binding(3) var<storage, read> scale_s: array<f32>;
@group(0) @binding(4) var<storage, read_write> param_s: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> velocity_s: array<vec4<f32>>;

override MOMENTUM: bool = false;
override NESTEROV: bool = false;
override WG: u32 = 256;

// The new parameter from the old one, the scaled gradient and the new velocity (unused without momentum).
fn stepped(w: vec4<f32>, g: vec4<f32>, u: vec4<f32>) -> vec4<f32> {
  if (!MOMENTUM) { return w - p.lr * g; }
  return w + select(u, p.momentum * u - p.lr * g, NESTEROV);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * p.grid_x + wid.x) * WG + lid;
  if (i * 4u >= p.n) { return; }
  let g = grad[i] * scale[0];
  var u = vec4<f32>(0.0);
  if (MOMENTUM) {
    u = p.momentum * velocity[i] - p.lr * g;
    velocity[i] = u;
  }
  param[i] = stepped(param[i], g, u);
}

@compute @workgroup_size(WG)
fn main_staged(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * p.grid_x + wid.x) * WG + lid;
  if (i * 4u >= p.n) { return; }
  let at = staged_at(i, p.stage_shift);
  let g = textureLoad(grad_staged, at, 0) * scale_s[0];
  var u = vec4<f32>(0.0);
  if (MOMENTUM) {
    u = p.momentum * velocity_s[i] - p.lr * g;
    velocity_s[i] = u;
  }
  param_s[i] = stepped(textureLoad(param_staged, at, 0), g, u);
}
