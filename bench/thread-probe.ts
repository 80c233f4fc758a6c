// The machine-state probe: the same busy loop on one thread, then on two at once. On these shared machines two
// threads sometimes get only one core's worth of time; then every number in the run is about halved.
import { Worker } from 'node:worker_threads';

const LOOP = `
  const { parentPort } = require('node:worker_threads');
  let x = 0;
  const t0 = Date.now();
  for (let i = 0; i < 3e8; i++) x = (x * 1103515245 + 12345) % 2147483648;
  parentPort.postMessage(Date.now() - t0 + (x === -1 ? 1 : 0));
`;

const runOne = () => new Promise<number>((resolve) => new Worker(LOOP, { eval: true }).once('message', resolve));

export async function threadProbe(): Promise<{ oneMs: number; twoMs: number; cores: number }> {
  const oneMs = await runOne();
  const two = await Promise.all([runOne(), runOne()]);
  const twoMs = Math.max(...two);
  return { oneMs, twoMs, cores: Math.round((2 * oneMs) / twoMs * 10) / 10 };
}
