import { WgradError } from '../errors.js';
import { tensor } from '../ops/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import { epochOrder, listLabelledFiles, splitSamples, type Sample, type SplitOptions } from './directory.js';
import { decodeImage, DEFAULT_MAX_PIXELS, ImageDecodeError, imagePixels } from './decode.js';
import { convertChannels, resizeBilinear, type ColorMode, type Interpolation, type RawImage } from './image.js';
import { encodeLabels, type LabelMode } from './labels.js';
import type { Batch, Dataset, InputStage } from '../train/dataset.js';

/** An input stage that turns an image dataset's batches into features (FrozenBackbone). */
export interface ImageStage extends InputStage {
  readonly accepts: 'images';
  epoch(dataset: ImageDataset, epoch: number): AsyncGenerator<{ features: Tensor; labels: Tensor | null; samples: Sample[]; pixels: Float32Array | null }>;
}

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.bmp', '.gif', '.webp'];

export interface ImageDatasetOptions extends SplitOptions {
  /** [height, width] every image is resized to (Keras's default is [256, 256]). */
  imageSize?: [number, number];
  batchSize?: number;
  labelMode?: LabelMode | null;
  colorMode?: ColorMode;
  interpolation?: Interpolation;
  /** Throw on an unreadable file instead of skipping it with a warning. */
  strict?: boolean;
  /**
   * Refuse (skip, or throw when strict) images with more pixels than this, read from their headers before decoding
   * (default 89,478,485, PIL's limit). It also bounds the memory of a batch's decodes: images decode in parallel
   * only while their pixels together stay under it.
   */
  maxPixels?: number;
  /** Where skip warnings go (default console.warn). */
  warn?: (message: string) => void;
}

/** One batch: pixels on the host (0..255 floats, NHWC), labels on the device, and the files they came from. */
export interface ImageBatch {
  pixels: Float32Array;
  shape: [number, number, number, number];
  labels: Tensor | null;
  samples: Sample[];
}

/**
 * Images from a class-per-folder tree, streamed in batches: each epoch decodes only the batch at hand (and the next,
 * prefetched while the current one is used), reshuffled per epoch from the seed.
 */
export class ImageDataset implements Dataset {
  readonly batchSize: number;
  readonly imageSize: [number, number];
  readonly colorMode: ColorMode;
  readonly interpolation: Interpolation;
  readonly labelMode: LabelMode | null;
  private readonly shuffle: boolean;
  private readonly seed: number;
  private readonly strict: boolean;
  private readonly maxPixels: number;
  private readonly warn: (m: string) => void;
  private readonly skipped = new Set<string>();
  private nextEpoch = 0;

  constructor(
    readonly classNames: string[],
    readonly samples: Sample[],
    options: ImageDatasetOptions,
  ) {
    this.batchSize = options.batchSize ?? 32;
    this.imageSize = options.imageSize ?? [256, 256];
    this.colorMode = options.colorMode ?? 'rgb';
    this.interpolation = options.interpolation ?? 'bilinear';
    this.labelMode = options.labelMode === undefined ? 'int' : options.labelMode;
    this.shuffle = options.shuffle ?? true;
    this.seed = options.seed ?? 0;
    this.strict = options.strict ?? false;
    this.maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
    if (!(this.maxPixels > 0)) throw new WgradError(`maxPixels must be positive, got ${this.maxPixels}.`);
    this.warn = options.warn ?? ((m) => console.warn(m));
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) throw new WgradError(`batchSize must be a positive integer, got ${this.batchSize}.`);
  }

  get channels(): number {
    return this.colorMode === 'grayscale' ? 1 : this.colorMode === 'rgb' ? 3 : 4;
  }

  /** Batches per epoch. */
  get length(): number {
    return Math.ceil(this.samples.length / this.batchSize);
  }

  /** Files that could not be read and were left out. */
  get skippedFiles(): string[] {
    return [...this.skipped];
  }

  /** The files of each batch of an epoch, without decoding anything. */
  sampleBatches(epoch: number): Sample[][] {
    const order = epochOrder(this.samples, this.shuffle, this.seed, epoch);
    return Array.from({ length: this.length }, (_, b) => order.slice(b * this.batchSize, (b + 1) * this.batchSize));
  }

  /** Decodes, converts and resizes a batch. Unreadable files are skipped with a warning (or thrown when strict). */
  async loadBatch(samples: Sample[]): Promise<ImageBatch | null> {
    const [h, w] = this.imageSize;
    const skip = (s: Sample, err: unknown): null => {
      if (this.strict || !(err instanceof ImageDecodeError)) throw err;
      this.skipped.add(s.path);
      this.warn(`wgrad: skipping ${(err as Error).message}`);
      return null;
    };
    // Headers first (cheap): they give each image's size, so that decodes run in parallel only while their pixels
    // together stay under maxPixels (4 images of 0.9 GiB each no longer decode at once).
    const sizes = await Promise.all(samples.map(async (s) => (this.skipped.has(s.path) ? null : imagePixels(s.path).catch((err) => skip(s, err)))));
    // Each image is resized into its slot as soon as it is decoded, and its full-size pixels dropped.
    const c = this.channels;
    const per = h * w * c;
    const slots = new Float32Array(samples.length * per);
    const ok: boolean[] = new Array(samples.length).fill(false);
    const place = (i: number, img: RawImage) => {
      slots.set(resizeBilinear(convertChannels(img, this.colorMode), h, w, this.interpolation), i * per);
      ok[i] = true;
    };
    let wave: Promise<void>[] = [];
    let inFlight = 0;
    for (let i = 0; i < samples.length; i++) {
      const size = sizes[i];
      if (!size) continue;
      if (inFlight > 0 && inFlight + size.pixels > this.maxPixels) {
        await Promise.all(wave);
        wave = [];
        inFlight = 0;
      }
      inFlight += size.pixels;
      const s = samples[i];
      wave.push(decodeImage(s.path, { maxPixels: this.maxPixels }).then((img) => place(i, img), (err) => void skip(s, err)));
    }
    await Promise.all(wave);
    const kept = samples.filter((_, i) => ok[i]);
    if (kept.length === 0) return null;
    let pixels = slots;
    if (kept.length < samples.length) {
      pixels = new Float32Array(kept.length * per);
      let at = 0;
      ok.forEach((good, i) => good && pixels.set(slots.subarray(i * per, (i + 1) * per), at++ * per));
    }
    const labels = this.labelMode ? encodeLabels(kept.map((s) => s.label), this.labelMode, this.classNames.length) : null;
    return { pixels, shape: [kept.length, h, w, c], labels, samples: kept };
  }

  /** One epoch of batches, loading the next batch while the current one is in use. */
  async *epoch(epoch = this.nextEpoch++): AsyncGenerator<ImageBatch> {
    const batches = this.sampleBatches(epoch);
    let pending = batches.length ? prefetch(this.loadBatch(batches[0])) : null;
    for (let i = 0; i < batches.length; i++) {
      const batch = await pending!;
      pending = i + 1 < batches.length ? prefetch(this.loadBatch(batches[i + 1])) : null;
      if (batch) yield batch;
    }
  }

  [Symbol.asyncIterator](): AsyncGenerator<ImageBatch> {
    return this.epoch();
  }

  /** Batches for the trainable layers: features when the model starts with a backbone, else pixels [B, H, W, C]. */
  async *batches(epoch: number, stage: InputStage | null): AsyncGenerator<Batch> {
    if (stage && stage.accepts !== 'images') {
      throw new WgradError(`An image dataset cannot feed a ${stage.summaryRow.type} input stage, which takes ${stage.accepts}.`);
    }
    if (stage) {
      for await (const b of (stage as ImageStage).epoch(this, epoch)) yield { x: b.features, y: b.labels, size: b.samples.length, pixels: b.pixels };
      return;
    }
    for await (const b of this.epoch(epoch)) yield { x: batchImages(b), y: b.labels, size: b.samples.length, pixels: b.pixels };
  }
}

/**
 * Marks a prefetched batch's promise as handled. A consumer that stops early (a break, an error in its step, a
 * Ctrl-C) never awaits the batch it did not reach; if that batch fails (a bad file in strict mode), Node would
 * otherwise end the process with an unhandled rejection. Awaiting it still throws.
 */
export function prefetch<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/** The pixels of a batch as a [B, H, W, C] float32 tensor (values 0..255). */
export function batchImages(batch: ImageBatch): Tensor {
  return tensor(batch.pixels, batch.shape);
}

/**
 * Keras's image_dataset_from_directory: dir/<class>/<image> files, classes from the sorted folder names, images
 * resized bilinearly to `imageSize` and converted to `colorMode`, labels as `labelMode`, an optional seeded
 * validation split. Returns one dataset, or [training, validation] for subset 'both'.
 */
export function imageDatasetFromDirectory(dir: string, options: ImageDatasetOptions & { subset: 'both' }): [ImageDataset, ImageDataset];
export function imageDatasetFromDirectory(dir: string, options?: ImageDatasetOptions): ImageDataset;
export function imageDatasetFromDirectory(dir: string, options: ImageDatasetOptions = {}): ImageDataset | [ImageDataset, ImageDataset] {
  const { classes, samples } = listLabelledFiles(dir, IMAGE_EXTENSIONS, options.classNames, 'images');
  const { training, validation } = splitSamples(samples, options);
  if (options.subset === 'both') return [new ImageDataset(classes, training, options), new ImageDataset(classes, validation, options)];
  return new ImageDataset(classes, options.subset === 'validation' ? validation : training, options);
}
