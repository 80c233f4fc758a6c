import { DeviceError } from '../errors.js';
import { host, type AdapterChoice, type AdapterRequestOptions, type FoundGpuAdapter } from '../platform/host.js';

export type { AdapterChoice } from '../platform/host.js';

export interface AdapterReport {
  /** How it was reached: Dawn's default backend (Vulkan, Metal or D3D12), its OpenGL/ES backend, or navigator.gpu. */
  backend: FoundGpuAdapter['backend'];
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for CPU rasterisers (llvmpipe, lavapipe, SwiftShader) and browser fallback adapters: kernels tuned for real GPUs run slowly there. */
  software: boolean;
  featureLevel: 'core' | 'compatibility';
  /** For software adapters, the CPU that runs them ('2 x Intel Xeon ...'); '' for hardware ones. */
  cpu: string;
  /** What the host decided while opening it (llvmpipe's vector width, when it was timed), one line each. */
  notes: string[];
  /** Who set llvmpipe's vector width for this process and why (the user, wgrad's timing, or llvmpipe's default); '' where the host did not settle one. */
  vectorWidth: string;
}

export interface FoundAdapter {
  adapter: GPUAdapter;
  report: AdapterReport;
}

const SOFTWARE = /llvmpipe|lavapipe|swiftshader|softpipe|software|microsoft basic render/i;

/** Finds an adapter in the host's order of preference (see platform/dawn.ts and platform/browser.ts). */
export async function findAdapter(choice: AdapterChoice, options: AdapterRequestOptions = {}): Promise<FoundAdapter> {
  const platform = await host();
  const { found, tried, hint, notes, vectorWidth } = await platform.requestAdapter(choice, options);
  if (!found) throw new DeviceError(`No WebGPU adapter found (asked for '${choice}'). Tried: ${tried.join('; ')}.\n${hint}`);
  const info = found.adapter.info;
  const description = info.description ?? '';
  const report: AdapterReport = {
    backend: found.backend,
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description,
    software: found.fallback || SOFTWARE.test(`${info.device} ${description} ${info.vendor} ${info.architecture}`),
    featureLevel: found.featureLevel,
    cpu: '',
    notes: notes ?? [],
    vectorWidth: vectorWidth ?? '',
  };
  if (report.software) report.cpu = platform.cpuModel();
  return { adapter: found.adapter, report };
}

export function describeAdapter(r: AdapterReport): string {
  const name = r.device || r.description || 'unknown device';
  const kind = r.software ? 'software' : 'hardware';
  return `${name} [${r.vendor || 'unknown vendor'}${r.architecture ? ' ' + r.architecture : ''}] ${r.backend === 'navigator' ? 'via navigator.gpu' : `via Dawn ${r.backend}`} (${r.featureLevel}, ${kind})`;
}
