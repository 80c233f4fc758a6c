import { WgradError } from '../errors.js';
import { env } from '../platform/host.js';
import type { AdapterChoice } from './adapter.js';
import { GpuDevice, type DeviceOptions } from './device.js';

export type BackendName = 'webgpu' | 'cpu';

/**
 * The process's device state: which backend new tensors go to, and the open WebGPU device. Opening the device runs
 * nothing on it; init() (src/init.ts) composes opening and autotuning above the op layer.
 */
let gpu: GpuDevice | null = null;
let current: BackendName | null = null;

export const ADAPTERS: readonly AdapterChoice[] = ['auto', 'gpu', 'opengl', 'opengles'];
const BACKENDS: readonly BackendName[] = ['webgpu', 'cpu'];

export function checkBackend(backend: BackendName): void {
  if (!BACKENDS.includes(backend)) throw new WgradError(`backend '${String(backend)}' is not one of ${BACKENDS.join(', ')}; use 'webgpu' or 'cpu'.`);
}

/**
 * The one environment override: WGRAD_BACKEND = `cpu`, `webgpu`, or `webgpu:<adapter>` with adapter one of
 * auto|gpu|opengl|opengles. Options passed to init() win over it.
 */
export function backendFromEnv(): { backend?: BackendName; adapter?: AdapterChoice } {
  const raw = env('WGRAD_BACKEND')?.trim();
  if (!raw) return {};
  const [backend, adapter] = raw.split(':');
  if ((backend !== 'cpu' && backend !== 'webgpu') || (adapter !== undefined && !ADAPTERS.includes(adapter as AdapterChoice))) {
    throw new WgradError(
      `WGRAD_BACKEND='${raw}' is not understood; use 'cpu', 'webgpu', or 'webgpu:<adapter>' with adapter one of ${ADAPTERS.join(', ')}.`,
    );
  }
  return { backend, adapter: adapter as AdapterChoice | undefined };
}

/** Opens the WebGPU device once; later calls return the same device. */
export async function openDevice(options: DeviceOptions): Promise<GpuDevice> {
  gpu ??= await GpuDevice.create(options);
  return gpu;
}

/** The open device, or null before init(). */
export function currentDevice(): GpuDevice | null {
  return gpu;
}

export function defaultBackend(): BackendName {
  if (!current) {
    throw new WgradError(
      "wgrad is not initialised: call `await init()` first (or `await init({ backend: 'cpu' })` for the CPU reference).",
    );
  }
  return current;
}

/** Switches the default backend for new tensors (WebGPU must have been initialised). */
export function setBackend(backend: BackendName): void {
  checkBackend(backend);
  if (backend === 'webgpu' && !gpu) throw new WgradError("The WebGPU backend is not initialised: call `await init()`.");
  current = backend;
}

export function getDevice(): GpuDevice {
  if (!gpu) throw new WgradError('The WebGPU device is not initialised: call `await init()` first.');
  return gpu;
}
