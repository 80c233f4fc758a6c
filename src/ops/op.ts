import type { GpuDevice } from '../device/device.ts';
import { WgradError } from '../errors.ts';
import { isGradEnabled } from '../grad-mode.ts';
import { defaultBackend, getDevice } from '../runtime.ts';
import { numel, type Shape } from '../shape.ts';
import { Storage, Tensor, type BackendName, type CpuArray, type DType, type HostArray } from '../tensor.ts';

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

export interface VjpContext<A> {
  inputs: readonly Tensor[];
  attrs: A;
  output: Tensor;
}

/** Gradients of an op's inputs from its output's gradient. Written with public ops, so they run on any backend. */
export type Vjp<A> = (grad: Tensor, ctx: VjpContext<A>) => (Tensor | null)[];

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
    out.node = { op: op.name, inputs, backward: (grad) => vjp(grad, { inputs, attrs, output: out }) };
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

export interface CreateOptions {
  dtype?: DType;
  backend?: BackendName;
  requiresGrad?: boolean;
}

/** Makes a tensor from host values on the chosen backend (float32 stays float64 on the CPU reference). */
export function fromHost(values: ArrayLike<number>, shape: Shape, options: CreateOptions = {}): Tensor {
  const dtype = options.dtype ?? 'float32';
  const backend = options.backend ?? defaultBackend();
  let storage: Storage;
  let ints: Int32Array | null = null;
  if (dtype === 'int32') ints = Int32Array.from(values);
  if (backend === 'cpu') {
    storage = Storage.onCpu(dtype === 'int32' ? ints!.slice() : Float64Array.from(values));
  } else {
    const device = getDevice();
    const host: HostArray = dtype === 'int32' ? ints! : Float32Array.from(values);
    const buffer = device.alloc(Math.max(host.byteLength, 4));
    if (host.byteLength > 0) device.upload(buffer, host);
    storage = Storage.onGpu(device, buffer);
  }
  const t = new Tensor(storage, shape, dtype);
  t.hostInts = ints;
  if (options.requiresGrad) {
    t.requiresGrad = true;
    t.kept = true;
  }
  return t;
}

/**
 * Overwrites a tensor's values in place from the host (loading weights, restoring optimizer state). Views of the
 * tensor see the new values; the autograd graph is not involved.
 */
export function writeHost(t: Tensor, values: ArrayLike<number>): void {
  if (values.length !== t.size) {
    throw new WgradError(`writeHost: ${values.length} values for a tensor of ${t.size} elements ${JSON.stringify(t.shape)}.`);
  }
  const storage = t.storage;
  if (storage.cpu) storage.cpu.set(values);
  else storage.device!.upload(storage.gpu!, t.dtype === 'int32' ? Int32Array.from(values) : Float32Array.from(values));
  if (t.dtype === 'int32') t.hostInts = Int32Array.from(values);
}
