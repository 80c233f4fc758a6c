import { WgradError } from '../../src/errors.js';
import type { KerasLayer, KerasModel } from './keras-model.js';
import { GraphBuilder } from './onnx-writer.js';

/** Where the converted graph stops: the last 7x7x1280 ReLU6 of Keras's MobileNetV2(include_top=False). */
export const FEATURE_LAYER = 'out_relu';

interface Feature {
  name: string;
  channels: number;
  height: number;
  width: number;
}

const SUPPORTED = new Set(['InputLayer', 'ZeroPadding2D', 'Conv2D', 'DepthwiseConv2D', 'BatchNormalization', 'ReLU', 'Add']);

/** TensorFlow's SAME padding for one axis: the output is ceil(in / stride), the extra row or column goes last. */
function samePads(size: number, kernel: number, stride: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + kernel - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/**
 * Converts the Keras MobileNetV2 body (input to out_relu) into an ONNX graph:
 * - BatchNormalization is folded into the preceding convolution, in float64: w' = w * g / sqrt(v + eps),
 *   b' = beta - mean * g / sqrt(v + eps);
 * - DepthwiseConv2D becomes a grouped Conv (group = channels), ZeroPadding2D becomes the next Conv's explicit pads,
 *   ReLU(max_value 6) becomes Clip(0, 6), Add stays Add;
 * - the graph takes NHWC [N,224,224,3] and returns NHWC [N,7,7,1280], transposing to NCHW and back at its ends.
 * Returns the serialised ModelProto and the number of parameters it holds.
 */
export function convertMobileNetV2(model: KerasModel): { bytes: Uint8Array; params: number } {
  const g = new GraphBuilder();
  const byName = new Map(model.layers.map((l) => [l.name, l]));
  const consumers = new Map<string, KerasLayer[]>();
  for (const l of model.layers) for (const src of l.inbound) consumers.set(src, [...(consumers.get(src) ?? []), l]);
  const weight = (name: string) => {
    const w = model.weights.get(name);
    if (!w) throw new WgradError(`MobileNetV2 conversion: weight '${name}' is missing from the manifest.`);
    return w;
  };
  const features = new Map<string, Feature>();
  const pendingPads = new Map<string, { source: Feature; pads: [number, number, number, number] }>();
  const folded = new Set<string>();
  let params = 0;
  const clipMin = g.constant('clip_min', [], [0]);
  const clipMax = g.constant('clip_max', [], [6]);

  for (const layer of model.layers) {
    const c = layer.config;
    if (!SUPPORTED.has(layer.className)) throw new WgradError(`MobileNetV2 conversion: layer ${layer.name} (${layer.className}) is not supported before ${FEATURE_LAYER}.`);
    if (layer.className === 'InputLayer') {
      const [, h, w, ch] = c.batch_input_shape as number[];
      features.set(layer.name, { name: g.node('Transpose', ['input'], { perm: [0, 3, 1, 2] }, 'input_nchw'), channels: ch, height: h, width: w });
    } else if (layer.className === 'ZeroPadding2D') {
      const [[top, bottom], [left, right]] = c.padding as number[][];
      const next = consumers.get(layer.name) ?? [];
      if (next.some((n) => n.className !== 'Conv2D' && n.className !== 'DepthwiseConv2D')) {
        throw new WgradError(`MobileNetV2 conversion: ${layer.name} must feed a convolution to be folded into its pads.`);
      }
      pendingPads.set(layer.name, { source: features.get(layer.inbound[0])!, pads: [top, left, bottom, right] });
    } else if (layer.className === 'Conv2D' || layer.className === 'DepthwiseConv2D') {
      const depthwise = layer.className === 'DepthwiseConv2D';
      const padded = pendingPads.get(layer.inbound[0]);
      const input = padded?.source ?? features.get(layer.inbound[0])!;
      const [kh, kw] = c.kernel_size as number[];
      const [sh, sw] = c.strides as number[];
      const kernel = weight(`${layer.name}/${depthwise ? 'depthwise_kernel' : 'kernel'}`);
      const cin = input.channels;
      const cout = depthwise ? cin * (c.depth_multiplier as number) : (c.filters as number);
      // Keras stores [kh, kw, cin, cout] (depthwise: [kh, kw, cin, multiplier]); ONNX wants [cout, cin/group, kh, kw].
      const w = new Float64Array(cout * (depthwise ? 1 : cin) * kh * kw);
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) {
          for (let i = 0; i < cin; i++) {
            if (depthwise) {
              const mult = cout / cin;
              for (let m = 0; m < mult; m++) w[((i * mult + m) * kh + y) * kw + x] = kernel.values[((y * kw + x) * cin + i) * mult + m];
            } else {
              for (let o = 0; o < cout; o++) w[((o * cin + i) * kh + y) * kw + x] = kernel.values[((y * kw + x) * cin + i) * cout + o];
            }
          }
        }
      }
      const bias = new Float64Array(cout);
      if (c.use_bias) bias.set(weight(`${layer.name}/bias`).values);
      const bn = (consumers.get(layer.name) ?? []).find((n) => n.className === 'BatchNormalization');
      if (bn) {
        const gamma = weight(`${bn.name}/gamma`).values;
        const beta = weight(`${bn.name}/beta`).values;
        const mean = weight(`${bn.name}/moving_mean`).values;
        const variance = weight(`${bn.name}/moving_variance`).values;
        const eps = bn.config.epsilon as number;
        const per = w.length / cout;
        for (let o = 0; o < cout; o++) {
          const scale = gamma[o] / Math.sqrt(variance[o] + eps);
          for (let j = 0; j < per; j++) w[o * per + j] *= scale;
          bias[o] = beta[o] + (bias[o] - mean[o]) * scale;
        }
        folded.add(bn.name);
      }
      let pads: [number, number, number, number] = padded?.pads ?? [0, 0, 0, 0];
      if (c.padding === 'same') {
        const [t, b] = samePads(input.height, kh, sh);
        const [l, r] = samePads(input.width, kw, sw);
        pads = [pads[0] + t, pads[1] + l, pads[2] + b, pads[3] + r];
      }
      const wName = g.constant(`${layer.name}.weight`, [cout, depthwise ? 1 : cin, kh, kw], w);
      const bName = g.constant(`${layer.name}.bias`, [cout], bias);
      params += w.length + bias.length;
      const out = g.node('Conv', [input.name, wName, bName], { kernel_shape: [kh, kw], strides: [sh, sw], pads, group: depthwise ? cin : 1, dilations: [1, 1] }, layer.name);
      const height = Math.floor((input.height + pads[0] + pads[2] - kh) / sh) + 1;
      const width = Math.floor((input.width + pads[1] + pads[3] - kw) / sw) + 1;
      features.set(layer.name, { name: out, channels: cout, height, width });
    } else if (layer.className === 'BatchNormalization') {
      if (!folded.has(layer.name)) throw new WgradError(`MobileNetV2 conversion: ${layer.name} does not follow a convolution, so it cannot be folded.`);
      features.set(layer.name, features.get(layer.inbound[0])!);
    } else if (layer.className === 'ReLU') {
      if ((c.negative_slope ?? 0) !== 0 || (c.threshold ?? 0) !== 0 || c.max_value !== 6) {
        throw new WgradError(`MobileNetV2 conversion: ${layer.name} is not ReLU6 (${JSON.stringify(c)}).`);
      }
      const input = features.get(layer.inbound[0])!;
      features.set(layer.name, { ...input, name: g.node('Clip', [input.name, clipMin, clipMax], {}, layer.name) });
    } else if (layer.className === 'Add') {
      const [a, b] = layer.inbound.map((n) => features.get(n)!);
      features.set(layer.name, { ...a, name: g.node('Add', [a.name, b.name], {}, layer.name) });
    }
    if (layer.name === FEATURE_LAYER) {
      const f = features.get(layer.name)!;
      g.node('Transpose', [f.name], { perm: [0, 2, 3, 1] }, 'features');
      const doc =
        'MobileNetV2 1.0/224 body (Keras MobileNetV2(include_top=False), to out_relu) converted by wgrad from the ' +
        'nsfwjs@4.4.0 Keras layers-model (MIT); BatchNorm folded. Input: NHWC RGB scaled to [0, 1] (x / 255).';
      const bytes = g.encode({ name: 'input', dims: ['N', 224, 224, 3] }, { name: 'features', dims: ['N', f.height, f.width, f.channels] }, doc);
      return { bytes, params };
    }
  }
  throw new WgradError(`MobileNetV2 conversion: the model has no layer '${FEATURE_LAYER}'${byName.size ? '' : ' (no layers at all)'}.`);
}
