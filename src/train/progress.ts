import type { Logs } from './callbacks.js';

export type Verbosity = 0 | 1 | 2;

/** Where progress goes: a terminal (redrawn in place when isTTY) or any sink of text. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

// Node's stdout when there is one; in a browser, whole lines to the console.
const defaultStream = (): ProgressStream => {
  const out = (globalThis as { process?: { stdout?: ProgressStream } }).process?.stdout;
  if (out) return out;
  let line = '';
  return {
    write(text: string) {
      line += text;
      const parts = line.split('\n');
      line = parts.pop() ?? '';
      for (const p of parts) console.log(p.replace(/\r\x1b\[K/g, ''));
    },
  };
};

const fmtLogs = (logs: Logs) =>
  Object.entries(logs)
    .map(([k, v]) => `${k}: ${Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(4) : v.toExponential(2)}`)
    .join(' - ');

const fmtTime = (s: number) => (s >= 60 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${s.toFixed(s < 10 ? 1 : 0)}s`);

/**
 * Keras-style progress: on a terminal one bar per epoch, redrawn in place with step count, ETA and running metrics;
 * elsewhere (CI, logs) one plain line per epoch; nothing at verbose 0.
 */
export class Progress {
  private start = 0;
  /** True when drawing a live bar (verbose 1 on a terminal). */
  readonly interactive: boolean;

  constructor(
    private readonly verbose: Verbosity,
    private readonly epochs: number,
    private readonly stream: ProgressStream = defaultStream(),
  ) {
    this.interactive = verbose === 1 && !!stream.isTTY;
  }

  epochBegin(epoch: number): void {
    this.start = performance.now();
    if (this.verbose && this.interactive) this.stream.write(`Epoch ${epoch + 1}/${this.epochs}\n`);
  }

  step(step: number, steps: number, logs: Logs): void {
    if (!this.interactive) return;
    const elapsed = (performance.now() - this.start) / 1000;
    const width = 24;
    const done = Math.round((step / steps) * width);
    const bar = '━'.repeat(done) + (done < width ? '╸' : '') + ' '.repeat(Math.max(0, width - done - 1));
    const eta = step < steps ? ` ETA ${fmtTime((elapsed / step) * (steps - step))}` : '';
    this.stream.write(`\r\x1b[K${String(step).padStart(String(steps).length)}/${steps} ${bar}${eta} - ${fmtLogs(logs)}`);
  }

  epochEnd(epoch: number, steps: number, logs: Logs): void {
    if (!this.verbose) return;
    const seconds = (performance.now() - this.start) / 1000;
    if (this.interactive) this.stream.write(`\r\x1b[K${steps}/${steps} ━━━━━━━━━━━━━━━━━━━━━━━━ ${fmtTime(seconds)} ${Math.round((seconds * 1000) / Math.max(steps, 1))}ms/step - ${fmtLogs(logs)}\n`);
    else this.stream.write(`Epoch ${epoch + 1}/${this.epochs} - ${steps} steps - ${fmtTime(seconds)} - ${fmtLogs(logs)}\n`);
  }

  /** Ends a bar that an interrupt left mid-epoch, so that what is printed next starts on its own line. */
  interrupted(): void {
    if (this.verbose && this.interactive) this.stream.write('\n');
  }

  note(text: string): void {
    if (this.verbose) this.stream.write(`${this.interactive ? '\r\x1b[K' : ''}${text}\n`);
  }
}
