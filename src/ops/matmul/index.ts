/**
 * matmul and dense: the ops (shape inference, float64 reference, WebGPU dispatch and backward rule side by side),
 * over three GPU variants chosen per adapter (device/variants.ts). The switch below is exhaustive: a new variant
 * without a case fails to compile.
 */
import type { GpuDevice } from '../../device/device.js';
import { matmulVariant } from '../../device/choice.js';
import { loopBudget, MATMUL_CONFIGS } from '../../device/variants.js';
import { getDevice } from '../../device/runtime.js';
import { DTypeError, ShapeError } from '../../errors.js';
import { isGradEnabled } from '../../tensor/grad-mode.js';
import { fmt, numel } from '../../tensor/dims.js';
import type { Tensor } from '../../tensor/tensor.js';
import { add, mul } from '../binary.js';
import { defineOp, run } from '../op.js';
import { sum, sumTo } from '../reduce.js';
import { reshape, slice, transpose } from '../shape.js';
import { gelu, relu, step } from '../unary.js';
import type { Operand } from './operand.js';
import { ACT_CODE, cpuMatmul, matmulDims, type Activation, type MatmulAttrs, type MatmulOptions } from './reference.js';
import { regblockMatmul } from './regblock.js';
import { textureMatmul } from './texture.js';
import { tiledMatmul } from './tiled.js';

export type { Activation, MatmulOptions };

function gpuMatmul(device: GpuDevice, a: Operand, b: Operand, bias: GPUBuffer | null, out: GPUBuffer, attrs: MatmulAttrs, act: Activation): void {
  const { m, n, k, batch } = matmulDims(a.shape, b.shape, attrs);
  const nb = numel(batch);
  if (nb * m * n === 0) return;
  if (k === 0) {
    device.clear(out, nb * m * n * 4);
    return;
  }
  const config = MATMUL_CONFIGS[matmulVariant(device.report)];
  switch (config.kernel) {
    case 'matmul_texture':
      // K or N past the adapter's texture limits: the buffer kernel takes the product instead.
      if (!textureMatmul(device, a, b, bias, out, attrs, act, config.workgroupX, config.workgroupY ?? 1)) {
        regblockMatmul(device, a, b, bias, out, attrs, act, config.workgroupX);
      }
      return;
    case 'matmul_regblock':
      regblockMatmul(device, a, b, bias, out, attrs, act, config.workgroupX);
      return;
    case 'matmul_tiled':
      tiledMatmul(device, a, b, bias, out, attrs, act);
      return;
    default: {
      const unknown: never = config.kernel;
      throw new Error(`matmul: no dispatch for kernel ${String(unknown)}`);
    }
  }
}

function checkFloat(op: string, ts: readonly Tensor[]): void {
  for (const t of ts) if (t.dtype !== 'float32') throw new DTypeError(`${op}: expects float32 tensors, got ${t.dtype} ${fmt(t.shape)}; convert with cast(x, 'float32').`);
}

const matmulOp = defineOp<MatmulAttrs>({
  name: 'matmul',
  infer([a, b], attrs) {
    checkFloat('matmul', [a, b]);
    const { m, n, batch } = matmulDims(a.shape, b.shape, attrs);
    return { shape: [...batch, m, n], dtype: 'float32' };
  },
  cpu: ([a, b], attrs) => cpuMatmul(a, b, null, attrs, 'none'),
  webgpu(device, [a, b], attrs, out) {
    gpuMatmul(device, a, b, null, out.buffer, attrs, 'none');
  },
  vjp: (g, { inputs: [a, b], attrs: { transA, transB } }) => {
    // Each case reads the operands transposed in place; an input that needs no gradient gets none computed.
    const ga = !a.requiresGrad ? null : transA ? matmul(b, g, { transposeA: transB, transposeB: true }) : matmul(g, b, { transposeB: !transB });
    const gb = !b.requiresGrad ? null : bGradient(a, b, g, transA, transB);
    return [ga && sumTo(ga, a.shape), gb && sumTo(gb, b.shape)];
  },
});

/**
 * The gradient of the product's B: aᵀ·g (transB: gᵀ·a), with a or g read transposed. The texture variants copy a
 * transposed operand into its texture by a kernel pass unless its rows are whole 256-byte runs, so where that
 * operand is the largest of the three (a text model's [200,200] attention weights beside [200,16] heads: 12.8 ms
 * for the pass on llvmpipe) the transpose of the other product is taken instead, (gᵀ·a)ᵀ or (aᵀ·g)ᵀ: a pass over
 * the smaller operand and a copy of the small result. GPUs read transposed operands in place and keep the direct form.
 */
function bGradient(a: Tensor, b: Tensor, g: Tensor, transA: boolean, transB: boolean): Tensor {
  const big = transB ? g : a;
  const matrix = (t: Tensor) => t.shape[t.rank - 1] * t.shape[t.rank - 2];
  const swap =
    (transB || !transA) &&
    big.backend === 'webgpu' &&
    MATMUL_CONFIGS[matmulVariant(getDevice().report)].kernel === 'matmul_texture' &&
    (big.shape[big.rank - 1] * 4) % 256 !== 0 &&
    matrix(big) > matrix(transB ? a : g) + matrix(b);
  if (!swap) return transB ? matmul(g, a, { transposeA: true, transposeB: transA }) : matmul(a, g, { transposeA: !transA });
  // gᵀ·a = (aᵀ·g)ᵀ (transA: gᵀ·aᵀ = (a·g)ᵀ); aᵀ·g = (gᵀ·a)ᵀ.
  return transpose(transB ? matmul(a, g, { transposeA: !transA }) : matmul(g, a, { transposeA: true }), -1, -2);
}

/**
 * Matrix product over the last two axes, batched with broadcasting over the leading ones. `transposeA`/`transposeB`
 * read an operand's last two axes transposed, with no copy.
 */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const attrs = { transA: options.transposeA ?? false, transB: options.transposeB ?? false };
  return overK(a, b, attrs) ?? run(matmulOp, [a, b], attrs);
}

/**
 * The kernels loop over K inside one invocation, and llvmpipe silently ends an invocation's loops past its budget
 * (loopBudget in device/variants.ts: [8, 270000] x [270000, 8] was 3% off). So on such an adapter a product over a
 * longer K is summed from products over slices of K, each within the budget; null when none is needed. Shape errors
 * are left to the op, which names them.
 */
function overK(a: Tensor, b: Tensor, attrs: MatmulAttrs): Tensor | null {
  if (a.backend !== 'webgpu' || a.rank < 2 || b.rank < 2) return null;
  const aAxis = attrs.transA ? a.rank - 2 : a.rank - 1;
  const bAxis = attrs.transB ? b.rank - 1 : b.rank - 2;
  const k = a.shape[aAxis];
  const budget = loopBudget(getDevice().report);
  if (k <= budget || b.shape[bAxis] !== k) return null;
  const chunk = Math.floor(budget / 64) * 64;
  const along = (x: Tensor, axis: number, k0: number, kc: number) =>
    slice(x, x.shape.map((_, i) => (i === axis ? k0 : 0)), x.shape.map((_, i) => (i === axis ? kc : -1)));
  let total: Tensor | null = null;
  for (let k0 = 0; k0 < k; k0 += chunk) {
    const kc = Math.min(chunk, k - k0);
    const part = run(matmulOp, [along(a, aAxis, k0, kc), along(b, bAxis, k0, kc)], attrs);
    total = total ? add(total, part) : part;
  }
  return total;
}

const denseOp = defineOp<{ act: Activation }>({
  name: 'dense',
  infer(inputs, { act }) {
    const [x, w, b] = inputs;
    checkFloat('dense', inputs);
    if (w.rank !== 2 || x.rank < 1 || x.shape[x.rank - 1] !== w.shape[0]) {
      throw new ShapeError(
        `dense: input ${fmt(x.shape)} does not fit kernel ${fmt(w.shape)}; the kernel must be [inFeatures, units] with inFeatures = ${x.shape[x.rank - 1]}.`,
      );
    }
    if (b && (b.rank !== 1 || b.shape[0] !== w.shape[1])) {
      throw new ShapeError(`dense: bias ${fmt(b.shape)} must be [${w.shape[1]}] to match kernel ${fmt(w.shape)}.`);
    }
    if (!(act in ACT_CODE)) throw new ShapeError(`dense: unknown activation '${act}'; use none, relu or gelu.`);
    return { shape: [...x.shape.slice(0, -1), w.shape[1]], dtype: 'float32' };
  },
  cpu([x, w, b], { act }) {
    const x2 = { ...x, shape: [numel(x.shape.slice(0, -1)), x.shape[x.shape.length - 1]] };
    return cpuMatmul(x2, w, b ?? null, { transA: false, transB: false }, act);
  },
  webgpu(device, [x, w, b], { act }, out) {
    const x2 = { buffer: x.buffer, shape: [numel(x.shape.slice(0, -1)), x.shape[x.shape.length - 1]] };
    gpuMatmul(device, x2, w, b?.buffer ?? null, out.buffer, { transA: false, transB: false }, act);
  },
  vjp: (g, { inputs: [x, w, b], attrs: { act }, output }) => {
    if (act === 'gelu') throw new Error('dense: the gelu epilogue is differentiated through gelu(), see dense()');
    const gz = act === 'relu' ? mul(g, step(output)) : g;
    const k = w.shape[0];
    const units = w.shape[1];
    const g2 = reshape(gz, [-1, units]);
    const x2 = reshape(x, [-1, k]);
    // Frozen inputs (backbone features) need no gradient: skipping it saves a third of the backward FLOPs.
    const gx = x.requiresGrad ? reshape(matmul(g2, w, { transposeB: true }), x.shape) : null;
    const gw = w.requiresGrad ? matmul(x2, g2, { transposeA: true }) : null;
    const gb = b?.requiresGrad ? sum(g2, 0) : null;
    return b ? [gx, gw, gb] : [gx, gw];
  },
});

/**
 * x·W + b with an optional activation, in one kernel dispatch (the Dense layer's forward). x is [..., inFeatures],
 * W [inFeatures, units], b [units]. When a gradient is needed through GELU, the pre-activation is kept by running
 * the GELU as its own op, since its derivative needs it.
 */
export function dense(x: Tensor, w: Tensor, b?: Tensor | null, activation: Activation = 'none'): Tensor {
  const inputs = b ? [x, w, b] : [x, w];
  if (x.backend === 'webgpu' && w.rank === 2 && w.shape[0] > loopBudget(getDevice().report)) {
    // An inFeatures past the loop budget (see overK): the product in slices of K, then the bias and activation.
    denseOp.infer(inputs, { act: activation });  // its shape and dtype checks, with their messages
    const z = matmul(x, w);
    const zb = b ? add(z, b) : z;
    return activation === 'relu' ? relu(zb) : activation === 'gelu' ? gelu(zb) : zb;
  }
  if (activation === 'gelu' && isGradEnabled() && inputs.some((t) => t.requiresGrad)) {
    return gelu(run(denseOp, inputs, { act: 'none' }));
  }
  return run(denseOp, inputs, { act: activation });
}
