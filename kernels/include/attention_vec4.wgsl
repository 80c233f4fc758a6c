// What the vec4 entry points (main_vec4) of the three attention kernels share: the head dims in vec4s as override
// constants, Q, K and V bound as vec4s (bindings 1-3 in all three kernels), and the scores of one query against
// 4 keys (the forward and the query-side backward). The including kernel includes attention_common.wgsl too.
override D4: u32 = 1u;  // head dim / 4
override DV4: u32 = 1u;  // value head dim / 4
@group(0) @binding(1) var<storage, read> Q4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> K4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> V4: array<vec4<f32>>;

// The query, already scaled, for scores4.
var<private> q4: array<vec4<f32>, 64>;

// Scaled scores of query q4 against keys r0 .. r3.
fn scores4(r0: vec2<u32>, r1: vec2<u32>, r2: vec2<u32>, r3: vec2<u32>) -> vec4<f32> {
  var d0 = vec4<f32>(0.0);
  var d1 = vec4<f32>(0.0);
  var d2 = vec4<f32>(0.0);
  var d3 = vec4<f32>(0.0);
  for (var c = 0u; c < D4; c++) {
    let qc = q4[c];
    d0 = fma(qc, K4[r0.x + c], d0);
    d1 = fma(qc, K4[r1.x + c], d1);
    d2 = fma(qc, K4[r2.x + c], d2);
    d3 = fma(qc, K4[r3.x + c], d3);
  }
  return vec4<f32>(sum4(d0), sum4(d1), sum4(d2), sum4(d3));
}
