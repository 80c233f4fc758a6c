import { autotune } from './autotune.ts';
import type { AdapterChoice, AdapterReport } from './device/adapter.ts';
import { describeAdapter } from './device/adapter.ts';
import { GpuDevice } from './device/device.ts';
import { WgradError } from './errors.ts';
import { liveTensorCount, type BackendName } from './tensor.ts';

export interface InitOptions {
  /** 'webgpu' (default) or 'cpu' (the float64 reference). Overrides WGRAD_BACKEND. */
  backend?: BackendName;
  /** Which WebGPU adapter: 'auto' (real GPU first, then Dawn's OpenGL), 'gpu', 'opengl' or 'opengles'. */
  adapter?: AdapterChoice;
  /** Check every dispatch in an error scope so a failure names its kernel. */
  debug?: boolean;
  /** Print the chosen adapter (default true). */
  log?: boolean;
  /** Time the kernel variants once per adapter and keep the fastest (default true; WGRAD_TUNE=0 turns it off). */
  tune?: boolean;
}

export interface RuntimeInfo {
  backend: BackendName;
  adapter: AdapterReport | null;
  description: string;
}

let gpu: GpuDevice | null = null;
let current: BackendName | null = null;

/**
 * Parses WGRAD_BACKEND: `cpu`, `webgpu`, or `webgpu:<adapter>` with adapter auto|gpu|opengl|opengles.
 */
function fromEnv(): { backend?: BackendName; adapter?: AdapterChoice } {
  const raw = process.env.WGRAD_BACKEND?.trim();
  if (!raw) return {};
  const [backend, adapter] = raw.split(':');
  const adapters = ['auto', 'gpu', 'opengl', 'opengles'];
  if ((backend !== 'cpu' && backend !== 'webgpu') || (adapter !== undefined && !adapters.includes(adapter))) {
    throw new WgradError(
      `WGRAD_BACKEND='${raw}' is not understood; use 'cpu', 'webgpu', or 'webgpu:<adapter>' with adapter one of ${adapters.join(', ')}.`,
    );
  }
  return { backend, adapter: adapter as AdapterChoice | undefined };
}

/** Chooses the backend and, for WebGPU, finds an adapter and opens the device. Safe to call more than once. */
export async function init(options: InitOptions = {}): Promise<RuntimeInfo> {
  const env = fromEnv();
  const backend = options.backend ?? env.backend ?? 'webgpu';
  if (backend === 'webgpu' && !gpu) {
    gpu = await GpuDevice.create({ adapter: options.adapter ?? env.adapter ?? 'auto', debug: options.debug });
    if (options.log ?? true) console.log(`wgrad: WebGPU adapter ${describeAdapter(gpu.report)}`);
    current = backend;
    if ((options.tune ?? true) && process.env.WGRAD_TUNE !== '0') {
      const result = await autotune(gpu);
      if ((options.log ?? true) && !result.fromCache) {
        console.log(`wgrad: tuned matmul for this adapter: ${result.matmul} (${Object.entries(result.measuredMs).map(([k, v]) => `${k} ${v.toFixed(1)} ms`).join(', ')} at 512^3)`);
      }
    }
  }
  current = backend;
  return runtimeInfo();
}

export function runtimeInfo(): RuntimeInfo {
  const backend = defaultBackend();
  return {
    backend,
    adapter: gpu?.report ?? null,
    description: backend === 'cpu' ? 'CPU float64 reference' : describeAdapter(gpu!.report),
  };
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
  if (backend === 'webgpu' && !gpu) throw new WgradError("The WebGPU backend is not initialised: call `await init()`.");
  current = backend;
}

export function getDevice(): GpuDevice {
  if (!gpu) throw new WgradError('The WebGPU device is not initialised: call `await init()` first.');
  return gpu;
}


export interface MemoryInfo {
  /** Tensors not yet disposed. */
  tensors: number;
  /** GPU buffers handed out by the pool and not yet returned. */
  buffers: number;
  bytes: number;
  /** Bytes parked in the pools for reuse (buffers, and matmul operand textures on software adapters). */
  pooledBytes: number;
  /** Highest live bytes since the last resetPeakMemory(). */
  peakBytes: number;
}

export function memory(): MemoryInfo {
  return {
    tensors: liveTensorCount(),
    buffers: gpu?.pool.liveBuffers ?? 0,
    bytes: gpu?.pool.liveBytes ?? 0,
    pooledBytes: (gpu?.pool.pooledBytes ?? 0) + (gpu?.texturePool.pooledBytes ?? 0),
    peakBytes: gpu?.pool.peakBytes ?? 0,
  };
}

/**
 * Frees the GPU memory the pools keep for reuse (what memory().pooledBytes counts), as torch.cuda.empty_cache does,
 * and returns the bytes freed. Live tensors are untouched; later ops allocate afresh. Useful between phases with
 * different shapes, since buffers and matmul textures are pooled by size and a new shape cannot reuse them.
 */
export function emptyCache(): number {
  return gpu ? gpu.releasePooled() : 0;
}

/** Starts a new peak-memory window (see memory().peakBytes). */
export function resetPeakMemory(): void {
  gpu?.pool.resetPeak();
}

/** Waits until the GPU has finished all submitted work and raises any device error. */
export async function sync(): Promise<void> {
  if (gpu) await gpu.sync();
}
