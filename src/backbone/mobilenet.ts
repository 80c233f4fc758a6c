import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { WgradError } from '../errors.js';
import { tensor } from '../ops/creation.js';
import { loadPeer } from '../platform/peers.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Interpolation } from '../data/image.js';
import { inspectOnnx, type Inspected, type Preprocessing } from './onnx-graph.js';

export type { Preprocessing };

/**
 * The converted nsfwjs weights, shipped in the package's weights/ folder (in a clone of the repository,
 * `npm run weights` builds them). Beside it, mobilenet_v2_1.0_224.json describes the graph, so loading it needs no
 * ONNX parser.
 */
export const DEFAULT_WEIGHTS = fileURLToPath(new URL('../../weights/mobilenet_v2_1.0_224.onnx', import.meta.url));

export interface MobileNetV2Options {
  path?: string;
  /** Overrides the preprocessing inferred from the file (for weights of your own). */
  preprocessing?: Preprocessing;
  /** ONNX Runtime intra-op threads (default: all available cores). */
  threads?: number;
  /** Images per ONNX Runtime call: bounds the memory of large batches. */
  chunkSize?: number;
}

/** What scripts/weights.ts writes beside a converted model: its graph's facts, and the hash of the bytes they describe. */
export interface ModelCard {
  format: 'wgrad-backbone/1';
  sha256: string;
  inputName: string;
  outputName: string;
  layout: 'nhwc' | 'nchw';
  preprocessing: Preprocessing;
  params: number;
}

const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];

type OrtModule = typeof import('onnxruntime-node');
let ort: OrtModule | null = null;

function modelBytes(path: string): Uint8Array {
  if (!existsSync(path)) {
    const fix = path === DEFAULT_WEIGHTS
      ? "They ship in the wgrad package's weights/ folder: reinstall wgrad; in a clone of the repository, build them with 'npm run weights'."
      : 'Give the path of an ONNX file.';
    throw new WgradError(`MobileNetV2 weights not found at ${path}. ${fix}`);
  }
  try {
    return readFileSync(path);
  } catch (err) {
    throw new WgradError(`Cannot read MobileNetV2 weights ${path}: ${(err as Error).message}.`);
  }
}

/** The graph's facts: from the model card beside the file when its hash matches, else by parsing the ONNX graph. */
async function describe(raw: Uint8Array, path: string, sha256: string): Promise<Inspected> {
  const cardPath = path.replace(/\.onnx$/, '.json');
  if (cardPath !== path && existsSync(cardPath)) {
    let card: ModelCard | null = null;
    try {
      card = JSON.parse(readFileSync(cardPath, 'utf8')) as ModelCard;
    } catch {
      card = null; // unreadable: fall back to the graph itself
    }
    if (card?.format === 'wgrad-backbone/1' && card.sha256 === sha256) {
      return { bytes: raw, layout: card.layout, preprocessing: card.preprocessing, params: card.params, inputName: card.inputName, outputName: card.outputName };
    }
  }
  return inspectOnnx(raw, path);
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
    const sha256 = createHash('sha256').update(raw).digest('hex');
    const info = await describe(raw, path, sha256);
    ort ??= await loadPeer('onnxruntime-node', 'MobileNetV2 (the frozen backbone)', () => import('onnxruntime-node'));
    const session = await ort.InferenceSession.create(info.bytes, {
      executionProviders: ['cpu'],
      intraOpNumThreads: options.threads ?? availableParallelism(),
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    return new MobileNetV2(session, info, path, sha256.slice(0, 16), options.preprocessing ?? info.preprocessing, options.chunkSize ?? 16);
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
