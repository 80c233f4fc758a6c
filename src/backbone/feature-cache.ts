import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Sample } from '../data/directory.js';

/** A feature map stored sparsely: MobileNetV2's out_relu is ~96-98% exact zeros on small grey images. */
interface Sparse {
  length: number;
  index: Uint32Array;
  value: Float32Array;
}

function pack(features: Float32Array): Sparse {
  let nnz = 0;
  for (let i = 0; i < features.length; i++) if (features[i] !== 0) nnz++;
  const index = new Uint32Array(nnz);
  const value = new Float32Array(nnz);
  for (let i = 0, k = 0; i < features.length; i++) {
    if (features[i] !== 0) {
      index[k] = i;
      value[k++] = features[i];
    }
  }
  return { length: features.length, index, value };
}

function unpack(s: Sparse, into: Float32Array, offset: number): void {
  into.fill(0, offset, offset + s.length);
  for (let k = 0; k < s.index.length; k++) into[offset + s.index[k]] = s.value[k];
}

export interface FeatureCacheOptions {
  /** Also keep features on disk here, so that later runs start warm. */
  dir?: string;
}

/**
 * Frozen-backbone features by image file, keyed by path, size and mtime, and by the model file's hash (a new model or
 * an edited image misses). Kept in memory, and on disk when `dir` is given.
 */
export class FeatureCache {
  private memory = new Map<string, Sparse>();
  hits = 0;
  misses = 0;

  constructor(
    readonly modelHash: string,
    private readonly options: FeatureCacheOptions = {},
  ) {}

  private key(s: Sample): string {
    return `${this.modelHash}|${s.path}|${s.size}|${s.mtimeMs}`;
  }

  private file(key: string): string | null {
    if (!this.options.dir) return null;
    return join(this.options.dir, this.modelHash, createHash('sha1').update(key).digest('hex') + '.bin');
  }

  /** Writes the sample's features into `into` at `offset` and returns true, or returns false on a miss. */
  read(s: Sample, into: Float32Array, offset: number): boolean {
    const key = this.key(s);
    let entry = this.memory.get(key);
    const file = entry ? null : this.file(key);
    if (!entry && file && existsSync(file)) {
      const bytes = readFileSync(file);
      const length = bytes.readUInt32LE(0);
      const nnz = bytes.readUInt32LE(4);
      const buf = bytes.buffer.slice(bytes.byteOffset + 8, bytes.byteOffset + 8 + nnz * 8);
      entry = { length, index: new Uint32Array(buf, 0, nnz), value: new Float32Array(buf, nnz * 4, nnz) };
      this.memory.set(key, entry);
    }
    if (!entry) {
      this.misses++;
      return false;
    }
    this.hits++;
    unpack(entry, into, offset);
    return true;
  }

  write(s: Sample, features: Float32Array): void {
    const key = this.key(s);
    const entry = pack(features);
    this.memory.set(key, entry);
    const file = this.file(key);
    if (file) {
      mkdirSync(join(this.options.dir!, this.modelHash), { recursive: true });
      const head = Buffer.alloc(8);
      head.writeUInt32LE(entry.length, 0);
      head.writeUInt32LE(entry.index.length, 4);
      // Renamed into place, so a reader never sees half a file.
      writeFileSync(`${file}.partial`, Buffer.concat([head, Buffer.from(entry.index.buffer), Buffer.from(entry.value.buffer)]));
      renameSync(`${file}.partial`, file);
    }
  }

  get size(): number {
    return this.memory.size;
  }

  /** Bytes held in memory (the sparse form). */
  get bytes(): number {
    let n = 0;
    for (const e of this.memory.values()) n += e.index.byteLength + e.value.byteLength;
    return n;
  }

  /** Forgets everything, in memory and on disk. */
  clear(): void {
    this.memory.clear();
    this.hits = this.misses = 0;
    if (this.options.dir) rmSync(join(this.options.dir, this.modelHash), { recursive: true, force: true });
  }
}
