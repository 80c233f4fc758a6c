// Where a dispatch's time goes on this adapter: recording it (wgrad's host code and Dawn's command encoder) against
// submitting it (the backend replaying the commands and the driver running them), for 1000 adds in one submit.
//   node --import tsx bench/dispatch-split.ts
// On Dawn's OpenGL backend the submit replays the commands on the calling thread, and llvmpipe runs each dispatch
// there before the call returns, so the wait after it is near zero: the submit column is the adapter's own cost.
import { GpuDevice } from '../src/device/device.js';
import { params } from '../src/device/uniforms.js';

const dev = await GpuDevice.create({ maxBatch: 4096 });
console.log(dev.description);
for (const n of [4, 4096, 65536]) {
  const [a, b] = [dev.alloc(n * 4), dev.alloc(n * 4)];
  const outs = Array.from({ length: 8 }, () => dev.alloc(n * 4));
  const grid: [number, number] = [Math.max(1, Math.ceil(n / 4 / 256)), 1];
  const uniforms = () => params('binary', { n, rank: 1, grid_x: grid[0], stage_shift: 0, shape: [n], a_strides: [1], b_strides: [1] });
  let last = '';
  for (let rep = 0; rep < 3; rep++) {
    await dev.sync();
    const t0 = performance.now();
    for (let i = 0; i < 1000; i++) dev.dispatch({ kernel: 'binary', constants: { OP: 0, SAME_SHAPE: true }, uniforms: uniforms(), read: [a, b], write: [outs[i % 8]], workgroups: grid });
    const t1 = performance.now();
    dev.flush();
    const t2 = performance.now();
    await dev.sync();
    const t3 = performance.now();
    last = `add of [${n}] (${grid[0]} workgroup(s)): record ${(t1 - t0).toFixed(1)} us, submit ${(t2 - t1).toFixed(1)} us a dispatch; then waited ${(t3 - t2).toFixed(1)} ms`;
  }
  console.log(last);
  for (const buf of [a, b, ...outs]) dev.free(buf);
}
