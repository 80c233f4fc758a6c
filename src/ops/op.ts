import type { GpuDevice } from '../device/device.js';
import { WgradError } from '../errors.js';
import { isGradEnabled } from '../tensor/grad-mode.js';
import { getDevice } from '../device/runtime.js';
import { numel } from '../tensor/dims.js';
import { Storage, Tensor, type BackendName, type CpuArray, type DType } from '../tensor/tensor.js';

export interface Meta {
  shape: readonly number[];
  dtype: DType;
}
export interface CpuInput extends Meta {
  data: CpuArray;
}
export interface GpuInput extends Meta {
  buffer: GPUBuffer;
}
export interface GpuOutput extends Meta {
  buffer: GPUBuffer;
}

/** The ops a backward rule may use from other families (ops/grad-ops.ts), passed in by the autograd engine. */
export type GradOps = typeof import('./grad-ops.js');

export interface VjpContext<A> {
  inputs: readonly Tensor[];
  attrs: A;
  output: Tensor;
}

/** Gradients of an op's inputs from its output's gradient. Written with public ops, so they run on any backend. */
export type Vjp<A> = (grad: Tensor, ctx: VjpContext<A>, ops: GradOps) => (Tensor | null)[];

/** Marks an op with no gradient (comparisons, argmax) and says why; the compiler still asks every op to choose. */
export interface NoGradient {
  readonly noGradient: string;
}
export const noGradient = (reason: string): NoGradient => ({ noGradient: reason });

/**
 * Everything about one primitive in one place: shape inference and validation, the float64 CPU reference, the WebGPU
 * dispatch into kernels/, and the backward rule. Leaving any of them out is a type error.
 */
export interface OpDef<A> {
  name: string;
  infer(inputs: readonly Tensor[], attrs: A): Meta;
  cpu(inputs: CpuInput[], attrs: A, out: Meta): CpuArray;
  webgpu(device: GpuDevice, inputs: GpuInput[], attrs: A, out: GpuOutput): void;
  vjp: Vjp<A> | NoGradient;
  /** For op families that share one definition: whether these attrs select a differentiable member. */
  differentiable?: (attrs: A) => boolean;
}

export function defineOp<A>(def: OpDef<A>): OpDef<A> {
  return def;
}

export function checkSameBackend(op: string, inputs: readonly Tensor[]): BackendName {
  const backend = inputs[0].backend;
  for (const t of inputs) {
    if (t.backend !== backend) {
      throw new WgradError(
        `${op}: inputs live on different backends (${inputs.map((x) => x.backend).join(', ')}); ` +
          `move them to one with \`await t.to('${backend}')\`.`,
      );
    }
  }
  return backend;
}

export function bytesOf(meta: Meta): number {
  return numel(meta.shape) * 4;
}

/** Runs a primitive on its inputs' backend and records its backward rule when any input needs a gradient. */
export function run<A>(op: OpDef<A>, inputs: readonly Tensor[], attrs: A): Tensor {
  const backend = checkSameBackend(op.name, inputs);
  const meta = op.infer(inputs, attrs);
  let storage: Storage;
  if (backend === 'cpu') {
    const ins = inputs.map((t) => ({ shape: t.shape, dtype: t.dtype, data: t.storage.cpu! }));
    storage = Storage.onCpu(op.cpu(ins, attrs, meta));
  } else {
    const device = getDevice();
    const ins = inputs.map((t) => ({ shape: t.shape, dtype: t.dtype, buffer: t.storage.gpu! }));
    const buffer = device.alloc(bytesOf(meta));
    try {
      op.webgpu(device, ins, attrs, { ...meta, buffer });
    } catch (err) {
      device.free(buffer);
      throw err;
    }
    storage = Storage.onGpu(device, buffer);
  }
  const out = new Tensor(storage, meta.shape, meta.dtype);
  const vjp = op.vjp;
  const differentiable = typeof vjp === 'function' && (op.differentiable?.(attrs) ?? true);
  if (differentiable && isGradEnabled() && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.node = { op: op.name, inputs, backward: (grad, ops) => vjp(grad, { inputs, attrs, output: out }, ops) };
  }
  return out;
}

/**
 * A primitive with several outputs and no gradient of its own: the backward halves of fused ops (attention's dQ,
 * dK and dV come from one pair of kernels). It keeps the same three parts, shape inference, CPU reference and
 * WebGPU dispatch, side by side.
 */
export interface MultiOpDef<A> {
  name: string;
  infer(inputs: readonly Tensor[], attrs: A): Meta[];
  cpu(inputs: CpuInput[], attrs: A, outs: Meta[]): CpuArray[];
  webgpu(device: GpuDevice, inputs: GpuInput[], attrs: A, outs: GpuOutput[]): void;
}

export function defineMultiOp<A>(def: MultiOpDef<A>): MultiOpDef<A> {
  return def;
}

/** Runs a multi-output primitive. It records no graph: such ops are only used inside backward rules. */
export function runMulti<A>(op: MultiOpDef<A>, inputs: readonly Tensor[], attrs: A): Tensor[] {
  const backend = checkSameBackend(op.name, inputs);
  const metas = op.infer(inputs, attrs);
  if (backend === 'cpu') {
    const ins = inputs.map((t) => ({ shape: t.shape, dtype: t.dtype, data: t.storage.cpu! }));
    return op.cpu(ins, attrs, metas).map((data, i) => new Tensor(Storage.onCpu(data), metas[i].shape, metas[i].dtype));
  }
  const device = getDevice();
  const ins = inputs.map((t) => ({ shape: t.shape, dtype: t.dtype, buffer: t.storage.gpu! }));
  const outs = metas.map((m) => ({ ...m, buffer: device.alloc(bytesOf(m)) }));
  op.webgpu(device, ins, attrs, outs);
  return outs.map((o) => new Tensor(Storage.onGpu(device, o.buffer), o.shape, o.dtype));
}

/**
 * A primitive that updates tensors in place: an optimizer's step. The same parts side by side, checks, the float64
 * reference and the WebGPU dispatch; it has no output and records no graph. The CpuInput data it gets are the tensors'
 * own arrays, so the reference writes them directly; the dispatch binds the written buffers as its write buffers.
 */
export interface UpdateDef<A> {
  name: string;
  check(inputs: readonly Tensor[], attrs: A): void;
  cpu(inputs: CpuInput[], attrs: A): void;
  webgpu(device: GpuDevice, inputs: GpuInput[], attrs: A): void;
}

export function defineUpdate<A>(def: UpdateDef<A>): UpdateDef<A> {
  return def;
}

/** Runs an in-place update on its inputs' backend. */
export function runUpdate<A>(op: UpdateDef<A>, inputs: readonly Tensor[], attrs: A): void {
  const backend = checkSameBackend(op.name, inputs);
  op.check(inputs, attrs);
  if (backend === 'cpu') {
    op.cpu(inputs.map((t) => ({ shape: t.shape, dtype: t.dtype, data: t.storage.cpu! })), attrs);
  } else {
    op.webgpu(getDevice(), inputs.map((t) => ({ shape: t.shape, dtype: t.dtype, buffer: t.storage.gpu! })), attrs);
  }
}

// Host transfers live with the tensor; ops re-export them for the modules that build tensors from values.
export { fromHost, writeHost, type CreateOptions } from '../tensor/tensor.js';
