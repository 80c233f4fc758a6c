// A tiny model trained end to end on the GPU: a two-layer network separating three interleaved spirals.
// Run: npm run showcase
import * as wg from '../src/node.js';
import { leaveTsxSignalRelay, parseFlags } from '../scripts/cli.js';

await leaveTsxSignalRelay(import.meta.url); // Ctrl-C under `npx tsx` stops after the step, as under npm run
const args = parseFlags('npm run showcase --', 'Trains a two-layer network on three interleaved spirals and writes showcase.png.', {});
const info = await wg.init({ debug: args.debug });
console.log(`backend: ${info.description}`);

// Three spirals of 200 points each: a classic problem no linear model solves.
const perClass = 200;
const points: number[] = [];
const labels: number[] = [];
for (let c = 0; c < 3; c++) {
  for (let i = 0; i < perClass; i++) {
    const r = i / perClass;
    const t = c * 4 + 4 * r + Math.sin(i * 12.9898) * 0.2;
    points.push(r * Math.sin(t), r * Math.cos(t));
    labels.push(c);
  }
}
const x = wg.tensor(points, [3 * perClass, 2]);
const oneHot = wg.tensor(labels.flatMap((c) => [0, 1, 2].map((k) => (k === c ? 1 : 0))), [3 * perClass, 3]);

wg.manualSeed(0);
const w1 = wg.randn([2, 64], { std: 1, requiresGrad: true });
const b1 = wg.zeros([64], { requiresGrad: true });
const w2 = wg.randn([64, 3], { std: Math.sqrt(1 / 64), requiresGrad: true });
const b2 = wg.zeros([3], { requiresGrad: true });
const forward = () => wg.dense(wg.dense(x, w1, b1, 'relu'), w2, b2);
const optimizer = new wg.SGD([w1, b1, w2, b2], { learningRate: 0.5 });

const start = performance.now();
for (let step = 0; step <= 1000; step++) {
  const loss = wg.tidy(() => {
    // Cross-entropy from log-softmax: stable for any logits.
    const l = wg.neg(wg.mean(wg.sum(wg.mul(oneHot, wg.logSoftmax(forward())), 1)));
    l.backward();
    optimizer.step(); // in place, one kernel per parameter
    optimizer.zeroGrad();
    return l;
  });
  if (step % 200 === 0) console.log(`step ${String(step).padStart(4)}  loss ${(await loss.item()).toFixed(4)}`);
  loss.dispose();
}
const predicted = await wg.argmax(forward(), 1).data();
const accuracy = labels.filter((c, i) => predicted[i] === c).length / labels.length;
console.log(`train accuracy ${(accuracy * 100).toFixed(1)}% in ${((performance.now() - start) / 1000).toFixed(1)} s`);
