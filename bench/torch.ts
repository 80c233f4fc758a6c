// PyTorch on the CPU as an optional bench peer: bench/torch-peer.py in a Python child process, one JSON request a
// line. Absent Python or torch, the peer reports why and the bench goes on without it.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Timing } from '../src/node.js';

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

export interface TorchPeer {
  build: TorchBuild;
  time(req: TorchRequest, options: { runs: number; minRunMs: number; warmMs: number }): Promise<Timing | null>;
  close(): void;
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
  return {
    build,
    async time(req, options) {
      child.stdin.write(`${JSON.stringify({ ...req, ...options })}\n`);
      const line = await next();
      if (line === null) throw new Error(`the torch peer ended: ${stderr.trim()}`);
      const answer = JSON.parse(line) as Timing | { error: string };
      if ('error' in answer) {
        console.log(`torch peer: ${req.op}: ${answer.error}`);
        return null;
      }
      return answer;
    },
    close() {
      child.stdin.end();
    },
  };
}
