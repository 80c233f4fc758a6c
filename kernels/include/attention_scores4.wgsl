// The scores of one query against 4 keys, for the vec4 entry points of attention.wgsl and
// attention_backward_q.wgsl. The including kernel declares, by these names, the binding K4 (K as vec4s) and the
// override constant D4 (head dim / 4); the query, already scaled, goes in q4.
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
