import type { GpuDevice } from '../device/device.js';
import { defaultBackend, getDevice, type BackendName } from '../device/runtime.js';
import { DisposedError, IndexError, WgradError } from '../errors.js';
import { fmt, numel, type Shape } from './dims.js';
import type { GradOps } from '../ops/op.js';

export type DType = 'float32' | 'int32';
export type { BackendName };
/** Values as nested arrays, as array() returns them. */
export type Nested = number | Nested[];
/** Host copy of a tensor's values. The CPU backend keeps float32 tensors in float64: it is the reference. */
export type HostArray = Float64Array | Float32Array | Int32Array;
export type CpuArray = Float64Array | Int32Array;

/** Where a tensor's values live. Views (reshape) share one Storage; it frees itself when the last one lets go. */
export class Storage {
  private refs = 1;

  private constructor(
    readonly backend: BackendName,
    readonly cpu: CpuArray | null,
    readonly gpu: GPUBuffer | null,
    readonly device: GpuDevice | null,
  ) {}

  static onCpu(data: CpuArray): Storage {
    return new Storage('cpu', data, null, null);
  }

  static onGpu(device: GpuDevice, buffer: GPUBuffer): Storage {
    return new Storage('webgpu', null, buffer, device);
  }

  retain(): this {
    this.refs++;
    return this;
  }

  release(): void {
    if (--this.refs === 0 && this.gpu && this.device) this.device.free(this.gpu);
  }
}

/** The backward half of an op, stored on the tensor it produced. */
export interface GradNode {
  op: string;
  inputs: readonly Tensor[];
  /** Gradients for each input given the output's gradient; null where an input gets none. */
  backward(grad: Tensor, ops: GradOps): (Tensor | null)[];
}

interface Scope {
  tensors: Set<Tensor>;
}

const scopes: Scope[] = [];
let liveTensors = 0;
/** Tensors freed by the garbage collector instead of dispose() or tidy(): each is a missing dispose. */
let collectedTensors = 0;
let nextId = 0;

// Safety net for tensors dropped without dispose(): the storage goes back to the pool when the object is collected.
const handles = new FinalizationRegistry<{ storage: Storage; alive: boolean }>((h) => {
  if (h.alive) {
    h.alive = false;
    liveTensors--;
    collectedTensors++;
    h.storage.release();
  }
});

export class Tensor {
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly dtype: DType;
  requiresGrad = false;
  /** Accumulated gradient of a leaf after backward(). */
  grad: Tensor | null = null;
  /** Set on tensors produced by a differentiable op while grad mode was on. */
  node: GradNode | null = null;
  /** Kept by tidy(): parameters and tensors passed to keep(). */
  kept = false;
  /** Host copy of int32 values when they came from the host (used to validate and sort gather indices). */
  hostInts: Int32Array | null = null;
  private handle: { storage: Storage; alive: boolean };
  private scope: Scope | null = null;

  constructor(storage: Storage, shape: Shape, dtype: DType) {
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.handle = { storage, alive: true };
    liveTensors++;
    handles.register(this, this.handle, this.handle);
    const top = scopes[scopes.length - 1];
    if (top) {
      top.tensors.add(this);
      this.scope = top;
    }
  }

  get storage(): Storage {
    if (!this.handle.alive) {
      throw new DisposedError(`Tensor #${this.id} of shape ${fmt(this.shape)} was used after dispose(): it was disposed, or freed by the tidy() that made it. To use it later, keep() it, or return it from the tidy().`);
    }
    return this.handle.storage;
  }

  get backend(): BackendName {
    return this.storage.backend;
  }

  get size(): number {
    return numel(this.shape);
  }

  get rank(): number {
    return this.shape.length;
  }

  get isDisposed(): boolean {
    return !this.handle.alive;
  }

  /** Frees the tensor's storage (shared views keep it alive). Using the tensor afterwards raises DisposedError. */
  dispose(): void {
    if (!this.handle.alive) return;
    this.handle.alive = false;
    handles.unregister(this.handle);
    liveTensors--;
    this.handle.storage.release();
    this.scope?.tensors.delete(this);
    this.scope = null;
    this.node = null;
  }

  /** Takes the tensor out of the scope that would free it, into the enclosing one (or none). */
  escapeScope(target: Scope | null): void {
    this.scope?.tensors.delete(this);
    this.scope = target;
    target?.tensors.add(this);
  }

  /** The values on the host: Float32Array on WebGPU, Float64Array on the CPU reference, Int32Array for int32. */
  async data(): Promise<HostArray> {
    const storage = this.storage;
    if (storage.cpu) return storage.cpu.slice(0, this.size);
    const bytes = await storage.device!.read(storage.gpu!, this.size * 4);
    return this.dtype === 'int32' ? new Int32Array(bytes) : new Float32Array(bytes);
  }

  /** The values as nested arrays. */
  async array(): Promise<Nested> {
    const flat = await this.data();
    const build = (dim: number, offset: number): Nested => {
      if (dim === this.rank) return flat[offset];
      const stride = this.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
      return Array.from({ length: this.shape[dim] }, (_, i) => build(dim + 1, offset + i * stride));
    };
    return build(0, 0);
  }

  /** The value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new RangeError(`item(): tensor has ${this.size} elements, not 1; use data() or array() to read them all.`);
    return (await this.data())[0];
  }

  /** A copy on another backend. */
  async to(backend: BackendName): Promise<Tensor> {
    const t = fromHost(await this.data(), this.shape, { dtype: this.dtype, backend });
    t.hostInts = this.hostInts;
    return t;
  }

  toString(): string {
    return `Tensor(${fmt(this.shape)}, ${this.dtype}, ${this.handle.alive ? this.handle.storage.backend : 'disposed'})`;
  }
}

function collectTensors(value: unknown, out: Set<Tensor>, seen = new Set<unknown>()): void {
  if (value instanceof Tensor) {
    out.add(value);
    return;
  }
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if (Array.isArray(value)) for (const v of value) collectTensors(v, out, seen);
  else if (value instanceof Map) for (const v of value.values()) collectTensors(v, out, seen);
  else if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) collectTensors(v, out, seen);
}

/**
 * Runs `fn` and disposes every tensor created inside it, except the ones it returns (found in arrays, plain objects
 * and Maps), parameters and tensors marked with keep(), and gradients stored on leaves. fn must be synchronous: a
 * scope cannot follow an await.
 */
export function tidy<T>(fn: () => T): T {
  const scope: Scope = { tensors: new Set() };
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } finally {
    scopes.pop();
  }
  if (result instanceof Promise) {
    throw new TypeError('tidy() needs a synchronous function; await outside the scope and return tensors from it.');
  }
  const keep = new Set<Tensor>();
  collectTensors(result, keep);
  const parent = scopes[scopes.length - 1] ?? null;
  for (const t of [...scope.tensors]) {
    if (keep.has(t) || t.kept) t.escapeScope(parent);
    else t.dispose();
  }
  return result;
}

/** Exempts a tensor from the tidy() scopes it was made in. */
export function keep<T extends Tensor>(t: T): T {
  t.kept = true;
  t.escapeScope(null);
  return t;
}

export function liveTensorCount(): number {
  return liveTensors;
}

export function collectedTensorCount(): number {
  return collectedTensors;
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
  if (dtype === 'int32') {
    ints = Int32Array.from(values);
    // Int32Array.from truncates 0.5 to 0 and wraps 2^31: a label or an index that silently became another one.
    for (let i = 0; i < values.length; i++) {
      if (ints[i] !== values[i]) {
        throw new IndexError(`tensor(): value ${values[i]} at flat index ${i} is not a 32-bit integer, as dtype int32 needs. Round the values first, or make a float32 tensor.`);
      }
    }
  }
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
