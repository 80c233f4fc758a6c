import { WgradError } from '../errors.js';
import { tensor } from '../ops/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import type { TextStage } from '../train/dataset.js';

/** Python's string.punctuation, which Keras strips. */
const PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;

/** Keras's default standardisation, 'lower_and_strip_punctuation': lowercase, then Python's string.punctuation goes. */
export function standardize(text: string): string {
  return text.toLowerCase().replace(PUNCTUATION, '');
}

/**
 * Seed 2's custom_standardization (the Keras text-classification example's): lowercase, the `<br />` line breaks of
 * aclImdb reviews become spaces, then punctuation goes. Only `<br />` is replaced: a pattern for any `<...>` would
 * eat the text between a `<` and the next `>` (`bases (< 20 nucleotides long), ...<br />` lost its words).
 */
export function standardizeWithBreaks(text: string): string {
  return standardize(text.toLowerCase().replace(/<br \/>/g, ' '));
}

export interface TextVectorizationOptions {
  /** Vocabulary size including the padding (0) and OOV (1) entries. */
  maxTokens?: number;
  /** Pad or truncate every sequence to this length; without it, to the longest text of each call. */
  outputSequenceLength?: number;
  /** A function, the default 'lower_and_strip_punctuation' (Keras's: lowercase, punctuation stripped), or null for none. */
  standardize?: ((text: string) => string) | 'lower_and_strip_punctuation' | null;
}

export const PAD = '';
export const OOV = '[UNK]';

/**
 * Keras's TextVectorization with output_mode 'int': standardise, split on whitespace, map tokens to ids.
 * adapt() builds the vocabulary by frequency (ties broken alphabetically, so it is deterministic); id 0 is
 * padding and 1 the out-of-vocabulary token.
 */
export class TextVectorization implements TextStage {
  readonly accepts = 'texts' as const;
  readonly outputDtype = 'int32' as const;
  readonly summaryRow = { name: 'text_vectorization', type: 'TextVectorization', params: 0 };
  readonly maxTokens: number | undefined;
  readonly outputSequenceLength: number | undefined;
  private readonly standardizeFn: ((t: string) => string) | null;
  private vocab: string[] = [PAD, OOV];
  private index = new Map<string, number>();

  constructor(options: TextVectorizationOptions = {}) {
    this.maxTokens = options.maxTokens;
    if (this.maxTokens !== undefined && this.maxTokens < 3) throw new WgradError(`TextVectorization: maxTokens ${this.maxTokens} leaves no room beside padding and OOV.`);
    this.outputSequenceLength = options.outputSequenceLength;
    const s = options.standardize === undefined ? 'lower_and_strip_punctuation' : options.standardize;
    this.standardizeFn = s === 'lower_and_strip_punctuation' ? standardize : s;
  }

  tokenize(text: string): string[] {
    const clean = this.standardizeFn ? this.standardizeFn(text) : text;
    return clean.split(/\s+/).filter((t) => t.length > 0);
  }

  /** Builds the vocabulary from texts, or from a dataset's texts. */
  async adapt(source: Iterable<string> | AsyncIterable<{ texts: string[] }>): Promise<void> {
    const counts = new Map<string, number>();
    const add = (text: string) => {
      for (const t of this.tokenize(text)) counts.set(t, (counts.get(t) ?? 0) + 1);
    };
    if (Symbol.asyncIterator in (source as object)) {
      for await (const batch of source as AsyncIterable<{ texts: string[] }>) batch.texts.forEach(add);
    } else {
      for (const t of source as Iterable<string>) add(t);
    }
    const sorted = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([t]) => t);
    const room = this.maxTokens === undefined ? sorted.length : this.maxTokens - 2;
    this.setVocabulary(sorted.slice(0, room));
  }

  /** Sets the vocabulary (without the reserved padding and OOV entries). */
  setVocabulary(tokens: string[]): void {
    this.vocab = [PAD, OOV, ...tokens];
    this.index = new Map(tokens.map((t, i) => [t, i + 2]));
  }

  getVocabulary(): string[] {
    return [...this.vocab];
  }

  get vocabularySize(): number {
    return this.vocab.length;
  }

  get outputShape(): readonly number[] | null {
    return this.outputSequenceLength ? [this.outputSequenceLength] : null;
  }

  /** Token ids [texts, length] as int32, padded with 0 and truncated at outputSequenceLength. */
  call(texts: string[]): Tensor {
    if (this.index.size === 0) throw new WgradError('TextVectorization has no vocabulary yet: call adapt(texts) first, or setVocabulary(tokens).');
    const ids = texts.map((t) => this.tokenize(t).map((tok) => this.index.get(tok) ?? 1));
    const length = this.outputSequenceLength ?? Math.max(1, ...ids.map((r) => r.length));
    const flat = new Int32Array(texts.length * length);
    ids.forEach((row, i) => flat.set(row.slice(0, length), i * length));
    return tensor(flat, [texts.length, length], { dtype: 'int32' });
  }
}
