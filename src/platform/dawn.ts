// WebGPU in Node: Dawn through the `webgpu` package, one backend after another. Loaded only by the Node host.
import type { AdapterChoice, AdapterRequest, AdapterRequestOptions, FoundGpuAdapter } from './host.js';
import { adapterName, checkOpenedAdapter, settleVectorWidth, type WidthContext, type WidthDecision } from './vector-width.js';

// Dawn instances must outlive every object made from them, and collecting a failed one has aborted the process
// (a futex error inside Dawn's GL backend). They are few and small, so they are never released.
const instances: GPU[] = [];

interface Attempt {
  backend: FoundGpuAdapter['backend'];
  flags: string[];
  featureLevel: FoundGpuAdapter['featureLevel'];
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

export const DAWN_HINT =
  `On a headless Debian/Ubuntu machine, install the software adapter's libraries: ` +
  `apt-get install libegl1 libegl-mesa0 libgl1-mesa-dri libegl-dev (or run 'npm run setup' as root). ` +
  `With a GPU, install its Vulkan driver and libvulkan1. To run without WebGPU, use WGRAD_BACKEND=cpu.`;

// llvmpipe reads its vector width once per process, so it is settled once, before the first OpenGL instance.
let widthDecision: Promise<WidthDecision> | null = null;

export interface DawnContext {
  hasSharedLibrary(name: string): boolean;
  /** Where llvmpipe's vector width is timed and kept (platform/vector-width.ts). */
  width: WidthContext;
}

/**
 * Dawn's default backend is a real GPU when there is one; the OpenGL path is the software rasteriser on headless
 * machines, which only answers in compatibility mode. Before the OpenGL path first opens, llvmpipe's vector width is
 * settled (timed once per CPU on AVX-512 machines: platform/vector-width.ts).
 */
export async function requestDawnAdapter(choice: AdapterChoice, ctx: DawnContext, options: AdapterRequestOptions = {}): Promise<AdapterRequest> {
  const { hasSharedLibrary } = ctx;
  // Dawn reads this when it first initialises EGL; surfaceless needs no display server.
  process.env.EGL_PLATFORM ??= 'surfaceless';
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  const tried: string[] = [];
  const notes: string[] = [];
  for (const attempt of ATTEMPTS[choice]) {
    // Without a Vulkan loader, Dawn's default backend on Linux can only fail, after printing loader warnings that
    // need no action on a machine without a GPU. 'gpu', asked for by name, still tries.
    if (choice === 'auto' && attempt.backend === 'default' && !hasSharedLibrary('libvulkan.so.1')) {
      tried.push('default (Vulkan): libvulkan.so.1 is not installed');
      continue;
    }
    let width: WidthDecision | null = null;
    if (attempt.backend !== 'default') {
      const first = !widthDecision;
      widthDecision ??= settleVectorWidth(ctx.width, options);
      width = await widthDecision;
      if (first && width.note) notes.push(width.note);
    }
    try {
      const gpu = create(attempt.flags);
      instances.push(gpu);
      const adapter = await gpu.requestAdapter(attempt.featureLevel === 'compatibility' ? { featureLevel: 'compatibility' } : undefined);
      if (adapter) {
        if (width) {
          const stale = await checkOpenedAdapter(ctx.width, width, adapterName(adapter.info));
          if (stale) notes.push(stale);
        }
        return { found: { adapter, backend: attempt.backend, featureLevel: attempt.featureLevel, fallback: false }, tried, hint: DAWN_HINT, notes, vectorWidth: width?.why };
      }
      tried.push(`${attempt.backend} (${attempt.featureLevel}): no adapter`);
    } catch (err) {
      tried.push(`${attempt.backend}: ${(err as Error).message}`);
    }
  }
  return { found: null, tried, hint: DAWN_HINT, notes };
}
