// The Node host: files and the tuning cache on disk. Loaded lazily by platform/host.ts, never by a browser bundle.
import { existsSync, readFileSync } from 'node:fs';
import { appendFile, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { cpus, homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { requestDawnAdapter } from './dawn.js';
import { probeWidth, type WidthContext } from './vector-width.js';
import type { Host, TuningRecord } from './host.js';

/**
 * " (family F, model M)" from /proc/cpuinfo, else "". A VM's model name can hide the generation: these machines'
 * "AMD EPYC" was family 25 model 17 (Zen 4) on 2026-12-02 morning and family 26 model 2 (Zen 5) that evening,
 * and the tuning key (src/device/choice.ts) must tell them apart.
 */
export function cpuIds(cpuinfo?: string): string {
  let text = cpuinfo;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      return ''; // not Linux
    }
  }
  const family = /^cpu family\s*:\s*(\d+)/m.exec(text);
  const model = /^model\s*:\s*(\d+)/m.exec(text);
  return family && model ? ` (family ${family[1]}, model ${model[1]})` : '';
}

/** The CPU's feature flags as Linux lists them in /proc/cpuinfo (given, or read); empty where there is none. */
export function cpuFlags(cpuinfo?: string): Set<string> {
  try {
    const line = (cpuinfo ?? readFileSync('/proc/cpuinfo', 'utf8')).split('\n').find((l) => l.startsWith('flags'));
    return new Set(line ? line.slice(line.indexOf(':') + 1).trim().split(/\s+/) : []);
  } catch {
    return new Set();
  }
}

/** Where autotune results live: $XDG_CACHE_HOME/wgrad/tuning.json, else ~/.cache/wgrad/tuning.json. */
export function tuningCachePath(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'wgrad', 'tuning.json');
}

async function writeFileAtomic(path: string, chunks: readonly Uint8Array[]): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.partial-${process.pid}`;
  const file = await open(tmp, 'w');
  try {
    for (const c of chunks) await file.write(c);
    await file.sync();
  } catch (err) {
    await file.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await file.close();
  await rename(tmp, path);
}

// Where glibc's loader finds libraries on the distributions wgrad runs on (Debian, Ubuntu, Fedora, Arch).
const LIBRARY_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/lib/x86_64-linux-gnu', '/lib/aarch64-linux-gnu', '/usr/lib64', '/lib64', '/usr/lib', '/lib', '/usr/local/lib'];

function hasSharedLibrary(name: string): boolean {
  if (process.platform !== 'linux') return true;
  const dirs = [...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), ...LIBRARY_DIRS];
  return dirs.some((d) => existsSync(join(d, name)));
}

function cpuModel(): string {
  const list = cpus();
  return list.length ? `${list.length} x ${list[0].model.trim()}${cpuIds()}` : '';
}

/** What llvmpipe's vector-width choice needs from this host: the process's own environment is where it sets it. */
function widthContext(): WidthContext {
  return {
    env: process.env,
    flags: cpuFlags(),
    cpuModel: cpuModel(),
    readTuning: () => nodeHost.readTuning(),
    writeTuning: (c) => nodeHost.writeTuning(c),
    probe: (width) => probeWidth(width, process.env),
  };
}

export const nodeHost: Host = {
  kind: 'node',
  async readFile(path) {
    const b = await readFile(path);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  },
  writeFileAtomic,
  hasSharedLibrary,
  requestAdapter: (choice, options) => requestDawnAdapter(choice, { hasSharedLibrary, width: widthContext() }, options),
  cpuModel,
  async appendFile(path, text) {
    await mkdir(dirname(path), { recursive: true });
    await appendFile(path, text);
  },
  async readTuning() {
    try {
      return JSON.parse(await readFile(tuningCachePath(), 'utf8')) as Record<string, TuningRecord>;
    } catch {
      return {}; // missing or damaged: it only costs a re-tune
    }
  },
  async writeTuning(cache) {
    try {
      await writeFileAtomic(tuningCachePath(), [new TextEncoder().encode(JSON.stringify(cache, null, 1))]);
    } catch {
      // A read-only home only costs a re-tune next time.
    }
  },
};
