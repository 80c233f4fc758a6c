import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { WgradError } from '../../src/errors.js';
import { Rng } from '../../src/tensor/random.js';
import { convertChannels, resizeBilinear, type Interpolation } from '../../src/data/image.js';

/** Where Debian's dataset-fashion-mnist package installs the IDX files. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** Fashion-MNIST's class names, in label order (folder-safe forms of "T-shirt/top" and "Ankle boot"). */
export const FASHION_MNIST_CLASSES = ['T-shirt_top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle_boot'];

export interface IdxImages {
  count: number;
  rows: number;
  cols: number;
  pixels: Uint8Array;
  labels: Uint8Array;
}

/** Reads an IDX file (optionally gzipped): magic 0x0000 0x08 <rank>, big-endian dims, then unsigned bytes. */
export function readIdx(path: string): { dims: number[]; data: Uint8Array } {
  if (!existsSync(path)) {
    throw new WgradError(`${path} not found. Fashion-MNIST comes from Debian: apt-get install dataset-fashion-mnist (or pass its folder).`);
  }
  let bytes = readFileSync(path);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
  if (bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== 0x08) throw new WgradError(`${path} is not an unsigned-byte IDX file.`);
  const rank = bytes[3];
  const dims = Array.from({ length: rank }, (_, i) => bytes.readUInt32BE(4 + 4 * i));
  const data = new Uint8Array(bytes.buffer, bytes.byteOffset + 4 + 4 * rank, dims.reduce((a, b) => a * b, 1));
  return { dims, data };
}

/** Loads the 60k training or 10k test images (28x28 grey) with their labels. */
export function loadFashionMnist(split: 'train' | 'test', dir = FASHION_MNIST_DIR): IdxImages {
  const prefix = split === 'train' ? 'train' : 't10k';
  const images = readIdx(join(dir, `${prefix}-images-idx3-ubyte.gz`));
  const labels = readIdx(join(dir, `${prefix}-labels-idx1-ubyte.gz`));
  if (images.dims[0] !== labels.dims[0]) throw new WgradError(`Fashion-MNIST ${split}: ${images.dims[0]} images but ${labels.dims[0]} labels.`);
  return { count: images.dims[0], rows: images.dims[1], cols: images.dims[2], pixels: images.data, labels: labels.data };
}

/**
 * Writes `perClass` images of each class as PNG files in Keras's directory layout, out/<class>/<index>.png, picking
 * them with a seeded shuffle. Returns the number written. Existing files are kept, so reruns are cheap.
 */
export async function exportFashionMnist(outDir: string, options: { split: 'train' | 'test'; perClass: number; seed?: number; dir?: string }): Promise<number> {
  const sharp = (await import('sharp')).default;
  const data = loadFashionMnist(options.split, options.dir);
  const order = new Rng(options.seed ?? 0).shuffle(Array.from({ length: data.count }, (_, i) => i));
  const taken = new Array<number>(10).fill(0);
  let written = 0;
  for (const c of FASHION_MNIST_CLASSES) mkdirSync(join(outDir, c), { recursive: true });
  for (const i of order) {
    const label = data.labels[i];
    if (taken[label] >= options.perClass) continue;
    taken[label]++;
    const file = join(outDir, FASHION_MNIST_CLASSES[label], `${String(i).padStart(5, '0')}.png`);
    if (!existsSync(file)) {
      const px = data.pixels.subarray(i * data.rows * data.cols, (i + 1) * data.rows * data.cols);
      await sharp(Buffer.from(px), { raw: { width: data.cols, height: data.rows, channels: 1 } }).png().toFile(file);
    }
    written++;
    if (taken.every((t) => t >= options.perClass)) break;
  }
  return written;
}

/**
 * The first `perClass` images of each class, resized to size x size RGB (grey replicated), as 0..255 pixels ready
 * for a backbone, with their labels.
 */
export function fashionMnistPixels(
  split: 'train' | 'test',
  options: { perClass: number; size?: number; interpolation?: Interpolation; dir?: string },
): { pixels: Float32Array; labels: number[] } {
  const data = loadFashionMnist(split, options.dir);
  const size = options.size ?? 224;
  const picked: number[] = [];
  const taken = new Array<number>(10).fill(0);
  for (let i = 0; i < data.count && picked.length < options.perClass * 10; i++) {
    if (taken[data.labels[i]] < options.perClass) {
      taken[data.labels[i]]++;
      picked.push(i);
    }
  }
  const px = data.rows * data.cols;
  const pixels = new Float32Array(picked.length * size * size * 3);
  picked.forEach((i, n) => {
    const grey = data.pixels.subarray(i * px, (i + 1) * px);
    const rgb = convertChannels({ data: grey, width: data.cols, height: data.rows, channels: 1 }, 'rgb');
    pixels.set(resizeBilinear(rgb, size, size, options.interpolation ?? 'bilinear'), n * size * size * 3);
  });
  return { pixels, labels: picked.map((i) => data.labels[i]) };
}
