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
  /** Where a warning about a corrupt entry goes (default console.warn). */
  warn?: (message: string) => void;
}

// An entry on disk: magic, format version, feature length, non-zeros, the first 16 bytes of the SHA-256 of the
// rest, then the non-zeros' indices (u32) and values (f32).
const MAGIC = 0x43464757; // 'WGFC'
const VERSION = 1;
const HEADER = 32;

const digest = (bytes: Uint8Array): Buffer => createHash('sha256').update(bytes).digest().subarray(0, 16);

/** Parses an entry, or says what is wrong with it. */
function parseEntry(bytes: Buffer): Sparse | string {
  if (bytes.length < HEADER) return `${bytes.length} bytes, shorter than its ${HEADER}-byte header`;
  if (bytes.readUInt32LE(0) !== MAGIC) return 'not a wgrad feature cache entry';
  if (bytes.readUInt32LE(4) !== VERSION) return `format version ${bytes.readUInt32LE(4)}, not ${VERSION}`;
  const length = bytes.readUInt32LE(8);
  const nnz = bytes.readUInt32LE(12);
  if (nnz > length || bytes.length !== HEADER + nnz * 8) return `${bytes.length} bytes where ${nnz} non-zeros need ${HEADER + nnz * 8} (truncated?)`;
  const body = bytes.subarray(HEADER);
  if (!digest(body).equals(bytes.subarray(16, 32))) return 'its checksum does not match its contents';
  const buf = body.buffer.slice(body.byteOffset, body.byteOffset + body.length);
  const index = new Uint32Array(buf, 0, nnz);
  for (let k = 0; k < nnz; k++) if (index[k] >= length || (k > 0 && index[k] <= index[k - 1])) return `index ${index[k]} at ${k} is out of order or range`;
  return { length, index, value: new Float32Array(buf, nnz * 4, nnz) };
}

function serialise(entry: Sparse): Buffer {
  const body = Buffer.concat([Buffer.from(entry.index.buffer, entry.index.byteOffset, entry.index.byteLength), Buffer.from(entry.value.buffer, entry.value.byteOffset, entry.value.byteLength)]);
  const head = Buffer.alloc(HEADER);
  head.writeUInt32LE(MAGIC, 0);
  head.writeUInt32LE(VERSION, 4);
  head.writeUInt32LE(entry.length, 8);
  head.writeUInt32LE(entry.index.length, 12);
  digest(body).copy(head, 16);
  return Buffer.concat([head, body]);
}

/**
 * Frozen-backbone features by image contents: keyed by the SHA-256 of the image file's bytes and by the model file's
 * hash, so an edited image or a new model misses, even when a copy kept the file's size and mtime (cp -p, rsync -t,
 * tar). Kept in memory, and on disk when `dir` is given; entries on disk carry a checksum, and a damaged one is
 * recomputed with a warning that names it.
 */
export class FeatureCache {
  private memory = new Map<string, Sparse>();
  hits = 0;
  misses = 0;
  /** Entries on disk found damaged and recomputed. */
  corrupt = 0;

  constructor(
    readonly modelHash: string,
    private readonly options: FeatureCacheOptions = {},
  ) {}

  /** Keys that read() computed for misses, for the write() that follows: the file is hashed once per miss. */
  private missed = new Map<Sample, string>();

  /** Hashing the file is cheap next to what a hit saves (a decode, a resize and a backbone run). */
  private key(s: Sample): string {
    return `${this.modelHash}|${createHash('sha256').update(readFileSync(s.path)).digest('hex')}`;
  }

  private file(key: string): string | null {
    if (!this.options.dir) return null;
    return join(this.options.dir, this.modelHash, createHash('sha1').update(key).digest('hex') + '.bin');
  }

  /** Writes the sample's `length` features into `into` at `offset` and returns true, or returns false on a miss. */
  read(s: Sample, into: Float32Array, offset: number, length = into.length - offset): boolean {
    let key: string;
    try {
      key = this.key(s);
    } catch {
      this.misses++;
      return false; // unreadable image: the loader reports it
    }
    let entry = this.memory.get(key);
    const file = entry ? null : this.file(key);
    if (!entry && file && existsSync(file)) {
      const parsed = parseEntry(readFileSync(file));
      if (typeof parsed === 'string' || parsed.length !== length) {
        this.corrupt++;
        const why = typeof parsed === 'string' ? parsed : `it holds ${parsed.length} features where the backbone gives ${length}`;
        (this.options.warn ?? ((m) => console.warn(m)))(`wgrad: feature cache entry ${file} (for ${s.path}) is damaged: ${why}. Recomputing it.`);
        rmSync(file, { force: true });
      } else {
        entry = parsed;
        this.memory.set(key, entry);
      }
    }
    if (!entry) {
      this.misses++;
      this.missed.set(s, key);
      return false;
    }
    this.hits++;
    unpack(entry, into, offset);
    return true;
  }

  write(s: Sample, features: Float32Array): void {
    const key = this.missed.get(s) ?? this.key(s);
    this.missed.delete(s);
    const entry = pack(features);
    this.memory.set(key, entry);
    const file = this.file(key);
    if (file) {
      mkdirSync(join(this.options.dir!, this.modelHash), { recursive: true });
      // Renamed into place, so a reader never sees half a file.
      writeFileSync(`${file}.partial`, serialise(entry));
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
