import { gridFor } from '../device/device.js';
import { defaultWorkgroup, params } from '../device/uniforms.js';
import { DTypeError } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { numel } from '../tensor/dims.js';
import { erf } from './cpu.js';
import { defineOp, noGradient, run, type GradOps, type NoGradient } from './op.js';
import { readInputs } from './staged.js';

type UnaryVjp = (grad: Tensor, x: Tensor, y: Tensor, alpha: number, ops: GradOps) => Tensor;

/** One member of the unary family: its code in kernels/unary.wgsl, its float64 reference and its gradient. */
interface UnarySpec {
  code: number;
  cpu: (x: number, alpha: number) => number;
  vjp: UnaryVjp | NoGradient;
}

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

const gelu64 = (x: number): number => 0.5 * x * (1 + erf(x * SQRT1_2));
const geluGrad64 = (x: number): number => 0.5 * (1 + erf(x * SQRT1_2)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);

function pow64(x: number, e: number): number {
  return e === 0 ? 1 : Math.pow(x, e);
}

const UNARY = {
  neg: { code: 0, cpu: (x) => -x, vjp: (g) => neg(g) },
  exp: { code: 1, cpu: Math.exp, vjp: (g, _x, y, _alpha, { mul }) => mul(g, y) },
  log: { code: 2, cpu: Math.log, vjp: (g, x, _y, _alpha, { div }) => div(g, x) },
  sqrt: { code: 3, cpu: Math.sqrt, vjp: (g, _x, y, _alpha, { mul, div }) => div(mul(g, 0.5), y) },
  abs: { code: 4, cpu: Math.abs, vjp: (g, x, _y, _alpha, { mul }) => mul(g, sign(x)) },
  relu: { code: 5, cpu: (x) => Math.max(x, 0), vjp: (g, x, _y, _alpha, { mul }) => mul(g, step(x)) },
  gelu: { code: 6, cpu: gelu64, vjp: (g, x, _y, _alpha, { mul }) => mul(g, geluGrad(x)) },
  tanh: { code: 7, cpu: Math.tanh, vjp: (g, _x, y, _alpha, { mul, sub }) => mul(g, sub(1, square(y))) },
  sigmoid: { code: 8, cpu: (x) => 1 / (1 + Math.exp(-x)), vjp: (g, _x, y, _alpha, { mul, sub }) => mul(g, mul(y, sub(1, y))) },
  pow: { code: 9, cpu: pow64, vjp: (g, x, _y, e, { mul }) => mul(g, mul(pow(x, e - 1), e)) },
  step: { code: 10, cpu: (x) => (x > 0 ? 1 : 0), vjp: noGradient('step is piecewise constant: its gradient is 0 almost everywhere') },
  geluGrad: { code: 11, cpu: geluGrad64, vjp: noGradient('second derivatives of gelu are not implemented') },
  square: { code: 12, cpu: (x) => x * x, vjp: (g, x, _y, _alpha, { mul }) => mul(g, mul(x, 2)) },
  reciprocal: { code: 13, cpu: (x) => 1 / x, vjp: (g, _x, y, _alpha, { mul }) => neg(mul(g, square(y))) },
  sign: { code: 14, cpu: Math.sign, vjp: noGradient('sign is piecewise constant: its gradient is 0 almost everywhere') },
} satisfies Record<string, UnarySpec>;

export type UnaryName = keyof typeof UNARY;

interface UnaryAttrs {
  fn: UnaryName;
  alpha: number;
}

const unaryOp = defineOp<UnaryAttrs>({
  name: 'unary',
  infer([x], { fn }) {
    if (x.dtype !== 'float32') throw new DTypeError(`${fn}: expects a float32 tensor, got ${x.dtype}; convert with cast(x, 'float32').`);
    return { shape: x.shape, dtype: 'float32' };
  },
  cpu([x], { fn, alpha }) {
    const f = UNARY[fn].cpu;
    const out = new Float64Array(x.data.length);
    for (let i = 0; i < out.length; i++) out[i] = f(x.data[i], alpha);
    return out;
  },
  webgpu(device, [x], { fn, alpha }, out) {
    const n4 = Math.ceil(numel(out.shape) / 4);
    const grid = gridFor(n4, defaultWorkgroup('unary', 'WG'));
    const inputs = readInputs(device, [x.buffer], n4);
    device.dispatch({
      kernel: 'unary',
      entryPoint: inputs.staged ? 'main_staged' : 'main',
      constants: { OP: UNARY[fn].code },
      uniforms: params('unary', { n4, alpha, grid_x: grid[0], stage_shift: inputs.shift }),
      textures: inputs.textures,
      read: inputs.read,
      write: [out.buffer],
      workgroups: grid,
    });
    inputs.release();
  },
  differentiable: ({ fn }) => !('noGradient' in UNARY[fn].vjp),
  vjp: (grad, { inputs: [x], attrs: { fn, alpha }, output }, ops) => {
    const rule = UNARY[fn].vjp;
    if ('noGradient' in rule) return [null];
    return [rule(grad, x, output, alpha, ops)];
  },
});

const unary = (fn: UnaryName, x: Tensor, alpha = 0): Tensor => run(unaryOp, [x], { fn, alpha });

export const neg = (x: Tensor): Tensor => unary('neg', x);
export const exp = (x: Tensor): Tensor => unary('exp', x);
export const log = (x: Tensor): Tensor => unary('log', x);
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
export const abs = (x: Tensor): Tensor => unary('abs', x);
export const relu = (x: Tensor): Tensor => unary('relu', x);
/** GELU in its exact erf form (Keras `approximate=False`, PyTorch's default). */
export const gelu = (x: Tensor): Tensor => unary('gelu', x);
export const tanh = (x: Tensor): Tensor => unary('tanh', x);
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);
/** x ** exponent for a scalar exponent; negative bases are defined for integer exponents. */
export const pow = (x: Tensor, exponent: number): Tensor => unary('pow', x, exponent);
export const square = (x: Tensor): Tensor => unary('square', x);
export const reciprocal = (x: Tensor): Tensor => unary('reciprocal', x);
export const sign = (x: Tensor): Tensor => unary('sign', x);
/** 1 where x > 0, else 0 (ReLU's derivative). */
export const step = (x: Tensor): Tensor => unary('step', x);
/** GELU's derivative, used by its backward rule. */
export const geluGrad = (x: Tensor): Tensor => unary('geluGrad', x);

