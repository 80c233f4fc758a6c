import { WgradError } from '../errors.js';
import { host } from '../platform/host.js';

/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header mapping each name to
 * { dtype, shape, data_offsets } (plus "__metadata__" of strings), then the raw little-endian data.
 * encode/decode work on bytes anywhere; read/write add files (Node).
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

export type TensorsToSave = Record<string, { shape: readonly number[]; data: ArrayLike<number> }>;

const BYTES = { F32: 4, F64: 8, I32: 4 } as const;

/** Serialises float32 tensors. */
export function encodeSafetensors(tensors: TensorsToSave, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  const chunks: Uint8Array[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    const data = Float32Array.from(t.data);
    header[name] = { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, offset + data.byteLength] };
    offset += data.byteLength;
    chunks.push(new Uint8Array(data.buffer));
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const pad = (8 - ((8 + json.length) % 8)) % 8; // data starts 8-byte aligned
  if (pad) json = new TextEncoder().encode(JSON.stringify(header) + ' '.repeat(pad));
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Parses safetensors bytes; `name` (a path) is used in error messages. */
export function decodeSafetensors(bytes: Uint8Array, name = 'the safetensors bytes'): SafetensorsFile {
  const bad = (why: string) => new WgradError(`${name} is not a valid safetensors file: ${why}.`);
  if (bytes.length < 8) throw bad('it is shorter than its 8-byte header length');
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (8 + n > bytes.length) throw bad(`its header claims ${n} bytes but the file has ${bytes.length}`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  } catch {
    throw bad('its header is not JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw bad('its header is not a JSON object of tensors');
  const base = 8 + n;
  const dataBytes = bytes.length - base;
  const tensors: SafetensorsFile['tensors'] = {};
  const ranges: [number, number, string][] = [];
  const whole = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  let metadata: Record<string, string> = {};
  for (const [key, entry] of Object.entries(header as Record<string, unknown>)) {
    if (key === '__metadata__') {
      if (typeof entry !== 'object' || entry === null || Object.values(entry).some((v) => typeof v !== 'string')) throw bad("its '__metadata__' is not a map of strings");
      metadata = entry as Record<string, string>;
      continue;
    }
    const where = `tensor '${key}'`;
    if (typeof entry !== 'object' || entry === null) throw bad(`${where} is not an object with dtype, shape and data_offsets`);
    const { dtype, shape, data_offsets: offsets } = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof dtype !== 'string' || !(dtype in BYTES)) throw bad(`${where} has dtype ${JSON.stringify(dtype)}; wgrad reads F32, F64 and I32`);
    if (!Array.isArray(shape) || !shape.every(whole)) throw bad(`${where} has shape ${JSON.stringify(shape)}, not a list of non-negative whole numbers`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(whole) || offsets[0] > offsets[1]) {
      throw bad(`${where} has data_offsets ${JSON.stringify(offsets)}, not [start, end] with 0 <= start <= end`);
    }
    const [start, end] = offsets as [number, number];
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end - start !== count * BYTES[dtype as keyof typeof BYTES]) {
      throw bad(`${where} of shape [${shape}] ${dtype} needs ${count * BYTES[dtype as keyof typeof BYTES]} bytes, but its byte range [${start}, ${end}) holds ${end - start}`);
    }
    if (end > dataBytes) throw bad(`${where}'s byte range [${start}, ${end}) runs past the end of the data (${dataBytes} bytes; truncated?)`);
    ranges.push([start, end, key]);
    const slice = bytes.buffer.slice(bytes.byteOffset + base + start, bytes.byteOffset + base + end) as ArrayBuffer;
    const data = dtype === 'F32' ? new Float32Array(slice) : dtype === 'F64' ? new Float64Array(slice) : new Int32Array(slice);
    tensors[key] = { dtype: dtype as SafetensorsEntry['dtype'], shape: shape as number[], data };
  }
  ranges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  for (let k = 1; k < ranges.length; k++) {
    if (ranges[k][0] < ranges[k - 1][1]) throw bad(`tensors '${ranges[k - 1][2]}' and '${ranges[k][2]}' overlap in the data`);
  }
  return { tensors, metadata };
}

/** Writes float32 tensors to a file that appears whole or not at all (written beside the target, then renamed). */
export async function writeSafetensors(path: string, tensors: TensorsToSave, metadata: Record<string, string> = {}): Promise<void> {
  await (await host()).writeFileAtomic(path, [encodeSafetensors(tensors, metadata)]);
}

export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  let bytes: Uint8Array;
  try {
    bytes = await (await host()).readFile(path);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOENT') throw new WgradError(`Cannot read weights file ${path}: ${path} does not exist. Save weights with model.saveWeights(path) first, or check the path.`);
    if (code === 'EISDIR') throw new WgradError(`Cannot read weights file ${path}: it is a folder, not a weights file; give the path of a .safetensors file.`);
    throw new WgradError(`Cannot read weights file ${path}: ${(err as Error).message}`);
  }
  return decodeSafetensors(bytes, path);
}
