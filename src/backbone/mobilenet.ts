import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WgradError } from '../errors.ts';
import { tensor } from '../ops/creation.ts';
import type { Tensor } from '../tensor.ts';
import type { Interpolation } from '../data/image.ts';
import { convertMobileNetV2 } from './convert.ts';
import { loadNsfwjsMobileNet } from './keras-model.ts';
import { onnx } from './onnx-writer.ts';

/** The converted nsfwjs weights, built by `npm run weights` (or on first use). */
export const DEFAULT_WEIGHTS = fileURLToPath(new URL('../../weights/mobilenet_v2_1.0_224.onnx', import.meta.url));

/**
 * How pixel values 0..255 are scaled before the network, which must match how its weights were trained:
 * - 'unit': x / 255, for the nsfwjs weights (their classify() divides by 255 after an align-corners resize);
 * - 'imagenet': (x / 255 - mean) / std per channel, for the ONNX Model Zoo's mobilenetv2-12.onnx;
 * - 'keras': x / 127.5 - 1, Keras's mobilenet_v2.preprocess_input, for Keras-trained weights.
 */
export type Preprocessing = 'unit' | 'imagenet' | 'keras';

const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];

export interface MobileNetV2Options {
  path?: string;
  /** Overrides the preprocessing inferred from the file (for weights of your own). */
  preprocessing?: Preprocessing;
  /** ONNX Runtime intra-op threads (default: all available cores). */
  threads?: number;
  /** Images per ONNX Runtime call: bounds the memory of large batches. */
  chunkSize?: number;
}

type OrtModule = typeof import('onnxruntime-node');
let ort: OrtModule | null = null;

/** Reads a model file, building the default one from nsfwjs when it is missing. */
function modelBytes(path: string): Uint8Array {
  if (!existsSync(path)) {
    if (path !== DEFAULT_WEIGHTS) {
      throw new WgradError(`MobileNetV2 weights not found at ${path}. Build the bundled ones with 'npm run weights', or give the path of an ONNX file.`);
    }
    buildDefaultWeights();
  }
  try {
    return readFileSync(path);
  } catch (err) {
    throw new WgradError(`Cannot read MobileNetV2 weights ${path}: ${(err as Error).message}. Rebuild them with 'npm run weights'.`);
  }
}

/** Converts the nsfwjs Keras model and writes weights/mobilenet_v2_1.0_224.onnx. */
export function buildDefaultWeights(path = DEFAULT_WEIGHTS): { path: string; params: number; bytes: number } {
  const { bytes, params } = convertMobileNetV2(loadNsfwjsMobileNet());
  mkdirSync(dirname(path), { recursive: true });
  // Written beside the target and renamed, so a crash never leaves a truncated model behind.
  writeFileSync(`${path}.partial`, bytes);
  renameSync(`${path}.partial`, path);
  return { path, params, bytes: bytes.length };
}

interface Inspected {
  bytes: Uint8Array;
  layout: 'nhwc' | 'nchw';
  preprocessing: Preprocessing;
  params: number;
  inputName: string;
  outputName: string;
}

const dimsOf = (v: import('onnx-proto').onnx.IValueInfoProto) => (v.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimValue != null ? Number(d.dimValue) : -1));

/**
 * Tells the bundled conversion (NHWC in, 7x7x1280 NHWC out) from an ONNX Model Zoo MobileNetV2 (NCHW in, logits
 * out). A Zoo graph is cut where GlobalAveragePool reads the last feature map, and a Transpose makes it NHWC.
 */
function inspect(raw: Uint8Array, path: string): Inspected {
  let model: import('onnx-proto').onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(raw);
  } catch (err) {
    throw new WgradError(`${path} is not a readable ONNX model (${(err as Error).message}). Rebuild it with 'npm run weights'.`);
  }
  const graph = model.graph!;
  const input = graph.input!.find((i) => !(graph.initializer ?? []).some((t) => t.name === i.name))!;
  const dims = dimsOf(input);
  // Parameters are the weight tensors; rank-0 initializers (Clip's bounds) are constants.
  const count = (names: Set<string>) =>
    (graph.initializer ?? []).filter((t) => names.has(t.name!) && (t.dims ?? []).length > 0).reduce((s, t) => s + (t.dims ?? []).reduce((a, b) => a * Number(b), 1), 0);
  const used = (nodes: import('onnx-proto').onnx.INodeProto[]) => new Set(nodes.flatMap((n) => n.input ?? []));
  if (dims.length === 4 && dims[3] === 3) {
    const output = graph.output![0].name!;
    return { bytes: raw, layout: 'nhwc', preprocessing: 'unit', params: count(used(graph.node!)), inputName: input.name!, outputName: output };
  }
  if (dims.length === 4 && dims[1] === 3) {
    const pool = graph.node!.findIndex((n) => n.opType === 'GlobalAveragePool');
    if (pool < 0) throw new WgradError(`${path}: an NCHW MobileNetV2 needs a GlobalAveragePool after its last feature map; none found.`);
    const featureName = graph.node![pool].input![0];
    // Keep the nodes up to the pool (the graph is topologically sorted), then transpose to NHWC.
    const kept = graph.node!.slice(0, pool);
    kept.push({ opType: 'Transpose', input: [featureName], output: ['features_nhwc'], attribute: [{ name: 'perm', type: onnx.AttributeProto.AttributeType.INTS, ints: [0, 2, 3, 1] }], name: 'features_nhwc' });
    graph.node = kept;
    graph.output = [{ name: 'features_nhwc', type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } } }];
    const names = used(kept);
    graph.initializer = (graph.initializer ?? []).filter((t) => names.has(t.name!));
    return { bytes: onnx.ModelProto.encode(model).finish(), layout: 'nchw', preprocessing: 'imagenet', params: count(names), inputName: input.name!, outputName: 'features_nhwc' };
  }
  throw new WgradError(`${path}: input ${input.name} has shape [${dims}], neither NHWC [N,224,224,3] nor NCHW [N,3,224,224].`);
}

/**
 * A frozen MobileNetV2 body run by ONNX Runtime on the CPU. It maps pixels (0..255, NHWC [N,224,224,3]) to the
 * out_relu feature map [N,7,7,1280], applying the preprocessing that fits its weights.
 */
export class MobileNetV2 {
  readonly inputSize = 224;
  readonly featureShape = [7, 7, 1280] as const;
  /** Images run through the network so far (the feature cache test counts these). */
  imagesRun = 0;
  private constructor(
    private readonly session: import('onnxruntime-node').InferenceSession,
    private readonly info: Inspected,
    readonly path: string,
    readonly modelHash: string,
    readonly preprocessing: Preprocessing,
    readonly chunkSize: number,
  ) {}

  static async load(options: MobileNetV2Options = {}): Promise<MobileNetV2> {
    const path = options.path ?? DEFAULT_WEIGHTS;
    const raw = modelBytes(path);
    const info = inspect(raw, path);
    ort ??= await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(info.bytes, {
      executionProviders: ['cpu'],
      intraOpNumThreads: options.threads ?? availableParallelism(),
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    const hash = createHash('sha256').update(raw).digest('hex').slice(0, 16);
    return new MobileNetV2(session, info, path, hash, options.preprocessing ?? info.preprocessing, options.chunkSize ?? 16);
  }

  /** 'nhwc' for the bundled conversion, 'nchw' for an ONNX Model Zoo file. */
  get layout(): 'nhwc' | 'nchw' {
    return this.info.layout;
  }

  /** Parameters in the graph (BatchNorm folded), all frozen. */
  get params(): number {
    return this.info.params;
  }

  /** The resize that matches the weights: nsfwjs's classify() resizes with align-corners bilinear. */
  get interpolation(): Interpolation {
    return this.info.layout === 'nhwc' && this.preprocessing === 'unit' ? 'bilinear-align-corners' : 'bilinear';
  }

  /** Scales 0..255 NHWC pixels as the weights expect, in the layout the graph takes. */
  preprocess(pixels: Float32Array, count: number): Float32Array {
    const hw = this.inputSize * this.inputSize;
    const out = new Float32Array(count * hw * 3);
    for (let n = 0; n < count; n++) {
      for (let p = 0; p < hw; p++) {
        for (let c = 0; c < 3; c++) {
          const x = pixels[(n * hw + p) * 3 + c];
          const v = this.preprocessing === 'unit' ? x / 255 : this.preprocessing === 'keras' ? x / 127.5 - 1 : (x / 255 - IMAGENET_MEAN[c]) / IMAGENET_STD[c];
          out[this.layout === 'nhwc' ? (n * hw + p) * 3 + c : (n * 3 + c) * hw + p] = v;
        }
      }
    }
    return out;
  }

  /** Features of `count` images (pixels NHWC 0..255), run in chunks of chunkSize images. */
  async features(pixels: Float32Array, count: number): Promise<Float32Array> {
    const s = this.inputSize;
    if (pixels.length !== count * s * s * 3) {
      throw new WgradError(`MobileNetV2 takes [N, ${s}, ${s}, 3] RGB pixels; got ${pixels.length} values for ${count} images. Resize to ${s}x${s} and use colorMode 'rgb'.`);
    }
    const per = this.featureShape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(count * per);
    const dims = (n: number) => (this.layout === 'nhwc' ? [n, s, s, 3] : [n, 3, s, s]);
    for (let start = 0; start < count; start += this.chunkSize) {
      const n = Math.min(this.chunkSize, count - start);
      const input = this.preprocess(pixels.subarray(start * s * s * 3, (start + n) * s * s * 3), n);
      const result = await this.session.run({ [this.info.inputName]: new ort!.Tensor('float32', input, dims(n)) });
      out.set(result[this.info.outputName].data as Float32Array, start * per);
      this.imagesRun += n;
    }
    return out;
  }

  /** Features as a wgrad tensor [N, 7, 7, 1280]. */
  async predict(pixels: Float32Array, count: number): Promise<Tensor> {
    return tensor(await this.features(pixels, count), [count, ...this.featureShape]);
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
