import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { WgradError } from '../errors.ts';

/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header mapping each name to
 * { dtype, shape, data_offsets } (plus "__metadata__" of strings), then the raw little-endian data.
 */
export interface SafetensorsEntry {
  dtype: 'F32' | 'F64' | 'I32';
  shape: number[];
  data: Float32Array | Float64Array | Int32Array;
}

export interface SafetensorsFile {
  tensors: Record<string, SafetensorsEntry>;
  metadata: Record<string, string>;
}

const BYTES = { F32: 4, F64: 8, I32: 4 } as const;

/** Writes float32 tensors. The file appears whole or not at all: it is written beside the target, then renamed. */
export async function writeSafetensors(
  path: string,
  tensors: Record<string, { shape: readonly number[]; data: ArrayLike<number> }>,
  metadata: Record<string, string> = {},
): Promise<void> {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  const chunks: Uint8Array[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    const data = Float32Array.from(t.data);
    header[name] = { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, offset + data.byteLength] };
    offset += data.byteLength;
    chunks.push(new Uint8Array(data.buffer));
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8); // data starts 8-byte aligned
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.partial-${process.pid}`;
  const file = await open(tmp, 'w');
  try {
    await file.write(head);
    await file.write(Buffer.from(json));
    for (const c of chunks) await file.write(c);
    await file.sync();
  } catch (err) {
    await file.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await file.close();
  await rename(tmp, path);
}

export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new WgradError(`Cannot read weights file ${path}: ${(err as Error).message}`);
  }
  const bad = (why: string) => new WgradError(`${path} is not a valid safetensors file: ${why}.`);
  if (bytes.length < 8) throw bad('it is shorter than its 8-byte header length');
  const n = Number(bytes.readBigUInt64LE(0));
  if (8 + n > bytes.length) throw bad(`its header claims ${n} bytes but the file has ${bytes.length}`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
  try {
    header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  } catch {
    throw bad('its header is not JSON');
  }
  const base = 8 + n;
  const tensors: SafetensorsFile['tensors'] = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets: [start, end] } = entry as { dtype: string; shape: number[]; data_offsets: [number, number] };
    if (!(dtype in BYTES)) throw bad(`tensor '${name}' has dtype ${dtype}; wgrad reads F32, F64 and I32`);
    const count = shape.reduce((a, b) => a * b, 1);
    if (end - start !== count * BYTES[dtype as keyof typeof BYTES] || base + end > bytes.length) {
      throw bad(`tensor '${name}' of shape [${shape}] does not match its byte range [${start}, ${end})`);
    }
    const slice = bytes.buffer.slice(bytes.byteOffset + base + start, bytes.byteOffset + base + end);
    const data = dtype === 'F32' ? new Float32Array(slice) : dtype === 'F64' ? new Float64Array(slice) : new Int32Array(slice);
    tensors[name] = { dtype: dtype as SafetensorsEntry['dtype'], shape, data };
  }
  return { tensors, metadata: (header.__metadata__ as Record<string, string>) ?? {} };
}
