// adam: one in-place Adam/AdamW step on a parameter and its two moment buffers, as Keras computes it:
//   g = grad * scale[0]                       (scale is the global-norm clipping factor, 1 without clipping)
//   p -= p * decay                            (AdamW's decoupled weight decay, decay = lr * weight_decay; 0 for Adam)
//   m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2
//   p -= alpha * m / (sqrt(v) + epsilon),     alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
// Layout: contiguous f32 read and written as vec4, four elements per invocation, on a grid grid_x workgroups wide,
// sized to the work by the host. llvmpipe loads and stores buffers a lane at a time, and a vec4 costs it about what
// a float does: the seed-1 head's four 1280x1280 updates took 71 ms a step at one element per invocation. Pooled
// buffers come in 16-byte multiples, so a last partial vec4 touches padding only.
struct Params { n: u32, alpha: f32, beta1: f32, beta2: f32, epsilon: f32, decay: f32, grid_x: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> grad: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> scale: array<f32>;
@group(0) @binding(3) var<storage, read_write> param: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> m: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> v: array<vec4<f32>>;

override WG: u32 = 256;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * p.grid_x + wid.x) * WG + lid;
  if (i * 4u >= p.n) { return; }
  let g = grad[i] * scale[0];
  var w = param[i];
  w -= w * p.decay;
  let m1 = p.beta1 * m[i] + (1.0 - p.beta1) * g;
  let v1 = p.beta2 * v[i] + (1.0 - p.beta2) * g * g;
  m[i] = m1;
  v[i] = v1;
  param[i] = w - p.alpha * m1 / (sqrt(v1) + p.epsilon);
}
