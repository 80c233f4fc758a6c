import { DeviceError } from '../errors.js';
import { host } from '../platform/host.js';

/** Which adapter to use: `auto` tries the platform's real GPU first and falls back to Dawn's OpenGL backend. */
export type AdapterChoice = 'auto' | 'gpu' | 'opengl' | 'opengles';

export interface AdapterReport {
  /** How it was reached: Dawn's default backend (Vulkan, Metal or D3D12) or its OpenGL/ES backend. */
  backend: 'default' | 'opengl' | 'opengles';
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for CPU rasterisers (llvmpipe, lavapipe, SwiftShader): kernels tuned for real GPUs run slowly there. */
  software: boolean;
  featureLevel: 'core' | 'compatibility';
  /** For software adapters, the CPU that runs them ('2 x Intel Xeon ...'); '' for hardware ones. */
  cpu: string;
}

export interface FoundAdapter {
  adapter: GPUAdapter;
  report: AdapterReport;
}

// Dawn instances must outlive every object made from them, and collecting a failed one has aborted the process
// (a futex error inside Dawn's GL backend). They are few and small, so they are never released.
const instances: GPU[] = [];

const SOFTWARE = /llvmpipe|lavapipe|swiftshader|softpipe|software|microsoft basic render/i;

interface Attempt {
  backend: AdapterReport['backend'];
  flags: string[];
  featureLevel: AdapterReport['featureLevel'];
}

const ATTEMPTS: Record<AdapterChoice, Attempt[]> = {
  auto: [
    { backend: 'default', flags: [], featureLevel: 'core' },
    { backend: 'opengl', flags: ['backend=opengl'], featureLevel: 'compatibility' },
    { backend: 'opengles', flags: ['backend=opengles'], featureLevel: 'compatibility' },
  ],
  gpu: [{ backend: 'default', flags: [], featureLevel: 'core' }],
  opengl: [{ backend: 'opengl', flags: ['backend=opengl'], featureLevel: 'compatibility' }],
  opengles: [{ backend: 'opengles', flags: ['backend=opengles'], featureLevel: 'compatibility' }],
};

/**
 * Finds an adapter in order of preference. Dawn's default backend is a real GPU when there is one; the OpenGL path is
 * the software rasteriser on headless machines, which only answers in compatibility mode.
 */
export async function findAdapter(choice: AdapterChoice): Promise<FoundAdapter> {
  // Dawn reads this when it first initialises EGL; surfaceless needs no display server.
  process.env.EGL_PLATFORM ??= 'surfaceless';
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  const tried: string[] = [];
  const platform = await host();
  for (const attempt of ATTEMPTS[choice]) {
    // Without a Vulkan loader, Dawn's default backend on Linux can only fail, after printing loader warnings that
    // need no action on a machine without a GPU. 'gpu', asked for by name, still tries.
    if (choice === 'auto' && attempt.backend === 'default' && !platform.hasSharedLibrary('libvulkan.so.1')) {
      tried.push('default (Vulkan): libvulkan.so.1 is not installed');
      continue;
    }
    let adapter: GPUAdapter | null = null;
    try {
      const gpu = create(attempt.flags);
      instances.push(gpu);
      adapter = await gpu.requestAdapter(
        attempt.featureLevel === 'compatibility' ? { featureLevel: 'compatibility' } : undefined,
      );
    } catch (err) {
      tried.push(`${attempt.backend}: ${(err as Error).message}`);
      continue;
    }
    if (!adapter) {
      tried.push(`${attempt.backend} (${attempt.featureLevel}): no adapter`);
      continue;
    }
    const info = adapter.info;
    const description = info.description ?? '';
    const report: AdapterReport = {
      backend: attempt.backend,
      vendor: info.vendor ?? '',
      architecture: info.architecture ?? '',
      device: info.device ?? '',
      description,
      software: SOFTWARE.test(`${info.device} ${description} ${info.vendor}`),
      featureLevel: attempt.featureLevel,
      cpu: '',
    };
    if (report.software) report.cpu = platform.cpuModel();
    return { adapter, report };
  }
  throw new DeviceError(
    `No WebGPU adapter found (asked for '${choice}'). Tried: ${tried.join('; ')}.\n` +
      `On a headless Debian/Ubuntu machine, install the software adapter's libraries: ` +
      `apt-get install libegl1 libegl-mesa0 libgl1-mesa-dri libegl-dev (or run 'npm run setup' as root). ` +
      `With a GPU, install its Vulkan driver and libvulkan1. To run without WebGPU, use WGRAD_BACKEND=cpu.`,
  );
}

export function describeAdapter(r: AdapterReport): string {
  const name = r.device || r.description || 'unknown device';
  const kind = r.software ? 'software' : 'hardware';
  return `${name} [${r.vendor || 'unknown vendor'}${r.architecture ? ' ' + r.architecture : ''}] via Dawn ${r.backend} (${r.featureLevel}, ${kind})`;
}
