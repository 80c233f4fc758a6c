import { readFile } from 'node:fs/promises';
import type { Tensor } from '../tensor/tensor.js';
import { epochOrder, listLabelledFiles, splitSamples, type Sample, type SplitOptions } from './directory.js';
import { encodeLabels, type LabelMode } from './labels.js';
import { WgradError } from '../errors.js';
import type { Batch, Dataset, InputStage, TextStage } from '../train/dataset.js';

export interface TextDatasetOptions extends SplitOptions {
  batchSize?: number;
  labelMode?: LabelMode | null;
  /** Keep at most this many characters of each file. */
  maxLength?: number;
}

export interface TextBatch {
  texts: string[];
  labels: Tensor | null;
  samples: Sample[];
}

/** Text files from a class-per-folder tree (the aclImdb layout: train/pos, train/neg), streamed in batches. */
export class TextDataset implements Dataset {
  readonly batchSize: number;
  private readonly shuffle: boolean;
  private readonly seed: number;
  private readonly labelMode: LabelMode | null;
  private readonly maxLength: number | undefined;
  private nextEpoch = 0;

  constructor(
    readonly classNames: string[],
    readonly samples: Sample[],
    options: TextDatasetOptions,
  ) {
    this.batchSize = options.batchSize ?? 32;
    this.shuffle = options.shuffle ?? true;
    this.seed = options.seed ?? 0;
    this.labelMode = options.labelMode === undefined ? 'int' : options.labelMode;
    this.maxLength = options.maxLength;
  }

  get length(): number {
    return Math.ceil(this.samples.length / this.batchSize);
  }

  async loadBatch(samples: Sample[]): Promise<TextBatch> {
    const texts = await Promise.all(samples.map(async (s) => (await readFile(s.path, 'utf8')).slice(0, this.maxLength)));
    const labels = this.labelMode ? encodeLabels(samples.map((s) => s.label), this.labelMode, this.classNames.length) : null;
    return { texts, labels, samples };
  }

  async *epoch(epoch = this.nextEpoch++): AsyncGenerator<TextBatch> {
    const order = epochOrder(this.samples, this.shuffle, this.seed, epoch);
    for (let b = 0; b < this.length; b++) yield this.loadBatch(order.slice(b * this.batchSize, (b + 1) * this.batchSize));
  }

  /** Every text of the dataset (for TextVectorization.adapt), in listing order. */
  async allTexts(): Promise<string[]> {
    return (await this.loadBatch(this.samples)).texts;
  }

  [Symbol.asyncIterator](): AsyncGenerator<TextBatch> {
    return this.epoch();
  }

  /** Token-id batches through the model's TextVectorization. */
  async *batches(epoch: number, stage: InputStage | null): AsyncGenerator<Batch> {
    if (!stage || stage.accepts !== 'texts') {
      throw new WgradError('A text dataset needs a model whose input stage is a TextVectorization (new Model({ input: vectorizer, ... })).');
    }
    for await (const b of this.epoch(epoch)) yield { x: (stage as TextStage).call(b.texts), y: b.labels, size: b.texts.length, pixels: null };
  }
}

/** Keras's text_dataset_from_directory. Returns one dataset, or [training, validation] for subset 'both'. */
export function textDatasetFromDirectory(dir: string, options: TextDatasetOptions & { subset: 'both' }): [TextDataset, TextDataset];
export function textDatasetFromDirectory(dir: string, options?: TextDatasetOptions): TextDataset;
export function textDatasetFromDirectory(dir: string, options: TextDatasetOptions = {}): TextDataset | [TextDataset, TextDataset] {
  const { classes, samples } = listLabelledFiles(dir, ['.txt'], options.classNames, 'text files');
  const { training, validation } = splitSamples(samples, options);
  if (options.subset === 'both') return [new TextDataset(classes, training, options), new TextDataset(classes, validation, options)];
  return new TextDataset(classes, options.subset === 'validation' ? validation : training, options);
}
