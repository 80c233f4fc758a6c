// Reading a foreign ONNX MobileNetV2 (an ONNX Model Zoo file) to find its input and output and cut off its
// classifier. Needs the optional package onnx-proto; the shipped model has a model card and never comes here.
import { WgradError } from '../errors.js';
import { loadPeer } from '../platform/peers.js';

/**
 * How pixel values 0..255 are scaled before the network, which must match how its weights were trained:
 * - 'unit': x / 255, for the nsfwjs weights (their classify() divides by 255 after an align-corners resize);
 * - 'imagenet': (x / 255 - mean) / std per channel, for the ONNX Model Zoo's mobilenetv2-12.onnx;
 * - 'keras': x / 127.5 - 1, Keras's mobilenet_v2.preprocess_input, for Keras-trained weights.
 */
export type Preprocessing = 'unit' | 'imagenet' | 'keras';

export interface Inspected {
  bytes: Uint8Array;
  layout: 'nhwc' | 'nchw';
  preprocessing: Preprocessing;
  params: number;
  inputName: string;
  outputName: string;
}

type Onnx = typeof import('onnx-proto').onnx;

async function onnxProto(): Promise<Onnx> {
  // onnx-proto is CommonJS: its namespace arrives as a named export or on the default export.
  const m = (await loadPeer('onnx-proto', 'Reading an ONNX model without a wgrad model card', () => import('onnx-proto'))) as { onnx?: Onnx; default?: { onnx: Onnx } };
  return (m.onnx ?? m.default!.onnx);
}

const dimsOf = (v: import('onnx-proto').onnx.IValueInfoProto) => (v.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimValue != null ? Number(d.dimValue) : -1));

/**
 * Tells the bundled conversion (NHWC in, 7x7x1280 NHWC out) from an ONNX Model Zoo MobileNetV2 (NCHW in, logits
 * out). A Zoo graph is cut where GlobalAveragePool reads the last feature map, and a Transpose makes it NHWC.
 */
export async function inspectOnnx(raw: Uint8Array, path: string): Promise<Inspected> {
  const onnx = await onnxProto();
  let model: import('onnx-proto').onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(raw);
  } catch (err) {
    throw new WgradError(`${path} is not a readable ONNX model (${(err as Error).message}). Check that the file is a whole ONNX model.`);
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
