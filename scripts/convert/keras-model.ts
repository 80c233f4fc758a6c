import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { WgradError } from '../../src/errors.js';

/** One layer of a Keras functional model, as the layers-model JSON stores it. */
export interface KerasLayer {
  name: string;
  className: string;
  config: Record<string, unknown>;
  inbound: string[];
}

export interface KerasModel {
  layers: KerasLayer[];
  /** Dequantised weights by name ("Conv1/kernel", "bn_Conv1/gamma", ...), in float64. */
  weights: Map<string, { shape: number[]; values: Float64Array }>;
  /** The raw manifest and topology, for TensorFlow.js to load the same model. */
  topology: unknown;
  weightSpecs: WeightSpec[];
  weightData: ArrayBuffer;
}

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { min: number; scale: number; dtype: 'uint8' | 'uint16' };
}

/** Where nsfwjs@4.4.0 keeps its MobileNetV2 (a Keras layers-model in two UMD modules), inside the package. */
export const NSFWJS_MOBILENET_DIR = 'dist/models/mobilenet_v2';

/** The folder of the package.json named `name` above a resolved entry point (dist/ folders may hold their own). */
function packageRoot(entry: string, name: string): string {
  let dir = dirname(entry);
  const isRoot = (d: string) => existsSync(join(d, 'package.json')) && JSON.parse(readFileSync(join(d, 'package.json'), 'utf8')).name === name;
  while (!isRoot(dir)) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${entry}`);
    dir = up;
  }
  return dir;
}

/**
 * Reads the nsfwjs MobileNetV2 from node_modules: model.min.js exports the topology and weights manifest,
 * group1-shard1of1.min.js the weights as base64. Weights are dequantised as min + scale * byte.
 */
export function loadNsfwjsMobileNet(): KerasModel {
  const require = createRequire(import.meta.url);
  let model: { modelTopology: { model_config: { config: { layers: RawLayer[] } } }; weightsManifest: { weights: WeightSpec[] }[] };
  let base64: string;
  try {
    // The package's "exports" map hides these files, so they are required by absolute path from its root.
    const dir = join(packageRoot(require.resolve('nsfwjs'), 'nsfwjs'), NSFWJS_MOBILENET_DIR);
    model = require(join(dir, 'model.min.js'));
    base64 = require(join(dir, 'group1-shard1of1.min.js'));
  } catch (err) {
    throw new WgradError(
      `Cannot load the MobileNetV2 weights shipped in nsfwjs@4.4.0 (${(err as Error).message}). Run 'npm ci' to install dependencies.`,
    );
  }
  const bytes = Buffer.from(base64, 'base64');
  const specs = model.weightsManifest.flatMap((g) => g.weights);
  const weights = new Map<string, { shape: number[]; values: Float64Array }>();
  let offset = 0;
  for (const spec of specs) {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const values = new Float64Array(count);
    const q = spec.quantization;
    if (q?.dtype === 'uint8') {
      for (let i = 0; i < count; i++) values[i] = q.min + q.scale * bytes[offset + i];
      offset += count;
    } else if (!q && spec.dtype === 'float32') {
      const f = new Float32Array(bytes.buffer.slice(bytes.byteOffset + offset, bytes.byteOffset + offset + 4 * count));
      values.set(f);
      offset += 4 * count;
    } else {
      throw new WgradError(`Weight ${spec.name}: unsupported encoding ${JSON.stringify(q ?? spec.dtype)}.`);
    }
    weights.set(spec.name, { shape: spec.shape, values });
  }
  if (offset !== bytes.length) throw new WgradError(`nsfwjs weights: read ${offset} of ${bytes.length} bytes; the manifest does not match the data.`);
  const layers = model.modelTopology.model_config.config.layers.map((l) => ({
    name: l.name,
    className: l.class_name,
    config: l.config,
    inbound: (l.inbound_nodes[0] ?? []).map((n) => n[0]),
  }));
  return {
    layers,
    weights,
    topology: model.modelTopology,
    weightSpecs: specs,
    weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
  };
}

interface RawLayer {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  inbound_nodes: [string, number, number, unknown][][];
}
