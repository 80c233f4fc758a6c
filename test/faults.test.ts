// The bad-input and fault catalogue: what a user can get wrong, and what wgrad must answer. Every case asserts the
// error's type and that its message names the problem (`problem`) and the fix (`fix`). Areas: ops, autograd,
// creation, layers, optimizers, losses, fit, files, datasets, the backbone, the cache, the device and init. Other
// suites test the harder faults at length (NaN: nonfinite.test.ts; interrupts: interrupt.test.ts; device-side
// index checks, freed graphs and sizes: errors.test.ts; damaged cache entries: backbone.test.ts).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as wg from '../src/node.js';
import { gpu } from './helpers.js';

const root = `out/test/faults-${process.pid}`;
type ErrorClass = new (...args: never[]) => Error;
interface Fault {
  area: string;
  case: string;
  run: () => unknown;
  type: ErrorClass;
  problem: RegExp;
  fix: RegExp;
}

const z = (shape: number[], options: { dtype?: 'float32' | 'int32' } = {}) => wg.zeros(shape, options);
const ids = (values: number[]) => wg.tensor(values, [values.length], { dtype: 'int32' });
const compiled = (inputShape: number[], loss = 'mse') => {
  const m = new wg.Model({ inputShape, layers: [new wg.Dense(1)] });
  m.compile({ optimizer: 'sgd', loss });
  return m;
};

const catalogue: Fault[] = [
  // ops
  { area: 'ops', case: 'matmul with mismatched inner dimensions', run: () => wg.matmul(z([2, 3]), z([4, 5])), type: wg.ShapeError, problem: /inner dimensions differ.*K=3.*K=4/, fix: /x's last axis must equal W's first/ },
  { area: 'ops', case: 'matmul of a vector', run: () => wg.matmul(z([3]), z([3, 2])), type: wg.ShapeError, problem: /rank >= 2.*\[3\]/, fix: /reshape a vector v to \[1, n\]/ },
  { area: 'ops', case: 'matmul of int32 tensors', run: () => wg.matmul(z([2, 2], { dtype: 'int32' }), z([2, 2])), type: wg.DTypeError, problem: /expects float32 tensors, got int32 \[2,2\]/, fix: /cast\(x, 'float32'\)/ },
  { area: 'ops', case: 'shapes that cannot broadcast', run: () => wg.add(z([2, 3]), z([4])), type: wg.ShapeError, problem: /\[2,3\] and \[4\] cannot broadcast/, fix: /reshape or expand one operand/ },
  { area: 'ops', case: 'an elementwise op on int32', run: () => wg.exp(z([2], { dtype: 'int32' })), type: wg.DTypeError, problem: /exp: expects a float32 tensor, got int32/, fix: /cast\(x, 'float32'\)/ },
  { area: 'ops', case: 'a reduction axis out of range', run: () => wg.sum(z([2, 3]), 2), type: wg.AxisError, problem: /axis 2 is out of range for a tensor of rank 2/, fix: /use an axis in \[-2, 1\]/ },
  { area: 'ops', case: 'a softmax axis out of range', run: () => wg.softmax(z([2, 3]), -3), type: wg.AxisError, problem: /axis -3 is out of range/, fix: /use an axis in/ },
  { area: 'ops', case: 'permute with a repeated axis', run: () => wg.permute(z([2, 3]), [0, 0]), type: wg.ShapeError, problem: /\[0,0\] is not a permutation/, fix: /name each axis 0\.\.1 once/ },
  { area: 'ops', case: 'reshape to another element count', run: () => wg.reshape(z([2, 3]), [4, 2]), type: wg.ShapeError, problem: /\[2,3\] \(6 elements\) to \[4,2\] \(8 elements\)/, fix: /element counts must match/ },
  { area: 'ops', case: 'reshape with two -1', run: () => wg.reshape(z([2, 3]), [-1, -1]), type: wg.ShapeError, problem: /more than one -1/, fix: /at most one -1/ },
  { area: 'ops', case: 'a slice past the end', run: () => wg.slice(z([2, 3]), [0, 2], [1, 5]), type: wg.IndexError, problem: /does not fit in \[2,3\] \(axis 1 has 3 elements\)/, fix: /begin \+ size must stay within/ },
  { area: 'ops', case: 'concat of mismatched shapes', run: () => wg.concat([z([2, 3]), z([2, 4])], 0), type: wg.ShapeError, problem: /\[2,3\], \[2,4\].*must match on every axis but 0/, fix: /must match/ },
  { area: 'ops', case: 'concat of nothing', run: () => wg.concat([], 0), type: wg.ShapeError, problem: /concat: needs at least one tensor/, fix: /at least one tensor/ },
  { area: 'ops', case: 'expand to an incompatible shape', run: () => wg.expand(z([2, 3]), [4, 3]), type: wg.ShapeError, problem: /cannot broadcast/, fix: /reshape or expand/ },
  { area: 'ops', case: 'squeeze of an axis that is not 1', run: () => wg.squeeze(z([2, 3]), 0), type: wg.ShapeError, problem: /axis 0 of \[2,3\] has size 2, not 1/, fix: /squeeze only axes of size 1/ },
  { area: 'ops', case: 'gather with float indices', run: () => wg.gather(z([3, 2]), z([2])), type: wg.DTypeError, problem: /indices must be int32, got float32/, fix: /dtype: 'int32'/ },
  { area: 'ops', case: 'gather from a rank-3 table', run: () => wg.gather(z([3, 2, 2]), ids([0])), type: wg.ShapeError, problem: /table must be a float32 matrix.*\[3,2,2\]/, fix: /reshape the table to \[rows, features\]/ },
  { area: 'ops', case: 'gather past the table', run: () => wg.gather(z([3, 2]), ids([5])), type: wg.IndexError, problem: /index 5 at position 0 is out of range for a table of 3 rows/, fix: /valid indices are 0\.\.2/ },
  { area: 'ops', case: 'dense with a bias of the wrong size', run: () => wg.dense(z([2, 3]), z([3, 4]), z([5])), type: wg.ShapeError, problem: /bias \[5\] must be \[4\]/, fix: /must be \[4\]/ },
  { area: 'ops', case: 'where with shapes that cannot broadcast', run: () => wg.where(z([2]), z([3]), z([3])), type: wg.ShapeError, problem: /cannot broadcast/, fix: /reshape or expand/ },
  { area: 'ops', case: 'cast to a dtype wgrad has not', run: () => wg.cast(z([2]), 'float64' as 'int32'), type: wg.DTypeError, problem: /cast: dtype 'float64' is not supported/, fix: /use 'float32' or 'int32'/ },
  { area: 'ops', case: 'dropout with a rate of 1.5', run: () => wg.dropout(z([2]), 1.5, { training: true }), type: wg.WgradError, problem: /rate 1\.5/, fix: /must be a number in \[0, 1\)/ },
  { area: 'ops', case: 'inputs on two backends', run: () => wg.add(z([2]), wg.zeros([2], { backend: 'cpu' })), type: wg.WgradError, problem: /inputs live on different backends \(webgpu, cpu\)/, fix: /await t\.to\('webgpu'\)/ },
  // creation
  { area: 'creation', case: 'ragged nested arrays', run: () => wg.tensor([[1, 2], [3]]), type: wg.ShapeError, problem: /nested arrays are ragged/, fix: /expected shape \[2,2\]/ },
  { area: 'creation', case: 'too few values for the shape', run: () => wg.tensor([1, 2, 3], [2, 2]), type: wg.ShapeError, problem: /3 values cannot fill shape \[2,2\] \(4 elements\)/, fix: /4 elements/ },
  { area: 'creation', case: 'an unknown dtype', run: () => wg.tensor([1], [1], { dtype: 'float64' as 'int32' }), type: wg.DTypeError, problem: /dtype 'float64' is not supported/, fix: /use 'float32' or 'int32'/ },
  { area: 'creation', case: 'a negative dimension', run: () => z([-1, 2]), type: wg.ShapeError, problem: /shape \[-1,2\] has a dimension that is not a non-negative integer/, fix: /give whole numbers >= 0/ },
  { area: 'creation', case: 'a fractional dimension', run: () => z([1.5]), type: wg.ShapeError, problem: /shape \[1\.5\]/, fix: /give whole numbers >= 0/ },
  { area: 'creation', case: 'an int32 value that is not a whole number', run: () => wg.tensor([0.5], [1], { dtype: 'int32' }), type: wg.IndexError, problem: /value 0\.5 at flat index 0 is not a 32-bit integer/, fix: /Round the values first/ },
  // tensors and autograd
  { area: 'autograd', case: 'item() of a tensor with two elements', run: () => z([2]).item(), type: RangeError, problem: /tensor has 2 elements, not 1/, fix: /use data\(\)/ },
  { area: 'autograd', case: 'a tensor used after dispose()', run: () => { const t = z([2]); t.dispose(); return wg.add(t, 1); }, type: wg.DisposedError, problem: /of shape \[2\] was used after dispose\(\)/, fix: /keep\(\) it, or return it from the tidy\(\)/ },
  { area: 'autograd', case: 'backward() of a non-scalar', run: () => wg.mul(wg.zeros([2], { requiresGrad: true }), 2).backward(), type: wg.AutogradError, problem: /output has shape \[2\], not a scalar/, fix: /reduce it first \(sum\(\) or mean\(\)\)/ },
  { area: 'autograd', case: 'backward() of a tensor that needs no gradient', run: () => wg.sum(z([2])).backward(), type: wg.AutogradError, problem: /does not require grad/, fix: /requiresGrad: true/ },
  { area: 'autograd', case: 'backward() with a gradient of the wrong shape', run: () => wg.mul(wg.zeros([2], { requiresGrad: true }), 2).backward(z([3])), type: wg.AutogradError, problem: /upstream gradient \[3\] does not match the output \[2\]/, fix: /pass a gradient of shape \[2\]/ },
  { area: 'autograd', case: 'an async function given to tidy()', run: () => wg.tidy((async () => 1) as unknown as () => number), type: TypeError, problem: /tidy\(\) needs a synchronous function/, fix: /await outside the scope/ },
  { area: 'autograd', case: 'gradcheck on WebGPU tensors', run: () => wg.gradcheck((x) => wg.sum(x), [wg.zeros([2], { requiresGrad: true })]), type: wg.AutogradError, problem: /inputs must be on the CPU backend \(float64\)/, fix: /backend: "cpu"/ },
  // layers
  { area: 'layers', case: 'Dense with 0 units', run: () => new wg.Dense(0), type: wg.WgradError, problem: /units must be a positive integer, got 0/, fix: /positive integer/ },
  { area: 'layers', case: 'Dense with an unknown activation', run: () => new wg.Dense(2, { activation: 'swish' as 'relu' }), type: wg.WgradError, problem: /unknown activation 'swish'/, fix: /use linear, relu, gelu, sigmoid, softmax or tanh/ },
  { area: 'layers', case: 'a built Dense given another input width', run: () => { const d = new wg.Dense(2); d.call(z([1, 3])); d.call(z([1, 4])); }, type: wg.ShapeError, problem: /input \[1,4\] has 4 features, but the layer was built for 3/, fix: /give it inputs of 3 features/ },
  { area: 'layers', case: 'Embedding given float ids', run: () => new wg.Embedding(5, 2).call(z([1, 2])), type: wg.DTypeError, problem: /Embedding takes int32 token ids, got float32/, fix: /dtype: 'int32'/ },
  { area: 'layers', case: 'attention heads that do not divide the width', run: () => new wg.MultiHeadSelfAttention(10, 3), type: wg.WgradError, problem: /embedDim 10 is not divisible by numHeads 3/, fix: /Choose numHeads among the divisors of 10/ },
  { area: 'layers', case: 'MultiHeadAttention on a rank-2 query', run: () => new wg.MultiHeadAttention(2, 4).call(z([1, 3])), type: wg.ShapeError, problem: /query \[1,3\].*must be \[batch, time, features\]/, fix: /\[batch, time, features\]/ },
  { area: 'layers', case: 'LayerNormalization of a scalar', run: () => new wg.LayerNormalization().call(z([])), type: wg.ShapeError, problem: /LayerNormalization: input \[\] has no feature axis/, fix: /give it \[batch, \.\.\., features\]/ },
  { area: 'layers', case: 'Reshape to another element count', run: () => new wg.Reshape([5]).call(z([1, 4])), type: wg.ShapeError, problem: /\(4 elements\) to \[1,5\] \(5 elements\)/, fix: /element counts must match/ },
  { area: 'layers', case: 'Dropout with a rate of 1', run: () => new wg.Dropout(1), type: wg.WgradError, problem: /rate 1 must be a number in \[0, 1\)/, fix: /a number in \[0, 1\)/ },
  // optimizers and schedules
  { area: 'optim', case: 'a negative learning rate', run: () => new wg.Adam([], { learningRate: -1 }), type: wg.WgradError, problem: /learningRate must be positive, got -1/, fix: /positive/ },
  { area: 'optim', case: 'SGD momentum of 2', run: () => new wg.SGD([], { momentum: 2 }), type: wg.WgradError, problem: /SGD: momentum 2/, fix: /must be in \[0, 1\)/ },
  { area: 'optim', case: 'CosineDecay over 0 steps', run: () => new wg.CosineDecay(0.1, { decaySteps: 0 }), type: wg.WgradError, problem: /decaySteps must be positive, got 0/, fix: /steps per epoch × epochs/ },
  // losses and metrics
  { area: 'losses', case: 'an unknown loss name', run: () => wg.getLoss('hinge'), type: wg.WgradError, problem: /Unknown loss 'hinge'/, fix: /use one of binary_crossentropy/ },
  { area: 'losses', case: 'an unknown metric name', run: () => wg.getMetric('auc'), type: wg.WgradError, problem: /Unknown metric 'auc'/, fix: /use one of accuracy/ },
  { area: 'losses', case: 'float labels for sparse categorical cross-entropy', run: () => wg.sparseCategoricalCrossentropy().call(z([2]), z([2, 3])), type: wg.LossMismatchError, problem: /labels must be int32 class ids, got float32/, fix: /dtype: 'int32'/ },
  { area: 'losses', case: 'categorical labels of the wrong shape', run: () => wg.categoricalCrossentropy().call(z([2, 2]), z([2, 3])), type: wg.LossMismatchError, problem: /labels \[2,2\] must have the predictions' shape \[2,3\]/, fix: /give one-hot labels \[2,3\]/ },
  { area: 'losses', case: 'mean squared error of mismatched sizes', run: () => wg.meanSquaredError().call(z([2]), z([3])), type: wg.LossMismatchError, problem: /labels \[2\] and predictions \[3\] differ in size/, fix: /give one label per output/ },
  // fit
  { area: 'fit', case: 'fit() before compile()', run: () => new wg.Model({ inputShape: [2], layers: [new wg.Dense(1)] }).fit({ x: z([2, 2]), y: z([2, 1]) }), type: wg.WgradError, problem: /call compile/, fix: /compile\(\{ optimizer, loss, metrics \}\)/ },
  { area: 'fit', case: 'a model with no input shape', run: () => { const m = new wg.Model({ layers: [new wg.Dense(1)] }); m.compile({ optimizer: 'sgd', loss: 'mse' }); return m.fit({ x: z([2, 2]), y: z([2, 1]) }); }, type: wg.WgradError, problem: /so that the layers can be built/, fix: /pass inputShape/ },
  { area: 'fit', case: 'an unknown optimizer name', run: () => { const m = new wg.Model({ inputShape: [2], layers: [new wg.Dense(1)] }); m.compile({ optimizer: 'rmsprop' as 'sgd', loss: 'mse' }); return m.fit({ x: z([2, 2]), y: z([2, 1]) }); }, type: wg.WgradError, problem: /Unknown optimizer 'rmsprop'/, fix: /use adam, adamw or sgd/ },
  { area: 'fit', case: 'fit() without labels', run: () => compiled([2]).fit({ x: z([2, 2]) }), type: wg.WgradError, problem: /fit\(\) needs labels/, fix: /pass y with x/ },
  { area: 'fit', case: 'x narrower than the model input', run: () => compiled([3]).fit({ x: z([2, 2]), y: z([2, 1]) }), type: wg.ShapeError, problem: /input \[2,2\] has 2 features, but the layer was built for 3/, fix: /give it inputs of 3 features/ },
  { area: 'fit', case: 'EarlyStopping on a key that is not logged', run: () => compiled([2]).fit({ x: z([2, 2]), y: z([2, 1]) }, { verbose: 0, callbacks: [new wg.EarlyStopping({ monitor: 'val_auc' })] }), type: wg.WgradError, problem: /'val_auc' is not in the logs/, fix: /pass validationData or monitor another key/ },
  // files
  { area: 'files', case: 'loadWeights from a missing file', run: () => compiled([2]).loadWeights(join(root, 'nope.safetensors')), type: wg.WgradError, problem: /nope\.safetensors does not exist/, fix: /saveWeights\(path\) first, or check the path/ },
  { area: 'files', case: 'readSafetensors of a folder', run: () => wg.readSafetensors(root), type: wg.WgradError, problem: /is a folder, not a weights file/, fix: /give the path of a \.safetensors file/ },
  { area: 'files', case: 'an ONNX path that does not exist', run: () => wg.MobileNetV2.load({ path: join(root, 'x.onnx') }), type: wg.WgradError, problem: /MobileNetV2 weights not found at .*x\.onnx/, fix: /Give the path of an ONNX file/ },
  { area: 'files', case: 'a file that is not an image', run: () => wg.decodeImage('package.json'), type: wg.ImageDecodeError, problem: /package\.json: not a readable image/, fix: /PNG, JPEG, WebP, GIF or TIFF/ },
  // datasets
  { area: 'datasets', case: 'an image folder that does not exist', run: () => wg.imageDatasetFromDirectory(join(root, 'nope')), type: wg.WgradError, problem: /nope: it does not exist/, fix: /<class name>\/<files>/ },
  { area: 'datasets', case: 'an image folder with no class folders', run: () => wg.imageDatasetFromDirectory(join(root, 'empty')), type: wg.WgradError, problem: /has no class sub-folders/, fix: /Expected the Keras layout/ },
  { area: 'datasets', case: 'a text folder that does not exist', run: () => wg.textDatasetFromDirectory(join(root, 'nope')), type: wg.WgradError, problem: /nope: it does not exist/, fix: /<class name>\/<files>/ },
  { area: 'datasets', case: 'a validation split without a subset', run: () => wg.imageDatasetFromDirectory(join(root, 'classes'), { validationSplit: 0.2 }), type: wg.WgradError, problem: /validationSplit needs subset/, fix: /'training', 'validation' or 'both'/ },
  { area: 'datasets', case: 'classNames naming a missing folder', run: () => wg.imageDatasetFromDirectory(join(root, 'classes'), { classNames: ['Nope'] }), type: wg.WgradError, problem: /class folder 'Nope' from classNames does not exist/, fix: /found: a, b/ },
  { area: 'datasets', case: 'TextVectorization used before adapt()', run: () => new wg.TextVectorization().call(['a b']), type: wg.WgradError, problem: /has no vocabulary yet/, fix: /call adapt\(texts\) first/ },
  // init and the device
  { area: 'init', case: 'an unknown backend', run: () => wg.init({ backend: 'metal' as 'cpu' }), type: wg.WgradError, problem: /backend 'metal' is not one of/, fix: /use 'webgpu' or 'cpu'/ },
  { area: 'init', case: 'WGRAD_BACKEND that names no backend', run: () => { process.env.WGRAD_BACKEND = 'vulkan'; try { return wg.init(); } finally { delete process.env.WGRAD_BACKEND; } }, type: wg.WgradError, problem: /WGRAD_BACKEND='vulkan' is not understood/, fix: /use 'cpu', 'webgpu', or 'webgpu:<adapter>'/ },
  { area: 'init', case: 'setBackend to an unknown backend', run: () => wg.setBackend('tpu' as 'cpu'), type: wg.WgradError, problem: /backend 'tpu' is not one of/, fix: /use 'webgpu' or 'cpu'/ },
  { area: 'device', case: 'a tensor larger than the adapter can bind', run: () => wg.rand([100000, 100000]), type: wg.ShapeError, problem: /more than this adapter's largest storage binding/, fix: /Split the work into smaller batches/ },
  { area: 'device', case: 'an adapter kind that does not exist', run: () => wg.init({ adapter: 'directx' as 'gpu' }), type: wg.WgradError, problem: /adapter 'directx' is not one of/, fix: /auto, gpu, opengl, opengles/ },
];

const faults = suite(`the bad-input and fault catalogue (${catalogue.length} cases)`);
faults.before(async () => {
  await gpu();
  rmSync(root, { recursive: true, force: true });
  mkdirSync(join(root, 'empty'), { recursive: true });
  for (const c of ['a', 'b']) {
    mkdirSync(join(root, 'classes', c), { recursive: true });
    writeFileSync(join(root, 'classes', c, 'x.png'), '');
  }
});

faults(`at least 60 cases, across every area`, () => {
  assert.ok(catalogue.length >= 60, `${catalogue.length} cases`);
  assert.equal([...new Set(catalogue.map((f) => f.area))].sort(), ['autograd', 'creation', 'datasets', 'device', 'files', 'fit', 'init', 'layers', 'losses', 'ops', 'optim']);
});

for (const f of catalogue) {
  faults(`${f.area}: ${f.case}`, async () => {
    let error: unknown = null;
    try {
      await f.run();
    } catch (e) {
      error = e;
    }
    assert.ok(error, 'no error was raised');
    const e = error as Error;
    assert.ok(e instanceof f.type, `a ${e.constructor.name} (${e.message}), not a ${f.type.name}`);
    assert.match(e.message, f.problem, `the problem: ${e.message}`);
    assert.match(e.message, f.fix, `the fix: ${e.message}`);
    assert.not.match(e.message, /\[object Object\]|undefined/, 'no placeholder leaked into the message');
  });
}

faults.run();
