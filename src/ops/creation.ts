import { gridFor } from '../device/device.js';
import { defaultWorkgroup, params } from '../device/uniforms.js';
import { DTypeError, ShapeError } from '../errors.js';
import { Rng, nextSeed } from '../tensor/random.js';
import { defaultBackend, getDevice } from '../device/runtime.js';
import { checkShape, fmt, numel, type Shape } from '../tensor/dims.js';
import { Storage, Tensor, type DType } from '../tensor/tensor.js';
import { fromHost, type CreateOptions } from './op.js';

export type NestedArray = number | boolean | NestedArray[];

// The CPU reference keeps float32 tensors in a Float64Array; past this many elements one cannot be allocated.
const CPU_MAX_ELEMENTS = 2 ** 31 - 1;

/**
 * Checks that `count` values fit one tensor on the backend before anything is allocated on the host (a rand of
 * [100000, 100000] would otherwise fill 80 GB of host memory before the adapter refused it).
 */
export function checkFits(op: string, shape: readonly number[], options: { backend?: string } = {}): void {
  const count = numel(shape);
  const backend = options.backend ?? defaultBackend();
  if (backend === 'cpu') {
    if (count > CPU_MAX_ELEMENTS) {
      throw new ShapeError(`${op}: ${fmt(shape)} is ${count.toLocaleString('en')} elements; the CPU reference holds at most ${CPU_MAX_ELEMENTS.toLocaleString('en')} per tensor. Work in smaller pieces.`);
    }
    return;
  }
  const limit = getDevice().maxBindingBytes;
  if (count * 4 > limit) {
    const mib = (b: number) => `${(b / 2 ** 20).toFixed(b < 2 ** 20 ? 3 : 0)} MiB`;
    throw new ShapeError(
      `${op}: ${fmt(shape)} takes ${mib(count * 4)} as float32, more than this adapter's largest storage binding (${mib(limit)}). ` +
        `Split the work into smaller batches, or use init({ backend: 'cpu' }) for the reference.`,
    );
  }
}

function inferShape(values: NestedArray): number[] {
  const shape: number[] = [];
  let v: NestedArray = values;
  while (Array.isArray(v)) {
    shape.push(v.length);
    v = v[0] as NestedArray;
  }
  return shape;
}

function flatten(values: NestedArray, shape: number[], depth: number, out: number[]): void {
  if (depth === shape.length) {
    if (Array.isArray(values)) throw new ShapeError(`tensor(): nested arrays are ragged; expected shape ${fmt(shape)}.`);
    out.push(Number(values));
    return;
  }
  if (!Array.isArray(values) || values.length !== shape[depth]) {
    throw new ShapeError(`tensor(): nested arrays are ragged; expected shape ${fmt(shape)}.`);
  }
  for (const v of values) flatten(v, shape, depth + 1, out);
}

/**
 * A tensor from nested arrays, a flat array or a typed array. With a flat source, `shape` gives the layout;
 * with nested arrays it is inferred (and checked against `shape` when both are given).
 */
export function tensor(
  values: NestedArray | ArrayLike<number>,
  shape?: Shape,
  options: CreateOptions = {},
): Tensor {
  let flat: ArrayLike<number>;
  let inferred: number[];
  if (typeof values === 'number' || typeof values === 'boolean') {
    flat = [Number(values)];
    inferred = [];
  } else if (Array.isArray(values)) {
    inferred = inferShape(values as NestedArray);
    const out: number[] = [];
    flatten(values as NestedArray, inferred, 0, out);
    flat = out;
    if (shape && numel(shape) === out.length) inferred = [...shape];
  } else {
    flat = values as ArrayLike<number>;
    inferred = [flat.length];
  }
  const finalShape = checkShape('tensor', shape ?? inferred);
  checkFits('tensor', finalShape, options);
  if (numel(finalShape) !== flat.length) {
    throw new ShapeError(`tensor(): ${flat.length} values cannot fill shape ${fmt(finalShape)} (${numel(finalShape)} elements).`);
  }
  const dtype = options.dtype ?? 'float32';
  // int32 values are checked where every host path meets, in fromHost.
  if (dtype !== 'int32' && dtype !== 'float32') {
    throw new DTypeError(`tensor(): dtype '${dtype}' is not supported; use 'float32' or 'int32'.`);
  }
  return fromHost(flat, finalShape, options);
}

/** A tensor of `shape` filled with `value`: a clear or a fill kernel on WebGPU, no upload. */
export function full(shape: Shape, value: number, options: CreateOptions = {}): Tensor {
  const s = checkShape('full', shape);
  const dtype: DType = options.dtype ?? 'float32';
  const backend = options.backend ?? defaultBackend();
  const n = numel(s);
  checkFits('full', s, { backend });
  let storage: Storage;
  if (backend === 'cpu') {
    storage = Storage.onCpu(dtype === 'int32' ? new Int32Array(n).fill(value) : new Float64Array(n).fill(value));
  } else {
    const device = getDevice();
    const buffer = device.alloc(n * 4);
    if (value === 0) device.clear(buffer, n * 4);
    else {
      const bits = new DataView(new ArrayBuffer(4));
      if (dtype === 'int32') bits.setInt32(0, value, true);
      else bits.setFloat32(0, value, true);
      const grid = gridFor(n, defaultWorkgroup('fill', 'WG'));
      device.dispatch({
        kernel: 'fill',
        uniforms: params('fill', { n, bits: bits.getUint32(0, true), grid_x: grid[0] }),
        read: [],
        write: [buffer],
        workgroups: grid,
      });
    }
    storage = Storage.onGpu(device, buffer);
  }
  const t = new Tensor(storage, s, dtype);
  if (options.requiresGrad) {
    t.requiresGrad = true;
    t.kept = true;
  }
  return t;
}

export const zeros = (shape: Shape, options: CreateOptions = {}): Tensor => full(shape, 0, options);
export const ones = (shape: Shape, options: CreateOptions = {}): Tensor => full(shape, 1, options);
export const zerosLike = (t: Tensor): Tensor => full(t.shape, 0, { dtype: t.dtype, backend: t.backend });
export const onesLike = (t: Tensor): Tensor => full(t.shape, 1, { dtype: t.dtype, backend: t.backend });
export const fullLike = (t: Tensor, value: number): Tensor => full(t.shape, value, { dtype: t.dtype, backend: t.backend });

/** A 0-d tensor on the same backend as `like`. */
export function scalar(value: number, like: Tensor): Tensor {
  return full([], value, { backend: like.backend });
}

/** Values start, start+step, ... below stop (like numpy.arange). */
export function arange(start: number, stop?: number, step = 1, options: CreateOptions = {}): Tensor {
  if (stop === undefined) [start, stop] = [0, start];
  if (step === 0) throw new ShapeError('arange(): step must not be 0.');
  const n = Math.max(0, Math.ceil((stop - start) / step));
  if (!Number.isFinite(n)) throw new ShapeError(`arange(${start}, ${stop}, ${step}): the range is not finite; give finite start, stop and step.`);
  checkFits('arange', [n], options);
  const values = Array.from({ length: n }, (_, i) => start + i * step);
  return fromHost(values, [n], options);
}

/** An n×m matrix with ones on the diagonal. */
export function eye(n: number, m = n, options: CreateOptions = {}): Tensor {
  checkFits('eye', checkShape('eye', [n, m]), options);
  const values = new Float64Array(n * m);
  for (let i = 0; i < Math.min(n, m); i++) values[i * m + i] = 1;
  return fromHost(values, checkShape('eye', [n, m]), options);
}

export interface RandomOptions extends CreateOptions {
  /** Seed of the draw; without one the global generator (manualSeed) supplies it. */
  seed?: number;
}

/** Uniform values in [low, high), drawn on the host with a seeded generator so every backend sees the same values. */
export function rand(shape: Shape, options: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  const s = checkShape('rand', shape);
  checkFits('rand', s, options);
  const rng = new Rng(options.seed ?? nextSeed());
  const low = options.low ?? 0;
  const high = options.high ?? 1;
  const values = new Float64Array(numel(s));
  for (let i = 0; i < values.length; i++) values[i] = low + (high - low) * rng.uniform();
  return fromHost(values, s, options);
}

/** Normal values with the given mean and std, drawn on the host with a seeded generator. */
export function randn(shape: Shape, options: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  const s = checkShape('randn', shape);
  checkFits('randn', s, options);
  const rng = new Rng(options.seed ?? nextSeed());
  const mean = options.mean ?? 0;
  const std = options.std ?? 1;
  const values = new Float64Array(numel(s));
  for (let i = 0; i < values.length; i++) values[i] = mean + std * rng.normal();
  return fromHost(values, s, options);
}
