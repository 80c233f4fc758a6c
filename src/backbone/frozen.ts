import { WgradError } from '../errors.js';
import { tensor } from '../ops/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Sample } from '../data/directory.js';
import { prefetch, type ImageDataset, type ImageStage } from '../data/image-dataset.js';
import { encodeLabels } from '../data/labels.js';
import { FeatureCache, type FeatureCacheOptions } from './feature-cache.js';
import type { MobileNetV2 } from './mobilenet.js';

export interface FeatureBatch {
  features: Tensor;
  labels: Tensor | null;
  samples: Sample[];
  /** Pixels of the batch when the backbone had to run on all of it (for attention plots); null on cache hits. */
  pixels: Float32Array | null;
}

/**
 * A frozen backbone as the first stage of a model: images become features once. With the cache (the default) an
 * image's features are computed on first sight and reused for every later epoch; without augmentation they cannot
 * change, so later epochs never decode or run the backbone.
 */
export class FrozenBackbone implements ImageStage {
  readonly cache: FeatureCache | null;
  readonly accepts = 'images' as const;
  readonly outputDtype = 'float32' as const;

  constructor(
    readonly backbone: MobileNetV2,
    options: { noCache?: boolean } & FeatureCacheOptions = {},
  ) {
    this.cache = options.noCache ? null : new FeatureCache(backbone.modelHash, options);
  }

  get params(): number {
    return this.backbone.params;
  }

  get featureShape(): readonly number[] {
    return this.backbone.featureShape;
  }

  get outputShape(): readonly number[] {
    return this.backbone.featureShape;
  }

  /** Features [N, 7, 7, 1280] of pixels [N, 224, 224, 3] (0..255), uncached: for Model.predict on images. */
  async transform(x: Tensor): Promise<Tensor> {
    const s = this.backbone.inputSize;
    if (x.rank !== 4 || x.shape[1] !== s || x.shape[2] !== s || x.shape[3] !== 3) {
      throw new WgradError(`The backbone takes pixels [N, ${s}, ${s}, 3] (0..255, RGB); got [${x.shape.join(', ')}]. Resize the images to ${s}x${s} first (resizeBilinear), or pass a dataset.`);
    }
    return this.backbone.predict(Float32Array.from(await x.data()), x.shape[0]);
  }

  get summaryRow(): { name: string; type: string; params: number } {
    return { name: 'mobilenet_v2', type: 'MobileNetV2, frozen', params: this.params };
  }

  /** Features for one batch of samples: cached ones are read, the rest decoded and run through the backbone. */
  async batch(dataset: ImageDataset, samples: Sample[]): Promise<FeatureBatch | null> {
    const [h, w] = dataset.imageSize;
    if (h !== this.backbone.inputSize || w !== this.backbone.inputSize || dataset.channels !== 3) {
      throw new WgradError(
        `The backbone takes ${this.backbone.inputSize}x${this.backbone.inputSize} RGB images; the dataset gives ${h}x${w}x${dataset.channels}. ` +
          `Load it with imageSize [${this.backbone.inputSize}, ${this.backbone.inputSize}] and colorMode 'rgb'.`,
      );
    }
    const per = this.featureShape.reduce((a, b) => a * b, 1);
    const staged = new Float32Array(samples.length * per);
    const misses = samples.filter((s, i) => !this.cache?.read(s, staged, i * per, per));
    let pixels: Float32Array | null = null;
    let kept = samples;
    if (misses.length) {
      const loaded = await dataset.loadBatch(misses);
      const fresh = loaded ? await this.backbone.features(loaded.pixels, loaded.samples.length) : new Float32Array(0);
      const freshBy = new Map(loaded?.samples.map((s, i) => [s, fresh.subarray(i * per, (i + 1) * per)]) ?? []);
      for (const [s, f] of freshBy) this.cache?.write(s, f);
      // Unreadable files were skipped by the loader; drop them here too.
      kept = samples.filter((s) => !misses.includes(s) || freshBy.has(s));
      samples.forEach((s, i) => {
        const f = freshBy.get(s);
        if (f) staged.set(f, i * per);
      });
      if (misses.length === samples.length && loaded) pixels = loaded.pixels;
    }
    if (kept.length === 0) return null;
    const features = new Float32Array(kept.length * per);
    let at = 0;
    samples.forEach((s, i) => {
      if (kept.includes(s)) features.set(staged.subarray(i * per, (i + 1) * per), at++ * per);
    });
    const labels = dataset.labelMode ? encodeLabels(kept.map((s) => s.label), dataset.labelMode, dataset.classNames.length) : null;
    return { features: tensor(features, [kept.length, ...this.featureShape]), labels, samples: kept, pixels: kept.length === samples.length ? pixels : null };
  }

  /** One epoch of feature batches, preparing the next batch while the current one trains. */
  async *epoch(dataset: ImageDataset, epoch: number): AsyncGenerator<FeatureBatch> {
    const batches = dataset.sampleBatches(epoch);
    let pending = batches.length ? prefetch(this.batch(dataset, batches[0])) : null;
    for (let i = 0; i < batches.length; i++) {
      const b = await pending!;
      pending = i + 1 < batches.length ? prefetch(this.batch(dataset, batches[i + 1])) : null;
      if (b) yield b;
    }
  }
}
