// PyTorch on the CPU as an optional bench peer: bench/torch-peer.py in a Python child process, one JSON request a
// line. Absent Python or torch, the peer reports why and the bench goes on without it.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Timing } from '../src/node.js';
import { cpuFlags } from '../src/platform/node.js';

export { cpuFlags };

export type TorchRequest = { op: string } & Record<string, number | boolean | number[] | string>;

export interface TorchBuild {
  torch: string;
  blas: string;
  /** The libblas torch loaded (real path), or null where /proc/self/maps could not be read. */
  blasLibrary: string | null;
  openblasCore: string | null;
  openblasConfig: string | null;
  coretype: string;
  threads: number;
  python: string;
}

/** One op kept in the torch peer between requests, for the bench's runs in turn. */
export interface TorchOp {
  /** Runs the op `reps` times and resolves when they are done. */
  run(reps: number): Promise<void>;
  close(): Promise<void>;
}

export interface TorchPeer {
  build: TorchBuild;
  /** Times the op in the peer: warm-up, sizing and timed runs in one request (the block order). */
  time(req: TorchRequest, options: { runs: number; minRunMs: number; warmMs: number }): Promise<Timing | null>;
  /** Builds the op and runs it once; null (with the peer's reason printed) when it cannot run. */
  open(req: TorchRequest): Promise<TorchOp | null>;
  close(): void;
}

// OpenBLAS's kernel sets that use AVX2 or wider; any other on a CPU with AVX2 is a misdetection.
const AVX2_CORES = ['Haswell', 'Zen', 'SkylakeX', 'Cooperlake', 'SapphireRapids'];

/**
 * Header lines for a torch peer that would not show this CPU's speed: a BLAS that is not OpenBLAS (python3-torch
 * alone brings Debian's reference BLAS, 5 GFLOP/s at 1024^3), or OpenBLAS kernels older than AVX2 on a CPU that
 * has it (0.3.21 took Sapphire Rapids for a Prescott), each with its fix.
 */
export function torchWarnings(build: Pick<TorchBuild, 'openblasCore' | 'blasLibrary'>, flags: Set<string>): string[] {
  if (!build.openblasCore) {
    return [`torch peer warning: its BLAS (${build.blasLibrary ?? 'not found'}) is not OpenBLAS, so its matmuls run far below this CPU; on Debian: apt-get install libopenblas0`];
  }
  if (AVX2_CORES.includes(build.openblasCore) || !flags.has('avx2')) return [];
  const avx512 = flags.has('avx512f');
  return [`torch peer warning: OpenBLAS chose its ${build.openblasCore} kernels on a CPU with AVX2${avx512 ? ' and AVX-512' : ''}, so its matmuls run far below this CPU; set OPENBLAS_CORETYPE=${avx512 ? 'SkylakeX' : 'Haswell (Intel) or Zen (AMD)'}`];
}

const SCRIPT = fileURLToPath(new URL('./torch-peer.py', import.meta.url));

/**
 * The first of `candidates` that imports torch: `python3` on PATH, then Debian's /usr/bin/python3 (python3-torch
 * installs there, and a pyenv or venv python3 on PATH does not see it). Returns the reasons when none does.
 */
export function findTorchPython(candidates: string[]): { python: string } | { why: string } {
  const why: string[] = [];
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' });
    if (r.status === 0) return { python };
    why.push(`${python}: ${r.error ? r.error.message : (r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`)}`);
  }
  return { why: why.join('; ') };
}

export async function startTorch(python: string): Promise<TorchPeer> {
  const child: ChildProcessWithoutNullStreams = spawn(python, [SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const lines: Interface = createInterface({ input: child.stdout });
  const queue: ((line: string | null) => void)[] = [];
  lines.on('line', (line) => queue.shift()?.(line));
  child.on('close', () => queue.splice(0).forEach((f) => f(null)));
  const next = () => new Promise<string | null>((resolve) => queue.push(resolve));
  const first = await next();
  if (first === null) throw new Error(`${python} ${SCRIPT} ended before answering: ${stderr.trim()}`);
  const build = { ...(JSON.parse(first) as Omit<TorchBuild, 'python'>), python };
  // One request, one answer line; requests are never in flight together, since every caller awaits its answer.
  const call = async <T extends object>(req: object): Promise<T | { error: string }> => {
    child.stdin.write(`${JSON.stringify(req)}\n`);
    const line = await next();
    if (line === null) throw new Error(`the torch peer ended: ${stderr.trim()}`);
    return JSON.parse(line) as T | { error: string };
  };
  const failed = (op: string, answer: object): answer is { error: string } => {
    if (!('error' in answer)) return false;
    console.log(`torch peer: ${op}: ${answer.error}`);
    return true;
  };
  return {
    build,
    async time(req, options) {
      const answer = await call<Timing>({ ...req, ...options });
      return failed(req.op, answer) ? null : answer;
    },
    async open(req) {
      const opened = await call<{ id: number }>({ ...req, cmd: 'open' });
      if (failed(req.op, opened)) return null;
      return {
        async run(reps) {
          const answer = await call<object>({ cmd: 'run', id: opened.id, reps });
          if ('error' in answer) throw new Error(`the torch peer's ${req.op} failed: ${answer.error}`);
        },
        async close() {
          await call({ cmd: 'close', id: opened.id });
        },
      };
    },
    close() {
      child.stdin.end();
    },
  };
}
