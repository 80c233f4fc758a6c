/**
 * What the core needs from its host and cannot get from WebGPU: environment settings, files, and a place to keep the
 * autotune result. The core imports no `node:` module: the Node host (platform/node.ts) is loaded on first use, and
 * package.json's `browser` field swaps it for platform/browser.ts in a browser bundle.
 */
export interface TuningRecord {
  /** autotune(): the matmul variant chosen, and each variant's time at 512^3. */
  matmul?: string;
  measuredMs?: Record<string, number>;
  /** autotune(): whether memory-bound kernels read staged textures (ops/staged.ts), and a 4M-float sum's time each way. */
  stagedReads?: boolean;
  stagedMs?: { staged: number; buffer: number };
  date: string;
  /** tuneTiles(): per variant and problem (device/choice.ts tileKey), the texture tile chosen and each one timed. */
  tiles?: Record<string, TileRecord>;
  /** platform/vector-width.ts: llvmpipe's vector width timed on this CPU (Node only). */
  vectorWidth?: VectorWidthRecord;
}

export interface VectorWidthRecord {
  /** The width chosen: 512 is set as LP_NATIVE_VECTOR_WIDTH, 256 is llvmpipe's default. */
  width: 256 | 512;
  /** The geometric mean over the cases of the 256-bit time over the 512-bit time (0 where nothing was timed). */
  gain: number;
  /** Per width, each case's fastest per-op milliseconds. */
  measuredMs: Record<'256' | '512', Record<string, number>>;
  /** Per width, the adapter name the probe opened (llvmpipe names its width and LLVM version). */
  adapters: Partial<Record<'256' | '512', string>>;
  date: string;
  /** How long the probes took, in seconds. */
  seconds?: number;
  /** Why the width was left alone: a probe failed, or the OpenGL adapter is not llvmpipe. */
  error?: string;
}

export interface TileRecord {
  /** TM x RG x CJ, as '8x2x2'. */
  tile: string;
  measuredMs: Record<string, number>;
}

/** Which adapter to use: `auto` tries the platform's real GPU first and falls back to Dawn's OpenGL backend. */
export type AdapterChoice = 'auto' | 'gpu' | 'opengl' | 'opengles';

export interface FoundGpuAdapter {
  adapter: GPUAdapter;
  /** How it was reached: Dawn's default backend (Vulkan, Metal or D3D12), its OpenGL/ES backend, or a browser's navigator.gpu. */
  backend: 'default' | 'opengl' | 'opengles' | 'navigator';
  featureLevel: 'core' | 'compatibility';
  /** The browser says this is a fallback (software) adapter. */
  fallback: boolean;
}

/** What asking for an adapter gave: the adapter, or null with what was tried and what to do about it. */
export interface AdapterRequest {
  found: FoundGpuAdapter | null;
  tried: string[];
  hint: string;
  /** What the host decided while opening it, one line each, for the log (llvmpipe's vector width). */
  notes?: string[];
  /** Who set llvmpipe's vector width and why, where the host settled it (Dawn's OpenGL path). */
  vectorWidth?: string;
}

export interface AdapterRequestOptions {
  /** Whether the host may time its own settings before opening (llvmpipe's vector width); init()'s `tune`. */
  tune?: boolean;
  /** Where to say that such a timing has started (init()'s `log`); silent when absent. */
  announce?: (line: string) => void;
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
  /** Asks for a WebGPU adapter: Dawn's backends in turn under Node, navigator.gpu in a browser. */
  requestAdapter(choice: AdapterChoice, options?: AdapterRequestOptions): Promise<AdapterRequest>;
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
