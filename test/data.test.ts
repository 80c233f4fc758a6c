import { mkdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as wg from '../src/node.js';
import { imageDatasetFromDirectory } from '../src/data/image-dataset.js';
import { convertChannels, resizeBilinear } from '../src/data/image.js';
import { FASHION_MNIST_CLASSES, exportFashionMnist, loadFashionMnist } from '../examples/corpora/fashion-mnist.js';
import { gpu } from './helpers.js';

const root = `out/test/data-${process.pid}`;

/** A solid-colour image file of the given size and channels (1, 3 or 4), as PNG or JPEG. */
async function image(path: string, w: number, h: number, channels: 1 | 3 | 4, value: number, format: 'png' | 'jpeg' = 'png') {
  const raw = Buffer.alloc(w * h * channels, value);
  if (channels === 4) for (let i = 3; i < raw.length; i += 4) raw[i] = 128;
  const img = sharp(raw, { raw: { width: w, height: h, channels } });
  await (format === 'png' ? img.png() : img.jpeg({ quality: 100 })).toFile(path);
}

const data = suite('image and directory datasets');
data.before(async () => {
  await gpu();
  rmSync(root, { recursive: true, force: true });
  // Classes given out of order on disk; Keras sorts them.
  for (const c of ['zebra', 'apple', 'mango']) mkdirSync(join(root, 'tree', c), { recursive: true });
  await image(join(root, 'tree/apple/a1.png'), 10, 20, 1, 10);
  await image(join(root, 'tree/apple/a2.jpg'), 30, 15, 3, 20, 'jpeg');
  await image(join(root, 'tree/apple/a3.png'), 8, 8, 4, 30);
  await image(join(root, 'tree/mango/m1.png'), 12, 5, 3, 40);
  await image(join(root, 'tree/mango/m2.jpeg'), 7, 9, 1, 50, 'jpeg');
  await image(join(root, 'tree/zebra/z1.png'), 16, 16, 3, 60);
  await image(join(root, 'tree/zebra/z2.png'), 16, 16, 3, 70);
  const good = readFileSync(join(root, 'tree/zebra/z2.png'));
  writeFileSync(join(root, 'tree/zebra/truncated.png'), good.subarray(0, good.length / 2));
  writeFileSync(join(root, 'tree/zebra/notes.png'), 'this is a text file');
  writeFileSync(join(root, 'tree/mango/empty.png'), '');
  writeFileSync(join(root, 'tree/mango/readme.txt'), 'not an image extension: ignored');
});

data('classes are sorted folder names, labels follow them, and every file type and channel count loads', async () => {
  const warnings: string[] = [];
  const ds = imageDatasetFromDirectory(join(root, 'tree'), { imageSize: [6, 4], batchSize: 16, shuffle: false, warn: (m) => warnings.push(m) });
  assert.equal(ds.classNames, ['apple', 'mango', 'zebra']);
  const batches = [];
  for await (const b of ds) batches.push(b);
  assert.is(batches.length, 1);
  const b = batches[0];
  assert.equal(b.shape, [7, 6, 4, 3]);
  assert.equal(Array.from(await b.labels!.data()), [0, 0, 0, 1, 1, 2, 2]);
  // Solid images stay solid through resize and colour conversion (JPEG may move a level or two).
  const firstPixel = (i: number) => b.pixels[i * 6 * 4 * 3];
  [10, 20, 30, 40, 50, 60, 70].forEach((v, i) => assert.ok(Math.abs(firstPixel(i) - v) <= 2, `image ${i}: ${firstPixel(i)} vs ${v}`));
  // The truncated PNG, the text file named .png and the empty file are skipped, each named in a warning.
  assert.is(warnings.length, 3);
  for (const f of ['truncated.png', 'notes.png', 'empty.png']) assert.ok(warnings.some((w) => w.includes(f)), `warned about ${f}`);
  assert.is(ds.skippedFiles.length, 3);
});

data('strict mode throws on the first unreadable file, naming it', async () => {
  const ds = imageDatasetFromDirectory(join(root, 'tree'), { imageSize: [4, 4], shuffle: false, strict: true });
  try {
    for await (const b of ds) void b;
    assert.unreachable('should throw');
  } catch (e) {
    assert.match((e as Error).message, /(empty|truncated|notes)\.png: not a readable image/);
  }
});

data('label modes: int32 ids, one-hot categorical, and binary [B,1] for two classes only', async () => {
  const cat = imageDatasetFromDirectory(join(root, 'tree'), { imageSize: [4, 4], shuffle: false, labelMode: 'categorical', warn: () => {} });
  const b = (await cat.epoch().next()).value!;
  assert.equal(b.labels!.shape, [7, 3]);
  assert.equal((await b.labels!.array() as number[][])[3], [0, 1, 0]);
  const two = imageDatasetFromDirectory(join(root, 'tree'), { imageSize: [4, 4], shuffle: false, labelMode: 'binary', classNames: ['apple', 'zebra'], warn: () => {} });
  const bb = (await two.epoch().next()).value!;
  assert.equal(bb.labels!.shape, [5, 1]);
  assert.equal(Array.from(await bb.labels!.data()), [0, 0, 0, 1, 1]);
  const three = imageDatasetFromDirectory(join(root, 'tree'), { imageSize: [4, 4], labelMode: 'binary', warn: () => {} });
  await three.epoch().next().then(
    () => assert.unreachable(),
    (e: Error) => assert.match(e.message, /'binary' needs exactly 2 classes, found 3/),
  );
});

data('colour modes convert grey, RGB and RGBA as TensorFlow does', () => {
  const grey = { data: new Uint8Array([100]), width: 1, height: 1, channels: 1 };
  assert.equal(Array.from(convertChannels(grey, 'rgb').data), [100, 100, 100]);
  const rgba = { data: new Uint8Array([10, 20, 30, 40]), width: 1, height: 1, channels: 4 };
  assert.equal(Array.from(convertChannels(rgba, 'rgb').data), [10, 20, 30]);
  const rgb = { data: new Uint8Array([255, 0, 0]), width: 1, height: 1, channels: 3 };
  assert.equal(Array.from(convertChannels(rgb, 'grayscale').data), [Math.round(0.2989 * 255)]);
  assert.equal(Array.from(convertChannels(rgb, 'rgba').data), [255, 0, 0, 255]);
});

data('bilinear resize matches TensorFlow: half-pixel centres, and align-corners', () => {
  const img = { data: new Uint8Array([0, 10, 20, 30]), width: 2, height: 2, channels: 1 };
  // tf.image.resize([[0,10],[20,30]], [4,4]) row 0 and row 1
  assert.equal(Array.from(resizeBilinear(img, 4, 4).slice(0, 8)), [0, 2.5, 7.5, 10, 5, 7.5, 12.5, 15]);
  // tf.image.resize_bilinear(align_corners=True) to 3x3: corners kept, centre the mean
  assert.equal(Array.from(resizeBilinear(img, 3, 3, 'bilinear-align-corners')), [0, 5, 10, 10, 15, 20, 20, 25, 30]);
});

data('a seeded validation split is disjoint, complete and reproducible; without a seed it is refused', () => {
  const opts = { imageSize: [4, 4] as [number, number], validationSplit: 0.3, seed: 42 };
  const [train, val] = imageDatasetFromDirectory(join(root, 'tree'), { ...opts, subset: 'both' });
  const t = train.samples.map((s) => s.path);
  const v = val.samples.map((s) => s.path);
  assert.is(t.length + v.length, 10);
  assert.is(v.length, 3);
  assert.ok(t.every((p) => !v.includes(p)));
  const again = imageDatasetFromDirectory(join(root, 'tree'), { ...opts, subset: 'validation' });
  assert.equal(again.samples.map((s) => s.path), v);
  assert.throws(() => imageDatasetFromDirectory(join(root, 'tree'), { imageSize: [4, 4], validationSplit: 0.3, subset: 'training' }), /pass a seed/);
});

data('epochs reshuffle deterministically from the seed', () => {
  const ds = imageDatasetFromDirectory(join(root, 'tree'), { imageSize: [4, 4], seed: 3, batchSize: 3 });
  const order = (e: number) => ds.sampleBatches(e).flat().map((s) => s.path);
  assert.equal(order(0), order(0));
  assert.not.equal(order(0), order(1));
  assert.is(ds.length, 4);
});

data('an empty directory, a class without images and a missing class name give clear errors', () => {
  mkdirSync(join(root, 'empty'), { recursive: true });
  assert.throws(() => imageDatasetFromDirectory(join(root, 'empty')), /has no class sub-folders.*<class name>/);
  mkdirSync(join(root, 'hollow/cats'), { recursive: true });
  mkdirSync(join(root, 'hollow/dogs'), { recursive: true });
  writeFileSync(join(root, 'hollow/dogs/d.txt'), 'x');
  assert.throws(() => imageDatasetFromDirectory(join(root, 'hollow')), /hollow\/cats holds no images/);
  assert.throws(() => imageDatasetFromDirectory(join(root, 'tree'), { classNames: ['apple', 'kiwi'] }), /'kiwi' from classNames does not exist/);
  assert.throws(() => imageDatasetFromDirectory(join(root, 'missing')), /Cannot read dataset folder/);
});

data('Fashion-MNIST: IDX files from the Debian package, and an export in the Keras layout', async () => {
  const train = loadFashionMnist('train');
  assert.equal([train.count, train.rows, train.cols], [60000, 28, 28]);
  const test = loadFashionMnist('test');
  assert.is(test.count, 10000);
  assert.ok(Array.from(test.labels).every((l) => l < 10));
  const n = await exportFashionMnist(join(root, 'fmnist'), { split: 'test', perClass: 2, seed: 1 });
  assert.is(n, 20);
  const ds = imageDatasetFromDirectory(join(root, 'fmnist'), { imageSize: [28, 28], colorMode: 'grayscale', shuffle: false });
  assert.equal(ds.classNames, [...FASHION_MNIST_CLASSES].sort());
  assert.is(ds.samples.length, 20);
  assert.throws(() => loadFashionMnist('test', '/nonexistent'), /apt-get install dataset-fashion-mnist/);
});

data('an image with more pixels than maxPixels is refused from its header, before decoding; strict throws', async () => {
  const dir = join(root, 'huge');
  mkdirSync(join(dir, 'a'), { recursive: true });
  mkdirSync(join(dir, 'b'), { recursive: true });
  // 4000 x 3000 of one grey: a few KB on disk, 12 million pixels once decoded.
  await sharp({ create: { width: 4000, height: 3000, channels: 3, background: { r: 90, g: 90, b: 90 } } }).png().toFile(join(dir, 'a', 'huge.png'));
  await sharp({ create: { width: 20, height: 20, channels: 3, background: { r: 9, g: 9, b: 9 } } }).png().toFile(join(dir, 'b', 'small.png'));
  const warnings: string[] = [];
  const ds = imageDatasetFromDirectory(dir, { imageSize: [8, 8], batchSize: 2, maxPixels: 1_000_000, warn: (m) => warnings.push(m), shuffle: false });
  const batch = await ds.loadBatch(ds.samples);
  assert.is(batch!.samples.length, 1);
  assert.match(warnings[0], /huge\.png: 4000 x 3000 is 12,000,000 pixels, over the limit of 1,000,000; it was not decoded\. Shrink the image, or raise maxPixels/);
  const strict = imageDatasetFromDirectory(dir, { imageSize: [8, 8], batchSize: 2, maxPixels: 1_000_000, strict: true });
  await strict.loadBatch(strict.samples).then(
    () => assert.unreachable(),
    (e: Error) => assert.instance(e, wg.ImageDecodeError),
  );
  const roomy = imageDatasetFromDirectory(dir, { imageSize: [8, 8], batchSize: 2, maxPixels: 20_000_000 });
  assert.is((await roomy.loadBatch(roomy.samples))!.samples.length, 2);
  assert.throws(() => imageDatasetFromDirectory(dir, { maxPixels: 0 }), /maxPixels must be positive/);
});

data('a bad file in a prefetched batch that the consumer never reads leaves no unhandled rejection (strict mode)', async () => {
  const dir = join(root, 'prefetch');
  rmSync(dir, { recursive: true, force: true });
  await exportFashionMnist(dir, { split: 'test', perClass: 1, seed: 2 });
  const strict = imageDatasetFromDirectory(dir, { imageSize: [8, 8], batchSize: 2, strict: true, shuffle: false });
  // The second batch's first file is not an image.
  writeFileSync(strict.samples[2].path, 'not a png');
  const unhandled: unknown[] = [];
  const record = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', record);
  try {
    for await (const b of strict.epoch(0)) {
      assert.is(b.samples.length, 2);
      break; // stop after the first batch, while the second (with the bad file) is being prefetched
    }
    await new Promise((r) => setTimeout(r, 200));
  } finally {
    process.off('unhandledRejection', record);
  }
  assert.equal(unhandled, []);
  // Reading on reaches the bad file and throws it, as strict mode says.
  const again = imageDatasetFromDirectory(dir, { imageSize: [8, 8], batchSize: 2, strict: true, shuffle: false });
  const consume = async () => {
    for await (const b of again.epoch(0)) void b;
  };
  await consume().then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /not a readable image/));
});

data.run();