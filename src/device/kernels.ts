import { KERNEL_SOURCES } from '../generated/kernels.js';

/** Names of the kernels in kernels/ (each kernels/<name>.wgsl), embedded in the build by scripts/embed-kernels.mjs. */
export const KERNEL_NAMES: readonly string[] = Object.keys(KERNEL_SOURCES);

/** WGSL source of kernels/<name>.wgsl, with its includes expanded. */
export function kernelSource(name: string): string {
  const src = KERNEL_SOURCES[name];
  if (src === undefined) {
    throw new Error(`No kernel '${name}' in kernels/ (known: ${KERNEL_NAMES.join(', ')}); after adding a .wgsl file, run 'npm run kernels'.`);
  }
  return src;
}
