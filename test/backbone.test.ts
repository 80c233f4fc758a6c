// The converted MobileNetV2 against the original Keras model run by TensorFlow.js (an independent implementation),
// preprocessing against hand computations, the Model Zoo (NCHW) path, and the feature cache.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import sharp from 'sharp';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs';
import * as wg from '../src/node.js';
import { FrozenBackbone } from '../src/backbone/frozen.js';
import { loadNsfwjsMobileNet } from '../scripts/convert/keras-model.js';
import { DEFAULT_WEIGHTS, MobileNetV2 } from '../src/backbone/mobilenet.js';
import { loadPeer } from '../src/platform/peers.js';
import { GraphBuilder } from '../scripts/convert/onnx-writer.js';
import { imageDatasetFromDirectory } from '../src/data/image-dataset.js';
import { resizeBilinear } from '../src/data/image.js';
import { exportFashionMnist, fashionMnistPixels, loadFashionMnist } from '../examples/corpora/fashion-mnist.js';
import { softmaxProbe } from '../src/train/baselines.js';
import { gpu } from './helpers.js';

const dir = `out/test/backbone-${process.pid}`;
let backbone: MobileNetV2;

/** Real Fashion-MNIST test images, resized as nsfwjs does and replicated to RGB (pixels 0..255). */
function realImages(count: number): Float32Array {
  const data = loadFashionMnist('test');
  const out = new Float32Array(count * 224 * 224 * 3);
  for (let n = 0; n < count; n++) {
    const grey = data.pixels.subarray(n * 784, (n + 1) * 784);
    const rgb = new Uint8Array(784 * 3).map((_, i) => grey[Math.floor(i / 3)]);
    out.set(resizeBilinear({ data: rgb, width: 28, height: 28, channels: 3 }, 224, 224, 'bilinear-align-corners'), n * 224 * 224 * 3);
  }
  return out;
}

const bb = suite('MobileNetV2 backbone');
bb.before(async () => {
  await gpu();
  backbone = await MobileNetV2.load();
});

bb('the conversion matches the original Keras model run by TensorFlow.js on real images (max rel diff < 1e-4)', async () => {
  await tf.setBackend('cpu');
  const keras = loadNsfwjsMobileNet();
  const full = await tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: keras.topology as never, weightSpecs: keras.weightSpecs as never, weightData: keras.weightData }),
  );
  const body = tf.model({ inputs: full.inputs, outputs: full.getLayer('out_relu').output as tf.SymbolicTensor });
  const count = 2;
  const pixels = realImages(count);
  const scaled = pixels.map((v) => v / 255);
  const reference = (body.predict(tf.tensor(scaled, [count, 224, 224, 3])) as tf.Tensor).dataSync() as Float32Array;
  const ours = await backbone.features(pixels, count);
  let maxDiff = 0;
  let maxRef = 0;
  let refSum = 0;
  let ourSum = 0;
  let nonzeroMismatch = 0;
  for (let i = 0; i < reference.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(reference[i] - ours[i]));
    maxRef = Math.max(maxRef, Math.abs(reference[i]));
    refSum += reference[i];
    ourSum += ours[i];
    if ((reference[i] === 0) !== (ours[i] === 0) && Math.abs(reference[i] - ours[i]) > 1e-4) nonzeroMismatch++;
  }
  // Most of out_relu is exactly 0 on these images, so sums and non-zero positions are compared too (NOTES.md §5).
  assert.ok(maxDiff / maxRef < 1e-4, `max relative difference ${maxDiff / maxRef}`);
  assert.ok(Math.abs(refSum - ourSum) / refSum < 1e-5, `sums ${refSum} vs ${ourSum}`);
  assert.is(nonzeroMismatch, 0);
  assert.ok(reference.some((v) => v > 0.5), 'the features are not trivially zero');
  full.dispose();
});

bb('output shape, parameter count and layout of the bundled weights', async () => {
  assert.is(backbone.layout, 'nhwc');
  assert.is(backbone.preprocessing, 'unit');
  assert.is(backbone.interpolation, 'bilinear-align-corners');
  assert.is(backbone.params, 2_206_816);
  const t = await backbone.predict(realImages(1), 1);
  assert.equal(t.shape, [1, 7, 7, 1280]);
});

bb('preprocessing matches hand computations for unit, keras and imagenet scaling', async () => {
  const px = Float32Array.from({ length: 224 * 224 * 3 }, (_, i) => [0, 127.5, 255][i % 3]);
  const unit = backbone.preprocess(px, 1);
  assert.equal(Array.from(unit.slice(0, 3)), [0, 0.5, 1]);
  const keras = await MobileNetV2.load({ preprocessing: 'keras' });
  assert.equal(Array.from(keras.preprocess(px, 1).slice(0, 3)), [-1, 0, 1]);
  const imagenet = await MobileNetV2.load({ preprocessing: 'imagenet' });
  const v = imagenet.preprocess(px, 1);
  const expected = [(0 - 0.485) / 0.229, (0.5 - 0.456) / 0.224, (1 - 0.406) / 0.225];
  for (let c = 0; c < 3; c++) assert.ok(Math.abs(v[c] - expected[c]) < 1e-6);
});

bb('the preprocessing that fits the weights beats the wrong one by several points (softmax probe, Fashion-MNIST)', async () => {
  // Measured at 50/25 images per class: x/255 gave 80% test accuracy, Keras's x/127.5-1 65%.
  const train = fashionMnistPixels('train', { perClass: 50, interpolation: backbone.interpolation });
  const test = fashionMnistPixels('test', { perClass: 25, interpolation: backbone.interpolation });
  const accuracy = async (model: MobileNetV2) => {
    const features = async (d: typeof train) => model.predict(d.pixels, d.labels.length);
    const r = await softmaxProbe({ features: await features(train), labels: train.labels }, { features: await features(test), labels: test.labels }, 10);
    return r.testAccuracy;
  };
  const right = await accuracy(backbone);
  const wrong = await accuracy(await MobileNetV2.load({ preprocessing: 'keras' }));
  console.log(`\n  probe test accuracy: x/255 ${(right * 100).toFixed(1)}%, x/127.5-1 ${(wrong * 100).toFixed(1)}%`);
  assert.ok(right >= wrong + 0.05, `right ${right} vs wrong ${wrong}`);
  assert.ok(right > 0.7, `the probe learns (${right})`);
});

bb('chunking bounds memory without changing results', async () => {
  const px = realImages(3);
  const small = await MobileNetV2.load({ chunkSize: 1 });
  assert.equal(Array.from(await small.features(px, 3)), Array.from(await backbone.features(px, 3)));
});

bb('an ONNX Model Zoo style graph (NCHW, logits) is recognised and cut at its last feature map', async () => {
  // A stand-in for mobilenetv2-12.onnx with the same interface: NCHW input, a 7x7x1280 map, then pool and a classifier.
  const g = new GraphBuilder();
  const w = g.constant('w', [1280, 3, 32, 32], Array.from({ length: 1280 * 3 * 32 * 32 }, (_, i) => ((i % 7) - 3) / 1000));
  const conv = g.node('Conv', ['input', w], { kernel_shape: [32, 32], strides: [32, 32] });
  const relu = g.node('Relu', [conv]);
  const pool = g.node('GlobalAveragePool', [relu]);
  const flat = g.node('Flatten', [pool]);
  const fc = g.constant('fc', [1000, 1280], new Float32Array(1280 * 1000).fill(0.001));
  g.node('Gemm', [flat, fc], { transB: 1 }, 'output');
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}/zoo.onnx`, g.encode({ name: 'input', dims: ['N', 3, 224, 224] }, { name: 'output', dims: ['N', 1000] }, 'stand-in'));
  const zoo = await MobileNetV2.load({ path: `${dir}/zoo.onnx` });
  assert.is(zoo.layout, 'nchw');
  assert.is(zoo.preprocessing, 'imagenet');
  assert.is(zoo.params, 1280 * 3 * 32 * 32, 'the classifier was cut away');
  const f = await zoo.features(realImages(1), 1);
  assert.is(f.length, 7 * 7 * 1280);
});

bb('a missing or unreadable model file names the path and what to do', async () => {
  await MobileNetV2.load({ path: `${dir}/nope.onnx` }).then(
    () => assert.unreachable(),
    (e: Error) => assert.match(e.message, /not found at .*nope\.onnx\. Give the path of an ONNX file/),
  );
  writeFileSync(`${dir}/corrupt.onnx`, 'not a model');
  await MobileNetV2.load({ path: `${dir}/corrupt.onnx` }).then(
    () => assert.unreachable(),
    (e: Error) => assert.match(e.message, /corrupt\.onnx is not a readable ONNX model .*whole ONNX model/),
  );
});

bb('the shipped model loads from its model card; a card that does not match its file is not trusted', async () => {
  assert.is(backbone.layout, 'nhwc');
  assert.is(backbone.preprocessing, 'unit');
  assert.is(backbone.params, 2206816);
  // A copy whose card names other bytes is read as a foreign file: the graph is parsed, with the same answer.
  copyFileSync(DEFAULT_WEIGHTS, `${dir}/copy.onnx`);
  writeFileSync(`${dir}/copy.json`, JSON.stringify({ ...JSON.parse(readFileSync(DEFAULT_WEIGHTS.replace(/onnx$/, 'json'), 'utf8')), sha256: '0'.repeat(64), params: 1 }));
  const copy = await MobileNetV2.load({ path: `${dir}/copy.onnx` });
  assert.is(copy.params, 2206816, 'the parsed graph, not the stale card');
  await copy.dispose();
});

bb('a missing optional peer raises MissingPeerError naming the package and the install command', async () => {
  const name = 'wgrad-no-such-peer';
  await loadPeer(name, 'Testing the peer loader', () => import(name)).then(
    () => assert.unreachable(),
    (e: Error) => {
      assert.instance(e, wg.MissingPeerError);
      assert.match(e.message, /Testing the peer loader needs the optional package 'wgrad-no-such-peer'.*npm install wgrad-no-such-peer/);
    },
  );
});

bb('a cached second epoch runs no backbone; an edited file or a new model misses', async () => {
  const tree = `${dir}/tree`;
  rmSync(tree, { recursive: true, force: true });
  await exportFashionMnist(tree, { split: 'test', perClass: 1 });
  const ds = imageDatasetFromDirectory(tree, { imageSize: [224, 224], batchSize: 4, seed: 1, interpolation: backbone.interpolation });
  const counted = await MobileNetV2.load();
  const stage = new FrozenBackbone(counted, { dir: `${dir}/cache` });
  const run = async (epoch: number) => {
    const before = counted.imagesRun;
    let n = 0;
    for await (const b of stage.epoch(ds, epoch)) n += b.features.shape[0];
    return { ran: counted.imagesRun - before, n };
  };
  assert.equal(await run(0), { ran: 10, n: 10 });
  assert.equal(await run(1), { ran: 0, n: 10 });
  // A fresh process with the same disk cache starts warm.
  const warm = new FrozenBackbone(counted, { dir: `${dir}/cache` });
  const before = counted.imagesRun;
  for await (const b of warm.epoch(ds, 2)) void b;
  assert.is(counted.imagesRun, before);
  // The key is the file's contents. Touching it keeps the hit; new bytes of the same size under the old mtime (what
  // cp -p, rsync -t and tar leave) miss.
  const target = ds.samples[0];
  utimesSync(target.path, new Date(), new Date(Date.now() + 5000));
  const b1 = counted.imagesRun;
  for await (const b of stage.epoch(imageDatasetFromDirectory(tree, { imageSize: [224, 224], batchSize: 4, seed: 1 }), 3)) void b;
  assert.is(counted.imagesRun - b1, 0, 'the same bytes hit');
  const image = (shade: number) => sharp(Buffer.alloc(28 * 28, shade), { raw: { width: 28, height: 28, channels: 1 } }).png({ compressionLevel: 0 }).toFile(target.path);
  await image(40);
  utimesSync(target.path, 1_700_000_000, 1_700_000_000); // whole seconds, which every filesystem keeps exactly
  const stamp = statSync(target.path);
  for await (const b of stage.epoch(imageDatasetFromDirectory(tree, { imageSize: [224, 224], batchSize: 4, seed: 1 }), 4)) void b;
  await image(200); // other pixels, the same size: an uncompressed PNG's size depends only on its dimensions
  utimesSync(target.path, stamp.atime, stamp.mtime);
  assert.is(statSync(target.path).size, stamp.size);
  assert.is(statSync(target.path).mtimeMs, stamp.mtimeMs);
  const b2 = counted.imagesRun;
  for await (const b of stage.epoch(imageDatasetFromDirectory(tree, { imageSize: [224, 224], batchSize: 4, seed: 1 }), 5)) void b;
  assert.is(counted.imagesRun - b2, 1, 'new contents under the old size and mtime miss');
  // noCache recomputes every epoch.
  const uncached = new FrozenBackbone(counted, { noCache: true });
  const b3 = counted.imagesRun;
  for await (const b of uncached.epoch(ds, 0)) void b;
  assert.is(counted.imagesRun - b3, 10);
  stage.cache!.clear();
  assert.is(stage.cache!.size, 0);
});

bb('a damaged cache entry on disk (flipped bytes, truncated, foreign) is recomputed with a warning that names it', async () => {
  const tree = `${dir}/damaged`;
  const cacheDir = `${dir}/damaged-cache`;
  rmSync(tree, { recursive: true, force: true });
  rmSync(cacheDir, { recursive: true, force: true });
  await exportFashionMnist(tree, { split: 'test', perClass: 1 });
  const ds = imageDatasetFromDirectory(tree, { imageSize: [224, 224], batchSize: 5, seed: 1, interpolation: backbone.interpolation });
  const counted = await MobileNetV2.load();
  const epoch = async (stage: FrozenBackbone, e: number) => {
    const before = counted.imagesRun;
    const features: number[] = [];
    for await (const b of stage.epoch(ds, e)) features.push(await wg.sum(b.features).item());
    return { ran: counted.imagesRun - before, total: features.reduce((a, b) => a + b, 0) };
  };
  const first = await epoch(new FrozenBackbone(counted, { dir: cacheDir }), 0);
  assert.is(first.ran, 10);
  const files = readdirSync(`${cacheDir}/${counted.modelHash}`).filter((f) => f.endsWith('.bin')).map((f) => `${cacheDir}/${counted.modelHash}/${f}`);
  assert.is(files.length, 10);
  const flipped = readFileSync(files[0]);
  flipped[flipped.length - 3] ^= 0xff;
  writeFileSync(files[0], flipped);
  writeFileSync(files[1], readFileSync(files[1]).subarray(0, 40));
  writeFileSync(files[2], 'not an entry at all, but longer than the header is');
  const warnings: string[] = [];
  const fresh = new FrozenBackbone(counted, { dir: cacheDir, warn: (m) => warnings.push(m) });
  const second = await epoch(fresh, 1);
  assert.is(second.ran, 3, 'the three damaged entries were recomputed, the rest read');
  assert.is(fresh.cache!.corrupt, 3);
  // Recomputed and cached features are the same floats; only the per-batch float32 sums differ, since batches are
  // reshuffled each epoch (about 1e-7 relative here, measured 4e-8).
  assert.ok(Math.abs(second.total - first.total) <= 1e-5 * Math.abs(first.total), 'the same features as the first epoch');
  assert.is(warnings.length, 3);
  assert.ok(warnings.every((w) => /feature cache entry .*\.bin \(for .*\.png\) is damaged: .*Recomputing it\./.test(w)), warnings.join('\n'));
  assert.ok(warnings.some((w) => /checksum does not match/.test(w)));
  assert.ok(warnings.some((w) => /truncated/.test(w)));
  assert.ok(warnings.some((w) => /not a wgrad feature cache entry/.test(w)));
  const third = await epoch(new FrozenBackbone(counted, { dir: cacheDir, warn: (m) => warnings.push(m) }), 2);
  assert.is(third.ran, 0, 'the recomputed entries were rewritten whole');
  assert.is(warnings.length, 3);
  // Batches are reshuffled each epoch, so the per-batch float sums add up in another order.
  assert.ok(Math.abs(third.total - second.total) <= 1e-5 * Math.abs(second.total));
  await counted.dispose();
});

bb.run();
