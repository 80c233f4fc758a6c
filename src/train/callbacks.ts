import { rename, writeFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { WgradError } from '../errors.ts';
import { writeHost } from '../ops/op.ts';
import type { Model } from './model.ts';

export type Logs = Record<string, number>;

/** Hooks into fit(); each may be async (fit awaits it). */
export interface Callback {
  onTrainBegin?(model: Model): void | Promise<void>;
  onEpochEnd?(epoch: number, logs: Logs, model: Model): void | Promise<void>;
  onTrainEnd?(model: Model): void | Promise<void>;
}

/** Writes text so that the file is whole or absent: a temporary file beside it, then a rename. */
export async function writeAtomic(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.partial-${process.pid}`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

type Mode = 'min' | 'max' | 'auto';
const better = (mode: Mode, monitor: string, a: number, b: number, minDelta: number) => {
  const m = mode === 'auto' ? (/acc|auc|precision|recall/.test(monitor) ? 'max' : 'min') : mode;
  return m === 'min' ? a < b - minDelta : a > b + minDelta;
};

function monitored(logs: Logs, monitor: string, who: string): number {
  const v = logs[monitor];
  if (v === undefined) throw new WgradError(`${who}: '${monitor}' is not in the logs (${Object.keys(logs).join(', ')}); pass validationData or monitor another key.`);
  return v;
}

/** Stops training when `monitor` has not improved for `patience` epochs; can restore the best epoch's weights. */
export class EarlyStopping implements Callback {
  readonly monitor: string;
  private best = NaN;
  private wait = 0;
  private bestWeights: Float32Array[] | null = null;
  bestEpoch = -1;
  stoppedEpoch = -1;

  constructor(private readonly options: { monitor?: string; patience?: number; minDelta?: number; mode?: Mode; restoreBestWeights?: boolean } = {}) {
    this.monitor = options.monitor ?? 'val_loss';
  }

  onTrainBegin(): void {
    this.best = NaN;
    this.wait = 0;
    this.bestWeights = null;
  }

  async onEpochEnd(epoch: number, logs: Logs, model: Model): Promise<void> {
    const value = monitored(logs, this.monitor, 'EarlyStopping');
    if (Number.isNaN(this.best) || better(this.options.mode ?? 'auto', this.monitor, value, this.best, this.options.minDelta ?? 0)) {
      this.best = value;
      this.bestEpoch = epoch;
      this.wait = 0;
      if (this.options.restoreBestWeights) this.bestWeights = await Promise.all(model.parameters().map(async (p) => Float32Array.from(await p.data())));
      return;
    }
    // Keras's rule: stop once `patience` epochs in a row brought no improvement.
    this.wait++;
    if (this.wait >= (this.options.patience ?? 0)) {
      model.stopTraining = true;
      this.stoppedEpoch = epoch;
    }
  }

  onTrainEnd(model: Model): void {
    if (this.bestWeights) model.parameters().forEach((p, i) => writeHost(p, this.bestWeights![i]));
  }
}

/** Saves weights (safetensors) after each epoch, or only when `monitor` improves. `{epoch}` in the path is filled in. */
export class ModelCheckpoint implements Callback {
  private best = NaN;
  readonly saved: string[] = [];

  constructor(
    private readonly path: string,
    private readonly options: { monitor?: string; saveBestOnly?: boolean; mode?: Mode } = {},
  ) {}

  async onEpochEnd(epoch: number, logs: Logs, model: Model): Promise<void> {
    const monitor = this.options.monitor ?? 'val_loss';
    if (this.options.saveBestOnly) {
      const value = monitored(logs, monitor, 'ModelCheckpoint');
      if (!Number.isNaN(this.best) && !better(this.options.mode ?? 'auto', monitor, value, this.best, 0)) return;
      this.best = value;
    }
    const path = this.path.replace('{epoch}', String(epoch + 1));
    await model.saveWeights(path);
    this.saved.push(path);
  }
}

/** Writes the per-epoch logs as CSV (header from the first epoch) or JSON lines, rewritten whole each epoch. */
export class CSVLogger implements Callback {
  private rows: Logs[] = [];
  constructor(private readonly path: string) {}

  onTrainBegin(): void {
    this.rows = [];
  }

  async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    this.rows.push({ epoch, ...logs });
    const keys = Object.keys(this.rows[0]);
    const text = this.path.endsWith('.json')
      ? JSON.stringify(this.rows, null, 1)
      : [keys.join(','), ...this.rows.map((r) => keys.map((k) => r[k]).join(','))].join('\n') + '\n';
    await writeAtomic(this.path, text);
  }
}
