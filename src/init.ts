import type { AdapterChoice, AdapterReport } from './device/adapter.js';
import { describeAdapter } from './device/adapter.js';
import { ADAPTERS, backendFromEnv, checkBackend, currentDevice, defaultBackend, openDevice, setBackend, type BackendName } from './device/runtime.js';
import { WgradError } from './errors.js';
import { env } from './platform/host.js';
import { autotune } from './tune/autotune.js';

export interface InitOptions {
  /** 'webgpu' (default) or 'cpu' (the float64 reference). Overrides WGRAD_BACKEND. */
  backend?: BackendName;
  /** Which WebGPU adapter: 'auto' (real GPU first, then Dawn's OpenGL), 'gpu', 'opengl' or 'opengles'. */
  adapter?: AdapterChoice;
  /** Check every dispatch in an error scope so a failure names its kernel, and let Dawn print its warnings. */
  debug?: boolean;
  /**
   * Print one line naming the chosen adapter, and the autotune result when it ran (default true). The line says
   * whether the adapter is a software one, since kernels run far slower there.
   */
  log?: boolean;
  /**
   * Time the kernel variants once per adapter and keep the fastest (default true; WGRAD_TUNE=0 turns it off). Under
   * Node on an AVX-512 CPU this also times llvmpipe's vector width, once per CPU, before the software adapter opens
   * (platform/vector-width.ts); LP_NATIVE_VECTOR_WIDTH, when set, is left as it is.
   */
  tune?: boolean;
}

export interface RuntimeInfo {
  backend: BackendName;
  adapter: AdapterReport | null;
  description: string;
}

/**
 * Chooses the backend and, for WebGPU, finds an adapter, opens the device and tunes the kernels for it (once per
 * adapter; the result is cached). Safe to call more than once.
 */
export async function init(options: InitOptions = {}): Promise<RuntimeInfo> {
  const fromEnv = backendFromEnv();
  const backend = options.backend ?? fromEnv.backend ?? 'webgpu';
  checkBackend(backend);
  const adapter = options.adapter ?? fromEnv.adapter ?? 'auto';
  if (!ADAPTERS.includes(adapter)) throw new WgradError(`init(): adapter '${String(adapter)}' is not one of ${ADAPTERS.join(', ')}; use one of auto, gpu, opengl, opengles.`);
  const log = options.log ?? true;
  if (backend === 'webgpu' && !currentDevice()) {
    const tune = (options.tune ?? true) && env('WGRAD_TUNE') !== '0';
    const gpu = await openDevice({ adapter, debug: options.debug, tune, announce: log ? (line) => console.log(`wgrad: ${line}`) : undefined });
    if (log) {
      console.log(`wgrad: WebGPU adapter ${describeAdapter(gpu.report)}`);
      for (const note of gpu.report.notes) console.log(`wgrad: ${note}`);
    }
    setBackend('webgpu');
    if (tune) {
      const result = await autotune(gpu);
      if (log && !result.fromCache) {
        console.log(`wgrad: tuned matmul for this adapter: ${result.matmul} (${Object.entries(result.measuredMs).map(([k, v]) => `${k} ${v.toFixed(1)} ms`).join(', ')} at 512^3)`);
        const { staged, buffer } = result.stagedMs;
        console.log(`wgrad: memory-bound kernels ${result.stagedReads ? 'read staged textures' : 'read buffers'} (a 4M-float sum: ${staged.toFixed(2)} ms staged, ${buffer.toFixed(2)} ms from the buffer)`);
      }
    }
  }
  setBackend(backend);
  return runtimeInfo();
}

export function runtimeInfo(): RuntimeInfo {
  const backend = defaultBackend();
  const gpu = currentDevice();
  return {
    backend,
    adapter: gpu?.report ?? null,
    description: backend === 'cpu' ? 'CPU float64 reference' : describeAdapter(gpu!.report),
  };
}
