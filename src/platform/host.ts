/**
 * What the core needs from its host and cannot get from WebGPU: environment settings, files, and a place to keep the
 * autotune result. The core imports no `node:` module: the Node host (platform/node.ts) is loaded on first use, and
 * package.json's `browser` field swaps it for platform/browser.ts in a browser bundle.
 */
export interface TuningRecord {
  matmul: string;
  measuredMs: Record<string, number>;
  date: string;
}

export interface Host {
  readonly kind: 'node' | 'browser';
  /** Reads a whole file (Node only). */
  readFile(path: string): Promise<Uint8Array>;
  /**
   * Writes a file that appears whole or not at all: written beside the target, flushed, then renamed. Parent
   * folders are made as needed.
   */
  writeFileAtomic(path: string, chunks: readonly Uint8Array[]): Promise<void>;
  /** Appends text to a file, making its folder (Node only). */
  appendFile(path: string, text: string): Promise<void>;
  /**
   * Whether a shared library can be found where the dynamic loader looks (LD_LIBRARY_PATH, then the usual library
   * folders). Only meaningful on Linux; elsewhere, and in a browser, true.
   */
  hasSharedLibrary(name: string): boolean;
  /** The CPU model ('2 x AMD EPYC'), or '' where the host does not say: a software adapter runs on it. */
  cpuModel(): string;
  /** Autotune results by adapter key: a JSON file under the user's cache folder in Node, localStorage in a browser. */
  readTuning(): Promise<Record<string, TuningRecord>>;
  writeTuning(cache: Record<string, TuningRecord>): Promise<void>;
}

/** The host's environment variable, or undefined where there is none (a browser). Reads no module. */
export function env(name: string): string | undefined {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return proc?.env?.[name];
}

/** True when running under Node (or a runtime that mimics it, such as Bun or Deno's Node mode). */
export function isNode(): boolean {
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof proc?.versions?.node === 'string';
}

let loaded: Promise<Host> | null = null;

/** The host for this runtime, loaded once. */
export function host(): Promise<Host> {
  loaded ??= isNode() ? import('./node.js').then((m) => m.nodeHost) : import('./browser.js').then((m) => m.browserHost);
  return loaded;
}
