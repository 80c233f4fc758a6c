// The browser host: no file system; the tuning cache lives in localStorage where there is one, else in memory.
import type { Host, TuningRecord } from './host.js';

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

export const browserHost: Host = {
  kind: 'browser',
  readFile: async (path) => noFiles('readFile', path),
  writeFileAtomic: async (path) => noFiles('writeFile', path),
  appendFile: async (path) => noFiles('appendFile', path),
  hasSharedLibrary: () => true,
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
