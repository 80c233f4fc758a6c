import * as wg from '../src/node.js';

/**
 * Opens the WebGPU device. Never skips: where no adapter exists the suite fails, with init()'s message naming the
 * packages to install.
 */
export async function gpu(): Promise<wg.RuntimeInfo> {
  return wg.init({ backend: 'webgpu', log: false });
}

export * from './support/check.js';
