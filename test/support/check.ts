// Checks shared by the Node and browser suites: reference comparisons and inputs. Imports only the core.
import * as assert from 'uvu/assert';
import * as wg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { Rng } from '../../src/tensor/random.js';
import { Uniforms } from '../../src/device/uniforms.js';

/** Random values, optionally kept away from a point where an op is not smooth (|x - avoid| >= margin). */
export function randomValues(n: number, seed: number, opts: { low?: number; high?: number; avoid?: number; margin?: number } = {}): Float64Array {
  const rng = new Rng(seed);
  const { low = -2, high = 2, avoid, margin = 0.05 } = opts;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let v = low + (high - low) * rng.uniform();
    if (avoid !== undefined && Math.abs(v - avoid) < margin) v = avoid + (v < avoid ? -margin : margin);
    out[i] = v;
  }
  return out;
}

export interface CloseOptions {
  rtol?: number;
  atol?: number;
}

/** Asserts |a - b| <= atol + rtol * |b| elementwise, naming the first offending index. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, opts: CloseOptions = {}, what = 'values'): void {
  const { rtol = 1e-4, atol = 1e-5 } = opts;
  assert.is(actual.length, expected.length, `${what}: length`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const b = expected[i];
    if (Number.isNaN(a) !== Number.isNaN(b)) assert.unreachable(`${what}[${i}]: ${a} vs ${b}`);
    if (a === b) continue;
    const excess = Math.abs(a - b) - (atol + rtol * Math.abs(b));
    if (!(excess <= 0) && excess > worstExcess) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    assert.unreachable(`${what}[${worst}]: got ${actual[worst]}, expected ${expected[worst]} (rtol ${rtol}, atol ${atol})`);
  }
}

export const maxAbs = (xs: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < xs.length; i++) m = Math.max(m, Math.abs(xs[i]));
  return m;
};

export interface InputSpec {
  shape: number[];
  low?: number;
  high?: number;
  avoid?: number;
  /** Non-differentiable input (indices, masks). */
  constant?: boolean;
  dtype?: 'float32' | 'int32';
  /** Explicit values (masks, indices). */
  values?: ArrayLike<number>;
}

/** The same inputs on both backends: float64 on the CPU reference, rounded to float32 on WebGPU. */
export function makeInputs(specs: InputSpec[], seed: number): { cpu: Tensor[]; gpu: Tensor[] } {
  const cpu: Tensor[] = [];
  const gpuT: Tensor[] = [];
  specs.forEach((s, i) => {
    const n = s.shape.reduce((a, b) => a * b, 1);
    // Round to f32 first, so both backends start from identical values.
    const values = s.values ? Array.from(s.values) : Array.from(Float32Array.from(randomValues(n, seed * 31 + i, s)));
    const requiresGrad = !s.constant && (s.dtype ?? 'float32') === 'float32';
    cpu.push(wg.tensor(values, s.shape, { backend: 'cpu', dtype: s.dtype, requiresGrad }));
    gpuT.push(wg.tensor(values, s.shape, { backend: 'webgpu', dtype: s.dtype, requiresGrad }));
  });
  return { cpu, gpu: gpuT };
}

/** Inputs on the float64 CPU backend only (no f32 rounding), for gradcheck. */
export function cpuInputs(specs: InputSpec[], seed: number): Tensor[] {
  return specs.map((s, i) => {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const values = s.values ? Array.from(s.values) : Array.from(randomValues(n, seed * 31 + i, s));
    const requiresGrad = !s.constant && (s.dtype ?? 'float32') === 'float32';
    return wg.tensor(values, s.shape, { backend: 'cpu', dtype: s.dtype, requiresGrad });
  });
}

export function disposeAll(ts: Tensor[]): void {
  for (const t of ts) {
    t.grad?.dispose();
    t.dispose();
  }
}

/**
 * A uniform block too small for the kernel's Params is a validation error: it must become a DeviceError at the next
 * sync, with WebGPU's message, and leave the device usable. Node and the browser suite both run it.
 */
export async function validationErrorSurfaces(): Promise<void> {
  const device = wg.getDevice();
  const buf = device.alloc(16);
  device.dispatch({ kernel: 'binary', uniforms: new Uniforms().u32(4).done(), read: [buf, buf], write: [buf], workgroups: [1] });
  try {
    await wg.sync();
    assert.unreachable('sync should throw');
  } catch (e) {
    assert.instance(e, wg.DeviceError);
    assert.match((e as Error).message, /WebGPU reported/);
  } finally {
    device.free(buf);
  }
  assert.equal(Array.from(await wg.add(wg.ones([2]), 1).data()), [2, 2]);
}
