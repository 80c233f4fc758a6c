import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as wg from '../src/node.js';
import { gpu } from './helpers.js';

const errors = suite('bad input gives clear errors');
errors.before(async () => {
  await gpu();
});

const throwsWith = (fn: () => unknown, type: new (...a: never[]) => Error, pattern: RegExp) =>
  assert.throws(fn, (e: Error) => e instanceof type && pattern.test(e.message));

for (const backend of ['cpu', 'webgpu'] as const) {
  const opts = { backend };
  errors(`matmul inner-dimension mismatch names both shapes (${backend})`, () => {
    throwsWith(() => wg.matmul(wg.zeros([2, 3], opts), wg.zeros([4, 5], opts)), wg.ShapeError, /\[2,3\].*K=3.*\[4,5\].*K=4/);
    throwsWith(() => wg.matmul(wg.zeros([3], opts), wg.zeros([3, 2], opts)), wg.ShapeError, /rank >= 2.*\[3\]/);
  });
  errors(`shapes that cannot broadcast (${backend})`, () => {
    throwsWith(() => wg.add(wg.zeros([2, 3], opts), wg.zeros([4], opts)), wg.ShapeError, /\[2,3\] and \[4\] cannot broadcast/);
  });
  errors(`reshape to the wrong number of elements (${backend})`, () => {
    throwsWith(() => wg.reshape(wg.zeros([2, 3], opts), [4, 2]), wg.ShapeError, /\[2,3\] \(6 elements\) to \[4,2\] \(8 elements\)/);
    throwsWith(() => wg.reshape(wg.zeros([2, 3], opts), [4, -1]), wg.ShapeError, /cannot reshape \[2,3\]/);
  });
  errors(`axis out of range (${backend})`, () => {
    throwsWith(() => wg.sum(wg.zeros([2, 3], opts), 2), wg.AxisError, /axis 2 is out of range for a tensor of rank 2/);
    throwsWith(() => wg.softmax(wg.zeros([2, 3], opts), -3), wg.AxisError, /axis -3/);
    throwsWith(() => wg.transpose(wg.zeros([2, 3], opts), 0, 5), wg.AxisError, /axis 5/);
  });
  errors(`gather indices out of range, not integers, or not int32 (${backend})`, () => {
    const table = wg.zeros([5, 2], opts);
    throwsWith(() => wg.gather(table, wg.tensor([0, 5], [2], { ...opts, dtype: 'int32' })), wg.IndexError, /index 5 at position 1 is out of range.*\[5,2\].*0\.\.4/);
    throwsWith(() => wg.gather(table, wg.tensor([-1], [1], { ...opts, dtype: 'int32' })), wg.IndexError, /index -1/);
    throwsWith(() => wg.tensor([0, 1.5], [2], { ...opts, dtype: 'int32' }), wg.IndexError, /1\.5 at flat index 1 is not a 32-bit integer/);
    throwsWith(() => wg.gather(table, wg.tensor([0, 1], [2], opts)), wg.DTypeError, /indices must be int32.*dtype: 'int32'/);
  });
  errors(`use after dispose (${backend})`, () => {
    const t = wg.ones([2, 2], opts);
    t.dispose();
    throwsWith(() => wg.add(t, 1), wg.DisposedError, /\[2,2\] was used after dispose/);
  });
  errors(`mixed backends are refused (${backend})`, () => {
    const other = backend === 'cpu' ? 'webgpu' : 'cpu';
    throwsWith(() => wg.add(wg.ones([2], opts), wg.ones([2], { backend: other })), wg.WgradError, /different backends.*to\(/);
  });
}

errors('backward on a non-scalar without an upstream gradient', () => {
  const x = wg.ones([2, 3], { requiresGrad: true });
  throwsWith(() => wg.mul(x, 2).backward(), wg.AutogradError, /shape \[2,3\], not a scalar/);
});

errors('slice outside the tensor, concat of mismatched shapes, bad expand', () => {
  throwsWith(() => wg.slice(wg.zeros([3, 4]), [1, 2], [3, 1]), wg.IndexError, /does not fit in \[3,4\]/);
  throwsWith(() => wg.concat([wg.zeros([2, 3]), wg.zeros([2, 4])], 0), wg.ShapeError, /\[2,3\], \[2,4\].*every axis but 0/);
  throwsWith(() => wg.expand(wg.zeros([2, 3]), [4, 3]), wg.ShapeError, /cannot broadcast|cannot be expanded/);
});

errors('tensor() rejects ragged arrays and wrong sizes', () => {
  throwsWith(() => wg.tensor([[1, 2], [3]]), wg.ShapeError, /ragged/);
  throwsWith(() => wg.tensor([1, 2, 3], [2, 2]), wg.ShapeError, /3 values cannot fill shape \[2,2\]/);
});

errors('WGRAD_BACKEND with an unknown value says what is accepted', async () => {
  process.env.WGRAD_BACKEND = 'tpu';
  try {
    await wg.init().then(
      () => assert.unreachable('init should reject'),
      (e: Error) => assert.match(e.message, /WGRAD_BACKEND='tpu' is not understood; use 'cpu', 'webgpu'/),
    );
  } finally {
    delete process.env.WGRAD_BACKEND;
  }
});

errors('an int32 tensor refuses values that are not whole numbers (Int32Array.from would truncate 0.5 to 0)', () => {
  throwsWith(() => wg.tensor([0, 0.5, 2], [3], { dtype: 'int32' }), wg.IndexError, /value 0\.5 at flat index 1 is not a 32-bit integer.*Round the values first/);
  throwsWith(() => wg.fromHost([2 ** 31], [1], { dtype: 'int32' }), wg.IndexError, /value 2147483648 at flat index 0/);
  throwsWith(() => wg.fromHost([NaN], [1], { dtype: 'int32' }), wg.IndexError, /value NaN/);
});

errors('backward() through a graph that tidy() freed raises, instead of leaving .grad null', () => {
  const w = wg.tensor([1, 2, 3], [3], { requiresGrad: true });
  const loss = wg.tidy(() => wg.sum(wg.mul(wg.exp(w), 2)));
  throwsWith(() => loss.backward(), wg.AutogradError, /graph behind this tensor was freed.*disposed \(by tidy\(\) or dispose\(\)\).*Call backward\(\) inside the tidy\(\)/);
  assert.is(w.grad, null);
});

errors('fit on tensors in memory: a bad batchSize, or y with another number of examples than x, is refused before training', async () => {
  const model = new wg.Model({ inputShape: [2], layers: [new wg.Dense(2, { activation: 'softmax' })] });
  model.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy' });
  const x = wg.zeros([4, 2]);
  const rejects = async (p: Promise<unknown>, pattern: RegExp) => p.then(() => assert.unreachable(), (e: Error) => assert.match(e.message, pattern));
  await rejects(model.fit({ x, y: wg.tensor([0, 1, 0, 1], [4], { dtype: 'int32' }), batchSize: 0 }, { verbose: 0 }), /batchSize must be a positive whole number, got 0/);
  await rejects(model.fit({ x, y: wg.tensor([0, 1, 0, 1, 1], [5], { dtype: 'int32' }) }, { verbose: 0 }), /x has 4 examples but y has 5: give one label row per example/);
  await rejects(model.fit({ x, y: wg.tensor([0, 1, 9, 1], [4], { dtype: 'int32' }) }, { verbose: 0 }), /label 9 at position 2 is not a class id in 0\.\.1/);
});

errors('binary cross-entropy refuses labels outside {0, 1}, as int32 ids and as floats in memory', async () => {
  const bce = wg.binaryCrossentropy({ fromLogits: true });
  throwsWith(() => bce.call(wg.tensor([0, 3, 2], [3, 1], { dtype: 'int32' }), wg.zeros([3, 1])), wg.LossMismatchError, /label 3 at position 1 is not 0 or 1.*sparseCategoricalCrossentropy/);
  const model = new wg.Model({ inputShape: [2], layers: [new wg.Dense(1)] });
  model.compile({ optimizer: 'sgd', loss: bce });
  await model.fit({ x: wg.zeros([3, 2]), y: wg.tensor([0, 1, 0.5], [3, 1]) }, { verbose: 0 }).then(
    () => assert.unreachable(),
    (e: Error) => {
      assert.instance(e, wg.LossMismatchError);
      assert.match(e.message, /label 0\.5 at position 2 is not 0 or 1/);
    },
  );
});

for (const backend of ['cpu', 'webgpu'] as const) {
  errors(`indices computed on the device are range-checked, never clamped (${backend})`, async () => {
    const opts = { backend };
    const table = wg.tensor([[1, 1], [2, 2], [3, 3]], undefined, opts);
    const computed = (values: number[]) => wg.cast(wg.tensor(values, [values.length], opts), 'int32');
    // WebGPU raises at the next readback (the kernel flags the first violation); the reference raises at once.
    const read = async (f: () => wg.Tensor) => (await f().data(), assert.unreachable('read rows outside the table'));
    await read(() => wg.gather(table, computed([0, 7, -3]))).then(
      () => assert.unreachable(),
      (e: Error) => {
        assert.instance(e, wg.IndexError);
        assert.match(e.message, /gather: index 7 at position 1 .*out of range for a table of 3 rows \[3,2\]; valid indices are 0\.\.2/);
      },
    );
    assert.equal(Array.from(await wg.gather(table, computed([2, 0])).data()), [3, 3, 1, 1], 'the next readback is clean');
    // Rows of whole vec4 words take the kernel's word-at-a-time entry point, which checks the same way.
    const wide = wg.tensor([[1, 1, 1, 1], [2, 2, 2, 2], [3, 3, 3, 3]], undefined, opts);
    await read(() => wg.gather(wide, computed([2, 0, 4]))).then(
      () => assert.unreachable(),
      (e: Error) => assert.match(e.message, /gather: index 4 at position 2 .*out of range for a table of 3 rows \[3,4\]/),
    );
    assert.equal(Array.from(await wg.gather(wide, computed([2, 0])).data()), [3, 3, 3, 3, 1, 1, 1, 1]);
    if (backend === 'cpu') return; // an Embedding's table lives on the default backend, WebGPU here
    const embedding = new wg.Embedding(5, 2);
    await read(() => embedding.call(computed([1, 9]))).then(
      () => assert.unreachable(),
      (e: Error) => assert.match(e.message, /index 9 at position 1 .*table of 5 rows/),
    );
  });
}

errors('creation ops refuse a tensor the backend cannot hold before allocating anything on the host', () => {
  // Each of these would allocate gigabytes on the host before the adapter refused the buffer.
  const t0 = performance.now();
  for (const make of [() => wg.rand([100000, 100000]), () => wg.randn([50000, 50000]), () => wg.eye(60000), () => wg.zeros([2 ** 16, 2 ** 16]), () => wg.arange(0, 4e9)]) {
    throwsWith(make, wg.ShapeError, /takes \d+ MiB as float32, more than this adapter's largest storage binding \(\d+ MiB\)\. Split the work/);
  }
  throwsWith(() => wg.full([2 ** 31], 0, { backend: 'cpu' }), wg.ShapeError, /the CPU reference holds at most 2,147,483,647 per tensor/);
  throwsWith(() => wg.arange(0, Infinity), wg.ShapeError, /the range is not finite/);
  assert.ok(performance.now() - t0 < 2000, 'refused at once, without filling host memory');
});

errors.run();