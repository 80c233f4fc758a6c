import { gridFor } from '../device/device.js';
import { defaultWorkgroup, padShape, params } from '../device/uniforms.js';
import { DTypeError } from '../errors.js';
import { broadcastShapes, broadcastStrides, numel, sameShape } from '../tensor/dims.js';
import { Tensor } from '../tensor/tensor.js';
import { broadcastIndices } from './cpu.js';
import { scalar } from './creation.js';
import { defineOp, noGradient, run, type GradOps, type NoGradient } from './op.js';
import { readInputs } from './staged.js';
import { simplifyWalks } from './strided.js';

type BinaryVjp = (grad: Tensor, a: Tensor, b: Tensor, y: Tensor, ops: GradOps) => [Tensor | null, Tensor | null];

/** One member of the binary family: its code in kernels/binary.wgsl, its float64 reference and its gradient. */
interface BinarySpec {
  code: number;
  cpu: (a: number, b: number) => number;
  vjp: BinaryVjp | NoGradient;
}

const mask = (c: boolean): number => (c ? 1 : 0);
const compare = noGradient('comparisons are piecewise constant: their gradient is 0 almost everywhere');

const BINARY = {
  // Each rule computes a gradient only for an operand that needs one: a constant (the 0.5 of mul(x, 0.5)) gets none.
  add: { code: 0, cpu: (a, b) => a + b, vjp: (g, a, b) => [a.requiresGrad ? g : null, b.requiresGrad ? g : null] },
  sub: { code: 1, cpu: (a, b) => a - b, vjp: (g, a, b, _y, { neg }) => [a.requiresGrad ? g : null, b.requiresGrad ? neg(g) : null] },
  mul: { code: 2, cpu: (a, b) => a * b, vjp: (g, a, b) => [a.requiresGrad ? mul(g, b) : null, b.requiresGrad ? mul(g, a) : null] },
  div: { code: 3, cpu: (a, b) => a / b, vjp: (g, a, b, y, { neg }) => [a.requiresGrad ? div(g, b) : null, b.requiresGrad ? neg(div(mul(g, y), b)) : null] },
  // On ties the whole gradient goes to the first operand (PyTorch splits it; either is a valid subgradient).
  maximum: {
    code: 4,
    cpu: Math.max,
    vjp: (g, a, b) => {
      const m = mul(g, greaterEqual(a, b));
      return [a.requiresGrad ? m : null, b.requiresGrad ? sub(g, m) : null];
    },
  },
  minimum: {
    code: 5,
    cpu: Math.min,
    vjp: (g, a, b) => {
      const m = mul(g, lessEqual(a, b));
      return [a.requiresGrad ? m : null, b.requiresGrad ? sub(g, m) : null];
    },
  },
  equal: { code: 6, cpu: (a, b) => mask(a === b), vjp: compare },
  notEqual: { code: 7, cpu: (a, b) => mask(a !== b), vjp: compare },
  greater: { code: 8, cpu: (a, b) => mask(a > b), vjp: compare },
  greaterEqual: { code: 9, cpu: (a, b) => mask(a >= b), vjp: compare },
  less: { code: 10, cpu: (a, b) => mask(a < b), vjp: compare },
  lessEqual: { code: 11, cpu: (a, b) => mask(a <= b), vjp: compare },
} satisfies Record<string, BinarySpec>;

export type BinaryName = keyof typeof BINARY;

const binaryOp = defineOp<{ fn: BinaryName }>({
  name: 'binary',
  infer([a, b], { fn }) {
    if (a.dtype !== 'float32' || b.dtype !== 'float32') {
      throw new DTypeError(`${fn}: expects float32 tensors, got ${a.dtype} and ${b.dtype}; convert with cast(x, 'float32').`);
    }
    return { shape: broadcastShapes(fn, a.shape, b.shape), dtype: 'float32' };
  },
  cpu([a, b], { fn }, out) {
    const f = BINARY[fn].cpu;
    const n = numel(out.shape);
    const res = new Float64Array(n);
    if (sameShape(a.shape, out.shape) && sameShape(b.shape, out.shape)) {
      for (let i = 0; i < n; i++) res[i] = f(a.data[i], b.data[i]);
      return res;
    }
    const [ia, ib] = broadcastIndices(out.shape, [a.shape, b.shape]);
    for (let i = 0; i < n; i++) res[i] = f(a.data[ia[i]], b.data[ib[i]]);
    return res;
  },
  webgpu(device, [a, b], { fn }, out) {
    const n = numel(out.shape);
    const same = sameShape(a.shape, out.shape) && sameShape(b.shape, out.shape);
    // Dimensions both operands step through as one are merged (the output, contiguous, always does), size-1 ones dropped.
    const merged = simplifyWalks(out.shape, { offset: 0, strides: broadcastStrides(a.shape, out.shape) }, { offset: 0, strides: broadcastStrides(b.shape, out.shape) });
    const walk = { shape: merged.shape, a: merged.src, b: merged.dst };
    const inner = walk.shape.length - 1;
    // One walk per vec4: each operand is contiguous along the inner dimension on whole vec4s, or broadcast along it.
    const fits = (strides: number[]) => strides[inner] === 0 || (strides[inner] === 1 && strides.every((s, d) => d === inner || s % 4 === 0));
    const vecInner = !same && inner >= 0 && walk.shape[inner] % 4 === 0 && fits(walk.a) && fits(walk.b);
    const grid = gridFor(Math.ceil(n / 4), defaultWorkgroup('binary', 'WG'));
    // Operands of the output's shape may be read from staged textures (staged.ts): both, or the one beside a scalar,
    // which is read from its buffer.
    const scalarA = !same && numel(a.shape) === 1 && sameShape(b.shape, out.shape);
    const scalarB = !same && numel(b.shape) === 1 && sameShape(a.shape, out.shape);
    const scalar = scalarA ? a.buffer : scalarB ? b.buffer : null;
    const staged = scalar === null ? [a.buffer, b.buffer] : [scalarA ? b.buffer : a.buffer];
    const inputs = readInputs(device, staged, Math.ceil(n / 4), { stage: same || scalar !== null });
    const entryPoint = !inputs.staged ? 'main' : same ? 'main_same_staged' : 'main_scalar_staged';
    device.dispatch({
      kernel: 'binary',
      entryPoint,
      constants: {
        OP: BINARY[fn].code,
        // Only the scalar entry reads it: set elsewhere it would compile a second, identical pipeline of main.
        SCALAR_A: entryPoint === 'main_scalar_staged' && scalarA,
        SAME_SHAPE: same,
        VEC_INNER: vecInner,
        A_SPLAT: vecInner && walk.a[inner] === 0,
        B_SPLAT: vecInner && walk.b[inner] === 0,
      },
      uniforms: params('binary', {
        n,
        rank: walk.shape.length,
        grid_x: grid[0],
        stage_shift: inputs.shift,
        shape: padShape(walk.shape),
        a_strides: walk.a,
        b_strides: walk.b,
      }),
      textures: inputs.textures,
      // main binds a and b; the staged entries bind their textures, and the scalar entry the scalar after them.
      read: !inputs.staged ? [a.buffer, b.buffer] : scalar === null ? [] : [scalar],
      write: [out.buffer],
      workgroups: grid,
    });
    inputs.release();
  },
  differentiable: ({ fn }) => !('noGradient' in BINARY[fn].vjp),
  vjp: (grad, { inputs: [a, b], attrs: { fn }, output }, ops) => {
    const rule = BINARY[fn].vjp;
    if ('noGradient' in rule) return [null, null];
    const [ga, gb] = rule(grad, a, b, output, ops);
    return [ga && ops.sumTo(ga, a.shape), gb && ops.sumTo(gb, b.shape)];
  },
});

export type Operand = Tensor | number;

function binary(fn: BinaryName, a: Operand, b: Operand): Tensor {
  if (!(a instanceof Tensor) && !(b instanceof Tensor)) {
    throw new TypeError(`${fn}: at least one operand must be a Tensor.`);
  }
  const ta = a instanceof Tensor ? a : scalar(a, b as Tensor);
  const tb = b instanceof Tensor ? b : scalar(b, ta);
  return run(binaryOp, [ta, tb], { fn });
}

export const add = (a: Operand, b: Operand): Tensor => binary('add', a, b);
export const sub = (a: Operand, b: Operand): Tensor => binary('sub', a, b);
export const mul = (a: Operand, b: Operand): Tensor => binary('mul', a, b);
export const div = (a: Operand, b: Operand): Tensor => binary('div', a, b);
export const maximum = (a: Operand, b: Operand): Tensor => binary('maximum', a, b);
export const minimum = (a: Operand, b: Operand): Tensor => binary('minimum', a, b);
/** Comparisons return a float32 mask of 0s and 1s. */
export const equal = (a: Operand, b: Operand): Tensor => binary('equal', a, b);
export const notEqual = (a: Operand, b: Operand): Tensor => binary('notEqual', a, b);
export const greater = (a: Operand, b: Operand): Tensor => binary('greater', a, b);
export const greaterEqual = (a: Operand, b: Operand): Tensor => binary('greaterEqual', a, b);
export const less = (a: Operand, b: Operand): Tensor => binary('less', a, b);
export const lessEqual = (a: Operand, b: Operand): Tensor => binary('lessEqual', a, b);
