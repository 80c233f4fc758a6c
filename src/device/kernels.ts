import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const KERNEL_DIR = fileURLToPath(new URL('../../kernels/', import.meta.url));
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
