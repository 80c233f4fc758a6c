import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Absolute path of kernels/ (this file sits two levels below the package root, as does a bundle of it). */
export const KERNEL_DIR = fileURLToPath(new URL('../../kernels/', import.meta.url));
const sources = new Map<string, string>();

/** WGSL source of kernels/<name>.wgsl, read once. */
export function kernelSource(name: string): string {
  let src = sources.get(name);
  if (src === undefined) {
    src = readFileSync(KERNEL_DIR + name + '.wgsl', 'utf8');
    sources.set(name, src);
  }
  return src;
}
