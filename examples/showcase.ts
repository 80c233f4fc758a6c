// A tiny model trained end to end on the GPU: a two-layer network separating three interleaved spirals.
// Run: npm run showcase
import * as wg from '../src/index.ts';

const info = await wg.init();
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
const params = {
  w1: wg.randn([2, 64], { std: Math.sqrt(2 / 2), requiresGrad: true }),
  b1: wg.zeros([64], { requiresGrad: true }),
  w2: wg.randn([64, 3], { std: Math.sqrt(1 / 64), requiresGrad: true }),
  b2: wg.zeros([3], { requiresGrad: true }),
};
type Params = typeof params;

const forward = (p: Params) => wg.dense(wg.dense(x, p.w1, p.b1, 'relu'), p.w2, p.b2);

const start = performance.now();
let current: Params = params;
for (let step = 0; step <= 1000; step++) {
  const [loss, next] = wg.tidy(() => {
    const logits = forward(current);
    // Cross-entropy from log-softmax: stable for any logits.
    const l = wg.neg(wg.mean(wg.sum(wg.mul(oneHot, wg.logSoftmax(logits)), 1)));
    l.backward();
    const updated = wg.noGrad(() => {
      const out = {} as Params;
      for (const key of Object.keys(current) as (keyof Params)[]) out[key] = wg.sub(current[key], wg.mul(current[key].grad!, 0.5));
      return out;
    });
    return [l, updated] as const;
  });
  for (const t of Object.values(current)) {
    t.grad?.dispose();
    t.dispose();
  }
  for (const t of Object.values(next)) wg.keep(t).requiresGrad = true;
  current = next;
  if (step % 200 === 0) console.log(`step ${String(step).padStart(4)}  loss ${(await loss.item()).toFixed(4)}`);
  loss.dispose();
}
const predicted = await wg.argmax(forward(current), 1).data();
const accuracy = labels.filter((c, i) => predicted[i] === c).length / labels.length;
console.log(`train accuracy ${(accuracy * 100).toFixed(1)}% in ${((performance.now() - start) / 1000).toFixed(1)} s`);
