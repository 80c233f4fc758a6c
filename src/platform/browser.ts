// The browser host: no file system; the tuning cache lives in localStorage where there is one, else in memory.
import type { AdapterChoice, AdapterRequest, Host, TuningRecord } from './host.js';

const KEY = 'wgrad:tuning';
let memory: Record<string, TuningRecord> = {};

const storage = (): Storage | null => {
  try {
    return (globalThis as { localStorage?: Storage }).localStorage ?? null;
  } catch {
    return null; // access denied (a sandboxed frame)
  }
};

const noFiles = (what: string, path: string): never => {
  throw new Error(`${what}(${JSON.stringify(path)}): a browser has no file system. Use the byte forms instead (encodeSafetensors / decodeSafetensors), or run under Node.`);
};

const BROWSER_HINT =
  'wgrad needs a browser with WebGPU (Chrome or Edge 113+, Safari 26+, Firefox 141+ on Windows), on a page served ' +
  'over https or from localhost (WebGPU is only offered to secure contexts); chrome://gpu says whether it is enabled. ' +
  'Headless Chromium without a GPU: --enable-unsafe-webgpu --enable-features=Vulkan --use-vulkan=swiftshader ' +
  "--use-webgpu-adapter=swiftshader. To run without WebGPU, use init({ backend: 'cpu' }).";

type NavigatorGpu = { gpu?: GPU };
type AdapterWithFallback = GPUAdapter & { isFallbackAdapter?: boolean; info: GPUAdapterInfo & { isFallbackAdapter?: boolean } };

// The browser picks the adapter; a high-performance one first, then compatibility mode (older or GL-only GPUs).
async function requestBrowserAdapter(choice: AdapterChoice): Promise<AdapterRequest> {
  const gpu = (globalThis as { navigator?: NavigatorGpu }).navigator?.gpu;
  if (!gpu) return { found: null, tried: ['navigator.gpu is undefined: this browser or page offers no WebGPU'], hint: BROWSER_HINT };
  if (choice === 'opengl' || choice === 'opengles') {
    return { found: null, tried: [`'${choice}' names one of Dawn's backends under Node; in a browser use 'auto' or 'gpu'`], hint: BROWSER_HINT };
  }
  const tried: string[] = [];
  const options: (GPURequestAdapterOptions & { featureLevel?: string })[] = [{ powerPreference: 'high-performance' }];
  if (choice === 'auto') options.push({ featureLevel: 'compatibility' });
  for (const o of options) {
    try {
      const adapter = (await gpu.requestAdapter(o)) as AdapterWithFallback | null;
      if (adapter) {
        const featureLevel = o.featureLevel === 'compatibility' ? 'compatibility' : 'core';
        const fallback = Boolean(adapter.info?.isFallbackAdapter ?? adapter.isFallbackAdapter);
        return { found: { adapter, backend: 'navigator', featureLevel, fallback }, tried, hint: BROWSER_HINT };
      }
      tried.push(`navigator.gpu (${o.featureLevel ?? 'core'}): no adapter`);
    } catch (err) {
      tried.push(`navigator.gpu (${o.featureLevel ?? 'core'}): ${(err as Error).message}`);
    }
  }
  return { found: null, tried, hint: BROWSER_HINT };
}

export const browserHost: Host = {
  kind: 'browser',
  readFile: async (path) => noFiles('readFile', path),
  writeFileAtomic: async (path) => noFiles('writeFile', path),
  appendFile: async (path) => noFiles('appendFile', path),
  hasSharedLibrary: () => true,
  requestAdapter: requestBrowserAdapter,
  cpuModel: () => {
    const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
    return cores ? `${cores} cores` : '';
  },
  async readTuning() {
    const raw = storage()?.getItem(KEY);
    if (!raw) return memory;
    try {
      return JSON.parse(raw) as Record<string, TuningRecord>;
    } catch {
      return memory;
    }
  },
  async writeTuning(cache) {
    memory = cache;
    try {
      storage()?.setItem(KEY, JSON.stringify(cache));
    } catch {
      // quota or privacy mode: the in-memory copy serves this page
    }
  },
};
