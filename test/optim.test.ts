// Optimizers against hand computations of Keras's update rules over a few steps, on both backends.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as wg from '../src/node.js';
import { assertClose, gpu } from './helpers.js';

const W0 = [0.5, -1.5, 2.0];
const GRADS = [
  [0.1, -0.2, 0.3],
  [0.4, 0.0, -0.5],
  [-0.3, 0.6, 0.2],
];

/** Runs three steps with fixed gradients, returning the weights after each. */
async function steps(backend: 'cpu' | 'webgpu', make: (p: wg.Tensor) => wg.Optimizer, grads = GRADS): Promise<number[][]> {
  const w = wg.tensor(W0, [3], { backend, requiresGrad: true });
  const opt = make(w);
  const out: number[][] = [];
  for (const g of grads) {
    w.grad = wg.keep(wg.tensor(g, [3], { backend }));
    opt.step();
    opt.zeroGrad();
    out.push(Array.from(await w.data()));
  }
  return out;
}

function handSgd(lr: number, momentum: number, nesterov: boolean): number[][] {
  const w = [...W0];
  const u = [0, 0, 0];
  return GRADS.map((g) => {
    for (let i = 0; i < 3; i++) {
      if (momentum === 0) w[i] -= lr * g[i];
      else {
        u[i] = momentum * u[i] - lr * g[i];
        w[i] += nesterov ? momentum * u[i] - lr * g[i] : u[i];
      }
    }
    return [...w];
  });
}

function handAdam(lr: number, b1: number, b2: number, eps: number, wd: number): number[][] {
  const w = [...W0];
  const m = [0, 0, 0];
  const v = [0, 0, 0];
  return GRADS.map((g, step) => {
    const t = step + 1;
    const alpha = (lr * Math.sqrt(1 - b2 ** t)) / (1 - b1 ** t);
    for (let i = 0; i < 3; i++) {
      w[i] -= w[i] * lr * wd;
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      w[i] -= (alpha * m[i]) / (Math.sqrt(v[i]) + eps);
    }
    return [...w];
  });
}

const optim = suite('optimizers');
optim.before(async () => {
  await gpu();
});

for (const backend of ['cpu', 'webgpu'] as const) {
  const tol = backend === 'cpu' ? { rtol: 1e-12, atol: 1e-12 } : { rtol: 1e-5, atol: 1e-6 };
  optim(`SGD plain, momentum and Nesterov match the hand computation (${backend})`, async () => {
    assertClose((await steps(backend, (p) => new wg.SGD([p], { learningRate: 0.1 }))).flat(), handSgd(0.1, 0, false).flat(), tol);
    assertClose((await steps(backend, (p) => new wg.SGD([p], { learningRate: 0.1, momentum: 0.9 }))).flat(), handSgd(0.1, 0.9, false).flat(), tol);
    assertClose((await steps(backend, (p) => new wg.SGD([p], { learningRate: 0.1, momentum: 0.9, nesterov: true }))).flat(), handSgd(0.1, 0.9, true).flat(), tol);
  });
  optim(`Adam with Keras defaults matches the hand computation (${backend})`, async () => {
    const got = await steps(backend, (p) => new wg.Adam([p]));
    assertClose(got.flat(), handAdam(1e-3, 0.9, 0.999, 1e-7, 0).flat(), tol);
  });
  optim(`AdamW decays weights as Keras does (${backend})`, async () => {
    const got = await steps(backend, (p) => new wg.AdamW([p], { learningRate: 0.01, weightDecay: 0.1 }));
    assertClose(got.flat(), handAdam(0.01, 0.9, 0.999, 1e-7, 0.1).flat(), tol);
  });
  optim(`global-norm clipping scales every gradient together (${backend})`, async () => {
    const a = wg.tensor([3], [1], { backend, requiresGrad: true });
    const b = wg.tensor([4], [1], { backend, requiresGrad: true });
    const opt = new wg.SGD([a, b], { learningRate: 1, globalClipNorm: 1 });
    a.grad = wg.keep(wg.tensor([3], [1], { backend }));
    b.grad = wg.keep(wg.tensor([4], [1], { backend }));
    opt.step(); // ||g|| = 5, so g becomes (0.6, 0.8)
    assertClose([...(await a.data()), ...(await b.data())], [2.4, 3.2], tol);
  });
}

optim('Keras defaults: Adam lr 1e-3, betas 0.9/0.999, epsilon 1e-7; SGD lr 0.01; AdamW decay 0.004', () => {
  const p = wg.zeros([1], { requiresGrad: true });
  const adam = new wg.Adam([p]);
  assert.equal([adam.learningRate, adam.beta1, adam.beta2, adam.epsilon], [1e-3, 0.9, 0.999, 1e-7]);
  assert.is(new wg.SGD([p]).learningRate, 0.01);
  assert.is((new wg.AdamW([p]) as unknown as { weightDecay: number }).weightDecay, 0.004);
});

optim('updates happen in place on the parameter buffers (no new tensors per step)', async () => {
  const w = wg.randn([64], { seed: 1, requiresGrad: true });
  const buffer = w.storage.gpu;
  const opt = new wg.Adam([w]);
  w.grad = wg.keep(wg.ones([64]));
  opt.step();
  await w.data();
  const before = wg.memory().tensors;
  opt.step();
  await w.data();
  assert.is(w.storage.gpu, buffer);
  assert.is(wg.memory().tensors, before);
});

optim('a parameter without a gradient, or frozen, is left alone', async () => {
  const a = wg.tensor([1, 2], [2], { requiresGrad: true });
  const b = wg.tensor([3, 4], [2], { requiresGrad: true });
  b.requiresGrad = false;
  const opt = new wg.SGD([a, b], { learningRate: 1 });
  b.grad = wg.keep(wg.ones([2]));
  opt.step();
  assert.equal(Array.from(await a.data()), [1, 2]);
  assert.equal(Array.from(await b.data()), [3, 4]);
});

optim('state saved mid-run and restored continues exactly as the uninterrupted run', async () => {
  const run = async (interrupt: boolean) => {
    const w = wg.tensor(W0, [3], { requiresGrad: true });
    let opt = new wg.Adam([['w', w]], { learningRate: 0.05 });
    for (let s = 0; s < 4; s++) {
      if (interrupt && s === 2) {
        const path = `out/test/optim-${process.pid}.safetensors`;
        await opt.save(path);
        const state = await opt.stateDict();
        assert.is(state.iterations, 2);
        opt.dispose();
        opt = new wg.Adam([['w', w]], { learningRate: 0.05 });
        await opt.load(path);
      }
      w.grad = wg.keep(wg.tensor(GRADS[s % 3], [3]));
      opt.step();
      opt.zeroGrad();
    }
    return Array.from(await w.data());
  };
  assert.equal(await run(true), await run(false));
});

optim('CosineDecay and ExponentialDecay follow Keras\'s formulas, warm-up and floor included', () => {
  const cos = new wg.CosineDecay(0.1, { decaySteps: 4 });
  assertClose([0, 1, 2, 3, 4, 9].map((t) => cos.at(t)), [0.1, 0.05 * (1 + Math.SQRT1_2), 0.05, 0.05 * (1 - Math.SQRT1_2), 0, 0], { rtol: 1e-14, atol: 1e-15 });
  const floor = new wg.CosineDecay(0.1, { decaySteps: 2, alpha: 0.1 });
  assertClose([0, 1, 2, 5].map((t) => floor.at(t)), [0.1, 0.1 * (0.9 * 0.5 + 0.1), 0.01, 0.01], { rtol: 1e-14, atol: 1e-15 });
  const warm = new wg.CosineDecay(0.1, { decaySteps: 2, warmupSteps: 2 });
  assertClose([0, 1, 2, 3, 4].map((t) => warm.at(t)), [0, 0.05, 0.1, 0.05, 0], { rtol: 1e-14, atol: 1e-15 });
  const exp = new wg.ExponentialDecay(0.1, { decaySteps: 2, decayRate: 0.5 });
  assertClose([0, 2, 3].map((t) => exp.at(t)), [0.1, 0.05, 0.1 * 0.5 ** 1.5], { rtol: 1e-14, atol: 1e-15 });
  const stairs = new wg.ExponentialDecay(0.1, { decaySteps: 2, decayRate: 0.5, staircase: true });
  assertClose([1, 3, 4].map((t) => stairs.at(t)), [0.1, 0.05, 0.025], { rtol: 1e-14, atol: 1e-15 });
});

for (const backend of ['cpu', 'webgpu'] as const) {
  optim(`a schedule sets each step's rate (${backend})`, async () => {
    if (backend === 'webgpu' && !(await gpu())) return;
    const tol = backend === 'cpu' ? { rtol: 1e-12, atol: 1e-12 } : { rtol: 1e-5, atol: 1e-6 };
    const lrs = [0.1, 0.05, 0];
    const w = [...W0];
    const want = GRADS.map((g, t) => w.map((x, i) => (w[i] = x - lrs[t] * g[i])));
    const got = await steps(backend, (p) => new wg.SGD([p], { learningRate: new wg.CosineDecay(0.1, { decaySteps: 2 }) }));
    assertClose(got.flat(), want.flat(), tol);
  });
}

optim('a schedule resumes where a restored optimizer left off, since it keys on the step count', async () => {
  const w = wg.tensor(W0, [3], { requiresGrad: true });
  const schedule = new wg.CosineDecay(0.1, { decaySteps: 4 });
  const opt = new wg.SGD([['w', w]], { learningRate: schedule });
  opt.loadStateDict({ iterations: 3, slots: {} });
  w.grad = wg.keep(wg.ones([3]));
  opt.step();
  assert.is(opt.learningRate, schedule.at(3));
});

optim('bad schedule settings are refused with the fix', () => {
  assert.throws(() => new wg.CosineDecay(0.1, { decaySteps: 0 }), /decaySteps must be positive.*steps per epoch/);
  assert.throws(() => new wg.CosineDecay(-1, { decaySteps: 10 }), /initialLearningRate must be positive/);
  assert.throws(() => new wg.CosineDecay(0.1, { decaySteps: 10, alpha: 2 }), /alpha is a fraction/);
  assert.throws(() => new wg.ExponentialDecay(0.1, { decaySteps: 10, decayRate: 0 }), /decayRate must be positive/);
});

optim('parameters that are not tensors are refused with the fix', () => {
  const w = wg.tensor(W0, [3], { requiresGrad: true });
  assert.throws(() => new wg.Adam({ w } as never), /must be an iterable of tensors or \[name, tensor\] pairs, got object; .*Object\.entries\(\)/);
  assert.throws(() => new wg.SGD([w, [1, 2, 3]] as never), /parameter 1 is neither a tensor nor a \[name, tensor\] pair \(got an array of 3\)/);
  assert.throws(() => new wg.SGD([['w', W0]] as never), /parameter 0 is neither/);
  assert.is(new wg.SGD(Object.entries({ w })).params[0][0], 'w');
  w.dispose();
});

optim.run();
