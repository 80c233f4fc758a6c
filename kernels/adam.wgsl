// adam: one in-place Adam/AdamW step on a parameter and its two moment buffers, as Keras computes it:
//   g = grad * scale[0]                       (scale is the global-norm clipping factor, 1 without clipping)
//   p -= p * decay                            (AdamW's decoupled weight decay, decay = lr * weight_decay; 0 for Adam)
//   m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2
//   p -= alpha * m / (sqrt(v) + epsilon),     alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
// Layout: contiguous f32 read and written as vec4, four elements per invocation, on a grid grid_x workgroups wide,
// sized to the work by the host. llvmpipe loads and stores buffers a lane at a time, and a vec4 costs it about what
// a float does: the seed-1 head's four 1280x1280 updates took 71 ms a step at one element per invocation. Pooled
// buffers come in 16-byte multiples, so a last partial vec4 touches padding only.
// main_staged reads grad, param, m and v from textures the host copied them into (include/staged.wgsl),
// 2^stage_shift texels wide, and writes the three buffers: on llvmpipe that takes four of the seven lane-by-lane
// accesses off each element.

//#include "staged.wgsl"
struct Params { n: u32, alpha: f32, beta1: f32, beta2: f32, epsilon: f32, decay: f32, grid_x: u32, stage_shift: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> grad: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> scale: array<f32>;
@group(0) @binding(3) var<storage, read_write> param: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> m: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> v: array<vec4<f32>>;
@group(0) @binding(1) var grad_staged: texture_storage_2d_array<rgba32float, read>;
@group(0) @binding(2) var param_staged: texture_storage_2d_array<rgba32float, read>;
@group(0) @binding(3) var m_staged: texture_storage_2d_array<rgba32float, read>;
@group(0) @binding(4) var v_staged: texture_storage_2d_array<rgba32float, read>;
@group(0) @binding(5) var<storage, read> scale_s: array<f32>;
@group(0) @binding(6) var<storage, read_write> param_s: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> m_s: array<vec4<f32>>;
@group(0) @binding(8) var<storage, read_write> v_s: array<vec4<f32>>;

override WG: u32 = 256;

// The step on four elements: the new parameter, m and v.
struct Step { w: vec4<f32>, m: vec4<f32>, v: vec4<f32> }

fn step(grad4: vec4<f32>, scale1: f32, w0: vec4<f32>, m0: vec4<f32>, v0: vec4<f32>) -> Step {
  let g = grad4 * scale1;
  let w = w0 - w0 * p.decay;
  let m1 = p.beta1 * m0 + (1.0 - p.beta1) * g;
  let v1 = p.beta2 * v0 + (1.0 - p.beta2) * g * g;
  return Step(w - p.alpha * m1 / (sqrt(v1) + p.epsilon), m1, v1);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * p.grid_x + wid.x) * WG + lid;
  if (i * 4u >= p.n) { return; }
  let s = step(grad[i], scale[0], param[i], m[i], v[i]);
  m[i] = s.m;
  v[i] = s.v;
  param[i] = s.w;
}

@compute @workgroup_size(WG)
fn main_staged(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * p.grid_x + wid.x) * WG + lid;
  if (i * 4u >= p.n) { return; }
  let at = staged_at(i, p.stage_shift);
  let s = step(textureLoad(grad_staged, at, 0), scale_s[0], textureLoad(param_staged, at, 0), textureLoad(m_staged, at, 0),
               textureLoad(v_staged, at, 0));
  m_s[i] = s.m;
  v_s[i] = s.v;
  param_s[i] = s.w;
}
