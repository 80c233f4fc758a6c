import { WgradError } from '../errors.js';
import { host } from '../platform/host.js';
import { writeHost } from '../ops/op.js';
import type { Model } from './model.js';

export type Logs = Record<string, number>;

/** Hooks into fit(); each may be async (fit awaits it). */
export interface Callback {
  onTrainBegin?(model: Model): void | Promise<void>;
  onEpochEnd?(epoch: number, logs: Logs, model: Model): void | Promise<void>;
  onTrainEnd?(model: Model): void | Promise<void>;
}

/** Writes text so that the file is whole or absent: a temporary file beside it, then a rename. */
export async function writeAtomic(path: string, text: string): Promise<void> {
  await (await host()).writeFileAtomic(path, [new TextEncoder().encode(text)]);
}

type Mode = 'min' | 'max' | 'auto';
const better = (mode: Mode, monitor: string, a: number, b: number, minDelta: number) => {
  const m = mode === 'auto' ? (/acc|auc|precision|recall/.test(monitor) ? 'max' : 'min') : mode;
  return m === 'min' ? a < b - minDelta : a > b + minDelta;
};

/**
 * Whether `value` improves on `best` (null: nothing seen yet). NaN is the worst value: it never improves, so a NaN
 * epoch counts against patience and is never saved as the best (NaN also stood for "nothing seen yet" here before,
 * which made every NaN epoch the best).
 */
function improves(mode: Mode, monitor: string, value: number, best: number | null, minDelta: number): boolean {
  if (Number.isNaN(value)) return false;
  return best === null || better(mode, monitor, value, best, minDelta);
}

function monitored(logs: Logs, monitor: string, who: string): number {
  const v = logs[monitor];
  if (v === undefined) throw new WgradError(`${who}: '${monitor}' is not in the logs (${Object.keys(logs).join(', ')}); pass validationData or monitor another key.`);
  return v;
}

/** Stops training when `monitor` has not improved for `patience` epochs; can restore the best epoch's weights. */
export class EarlyStopping implements Callback {
  readonly monitor: string;
  private best: number | null = null;
  private wait = 0;
  private bestWeights: Float32Array[] | null = null;
  bestEpoch = -1;
  stoppedEpoch = -1;

  constructor(private readonly options: { monitor?: string; patience?: number; minDelta?: number; mode?: Mode; restoreBestWeights?: boolean } = {}) {
    this.monitor = options.monitor ?? 'val_loss';
  }

  onTrainBegin(): void {
    this.best = null;
    this.wait = 0;
    this.bestWeights = null;
  }

  async onEpochEnd(epoch: number, logs: Logs, model: Model): Promise<void> {
    const value = monitored(logs, this.monitor, 'EarlyStopping');
    if (improves(this.options.mode ?? 'auto', this.monitor, value, this.best, this.options.minDelta ?? 0)) {
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

export interface ReduceLROnPlateauOptions {
  monitor?: string;
  /** The rate is multiplied by this (< 1) on a plateau; Keras's default 0.1. */
  factor?: number;
  /** Epochs without improvement before the rate drops; Keras's default 10. */
  patience?: number;
  minDelta?: number;
  mode?: Mode;
  /** Epochs to wait after a drop before counting again. */
  cooldown?: number;
  /** The rate never drops below this. */
  minLr?: number;
}

/** Multiplies the optimizer's learning rate by `factor` when `monitor` stops improving, with Keras's rules. */
export class ReduceLROnPlateau implements Callback {
  readonly monitor: string;
  /** The rate after each epoch, for inspection. */
  readonly rates: number[] = [];
  private best: number | null = null;
  private wait = 0;
  private cooldownLeft = 0;

  constructor(private readonly options: ReduceLROnPlateauOptions = {}) {
    this.monitor = options.monitor ?? 'val_loss';
    const factor = options.factor ?? 0.1;
    if (!(factor > 0 && factor < 1)) throw new WgradError(`ReduceLROnPlateau: factor must be in (0, 1), got ${factor}; the rate is multiplied by it.`);
  }

  onTrainBegin(model: Model): void {
    if (model.optimizer?.schedule) {
      throw new WgradError('ReduceLROnPlateau: the optimizer follows a learning-rate schedule, which would overwrite each drop; pass a fixed learningRate or drop one of the two.');
    }
    this.best = null;
    this.wait = 0;
    this.cooldownLeft = 0;
  }

  onEpochEnd(_epoch: number, logs: Logs, model: Model): void {
    const value = monitored(logs, this.monitor, 'ReduceLROnPlateau');
    const optimizer = model.optimizer!;
    if (this.cooldownLeft > 0) {
      this.cooldownLeft--;
      this.wait = 0;
    }
    if (improves(this.options.mode ?? 'auto', this.monitor, value, this.best, this.options.minDelta ?? 1e-4)) {
      this.best = value;
      this.wait = 0;
    } else if (this.cooldownLeft === 0 && ++this.wait >= (this.options.patience ?? 10)) {
      const minLr = this.options.minLr ?? 0;
      // Compared in float32, as Keras does, so a rate already at the floor stays there.
      if (Math.fround(optimizer.learningRate) > Math.fround(minLr)) {
        optimizer.learningRate = Math.max(optimizer.learningRate * (this.options.factor ?? 0.1), minLr);
        this.cooldownLeft = this.options.cooldown ?? 0;
        this.wait = 0;
      }
    }
    this.rates.push(optimizer.learningRate);
  }
}

/** Saves weights (safetensors) after each epoch, or only when `monitor` improves. `{epoch}` in the path is filled in. */
export class ModelCheckpoint implements Callback {
  private best: number | null = null;
  readonly saved: string[] = [];

  constructor(
    private readonly path: string,
    private readonly options: { monitor?: string; saveBestOnly?: boolean; mode?: Mode } = {},
  ) {}

  async onEpochEnd(epoch: number, logs: Logs, model: Model): Promise<void> {
    const monitor = this.options.monitor ?? 'val_loss';
    if (this.options.saveBestOnly) {
      const value = monitored(logs, monitor, 'ModelCheckpoint');
      if (!improves(this.options.mode ?? 'auto', monitor, value, this.best, 0)) return;
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
