import { WgradError } from '../errors.js';
import { tensor } from '../ops/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import { epochOrder, listLabelledFiles, splitSamples, type Sample, type SplitOptions } from './directory.js';
import { decodeImage, ImageDecodeError } from './decode.js';
import { convertChannels, resizeBilinear, type ColorMode, type Interpolation } from './image.js';
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
    const decoded = await Promise.all(
      samples.map(async (s) => {
        if (this.skipped.has(s.path)) return null;
        try {
          return await decodeImage(s.path);
        } catch (err) {
          if (this.strict || !(err instanceof ImageDecodeError)) throw err;
          this.skipped.add(s.path);
          this.warn(`wgrad: skipping ${(err as Error).message}`);
          return null;
        }
      }),
    );
    const kept = samples.filter((_, i) => decoded[i]);
    if (kept.length === 0) return null;
    const c = this.channels;
    const pixels = new Float32Array(kept.length * h * w * c);
    let at = 0;
    for (const img of decoded) {
      if (!img) continue;
      pixels.set(resizeBilinear(convertChannels(img, this.colorMode), h, w, this.interpolation), at * h * w * c);
      at++;
    }
    const labels = this.labelMode ? encodeLabels(kept.map((s) => s.label), this.labelMode, this.classNames.length) : null;
    return { pixels, shape: [kept.length, h, w, c], labels, samples: kept };
  }

  /** One epoch of batches, loading the next batch while the current one is in use. */
  async *epoch(epoch = this.nextEpoch++): AsyncGenerator<ImageBatch> {
    const batches = this.sampleBatches(epoch);
    let pending = batches.length ? this.loadBatch(batches[0]) : null;
    for (let i = 0; i < batches.length; i++) {
      const batch = await pending!;
      pending = i + 1 < batches.length ? this.loadBatch(batches[i + 1]) : null;
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
