import { WgradError } from '../errors.js';
import { noGrad } from '../tensor/grad-mode.js';
import { checkBinaryLabels, getLoss, BinaryCrossentropy, type Loss } from './losses.js';
import { Accuracy, BinaryAccuracy, getMetric, type Metric } from './metrics.js';
import { Dense, Sequential } from '../nn/layers.js';
import type { Module } from '../nn/module.js';
import { add, mul } from '../ops/binary.js';
import { zeros } from '../ops/creation.js';
import { concat, slice } from '../ops/shape.js';
import { Adam, AdamW } from '../optim/adam.js';
import type { Optimizer } from '../optim/optimizer.js';
import { SGD } from '../optim/sgd.js';
import { manualSeed } from '../tensor/random.js';
import { keep, Tensor, tidy } from '../tensor/tensor.js';
import { asDataset, type Data } from './batches.js';
import { isDataset, type InputStage, type TextStage } from './dataset.js';
import type { Callback, Logs } from './callbacks.js';
import { Progress, type Verbosity } from './progress.js';
import type { MatmulProblem } from '../device/choice.js';
import { recordProblems, tuneProblems } from '../tune/tiles.js';
import { layerRows, renderSummary, type SummaryRow } from './summary.js';

interface NodeLikeProcess {
  on?(event: 'SIGINT', fn: () => void): unknown;
  off?(event: 'SIGINT', fn: () => void): unknown;
  exit(code: number): never;
}

export interface ModelOptions {
  name?: string;
  /** A frozen first stage: a backbone for images, or a TextVectorization for text. */
  input?: InputStage;
  layers: Module[];
  /** Input shape without the batch axis, when there is no input stage to tell it. */
  inputShape?: number[];
}

export type OptimizerSpec = 'adam' | 'adamw' | 'sgd' | Optimizer | ((params: [string, Tensor][]) => Optimizer);

export interface CompileOptions {
  optimizer: OptimizerSpec;
  loss: string | Loss;
  metrics?: (string | Metric)[];
}

export interface FitOptions {
  epochs?: number;
  validationData?: Data;
  callbacks?: Callback[];
  /** 1: a progress bar per epoch on a terminal, a line per epoch otherwise; 0: silent. */
  verbose?: Verbosity;
  /** Seeds weight initialisation and dropout so that runs repeat exactly (datasets carry their own seeds). */
  seed?: number;
  /**
   * What a NaN or infinite training loss does. 'raise' (the default) stops before that step updates the weights,
   * with a NonFiniteLossError naming the epoch and step; 'continue' trains on, as Keras does without TerminateOnNaN.
   */
  nonFinite?: 'raise' | 'continue';
  /**
   * Time the texture matmul's register tiles on this model's products after the first step, and keep the fastest
   * per product for this adapter (tuneTiles; software adapters only, cached, so only a model's first run on a
   * machine pays: about a minute for the seed-1 head on 2 CPU cores). Default false: on 2 Xeon cores the cost model's
   * tile was the fastest at all 9 of the seed-1 head's products (docs/kernel-choices.md).
   */
  tuneTiles?: boolean;
}

/** fit() met a NaN or infinite loss. The weights are as they were before that step; `history` holds the epochs done. */
export class NonFiniteLossError extends WgradError {
  override name = 'NonFiniteLossError';
  constructor(
    message: string,
    readonly epoch: number,
    readonly step: number,
    readonly value: number,
    readonly history: History,
  ) {
    super(message);
  }
}

/** Per-epoch lists of every logged value (loss, metrics, and their val_ forms), as Keras's History. */
export class History {
  readonly epoch: number[] = [];
  readonly history: Record<string, number[]> = {};
  /** Why training ended early: 'early-stopping', 'interrupted', or null. */
  stopped: 'early-stopping' | 'interrupted' | null = null;

  record(epoch: number, logs: Logs): void {
    this.epoch.push(epoch);
    for (const [k, v] of Object.entries(logs)) (this.history[k] ??= []).push(v);
  }
}

/**
 * A model as Keras users know it: an optional frozen input stage (computed once per image with the feature
 * cache), trainable layers, compile/fit/evaluate/predict and summary().
 */
export class Model {
  readonly name: string;
  readonly input: InputStage | null;
  readonly head: Sequential;
  stopTraining = false;
  private optimizerInstance: Optimizer | null = null;
  private optimizerSpec: OptimizerSpec | null = null;
  private loss: Loss | null = null;
  private metrics: Metric[] = [];
  private readonly inputShape: number[] | undefined;
  /** The weights are build()'s initial ones: nothing trained or loaded them since. */
  private pristine = false;

  constructor(options: ModelOptions) {
    this.name = options.name ?? 'model';
    this.input = options.input ?? null;
    this.head = new Sequential(options.layers, { name: `${this.name}_head` });
    this.inputShape = options.inputShape;
  }

  get layers(): readonly Module[] {
    return this.head.modules;
  }

  parameters(): Tensor[] {
    return this.head.parameters();
  }

  /** Shape of one example as the trainable layers receive it. */
  get headInputShape(): number[] {
    if (this.input) {
      if (!this.input.outputShape) throw new WgradError(`summary(): the ${this.input.summaryRow.type} input stage does not know its output shape yet (give a TextVectorization an outputSequenceLength).`);
      return [...this.input.outputShape];
    }
    if (!this.inputShape) throw new WgradError(`${this.name}: pass inputShape (without the batch axis) so that the layers can be built.`);
    return this.inputShape;
  }

  /** Builds every layer by running one zero example through it. */
  build(): void {
    if (this.head.isBuilt) return;
    const dtype = this.input?.outputDtype ?? this.layers[0]?.inputDtype ?? 'float32';
    noGrad(() => tidy(() => void this.head.call(zeros([1, ...this.headInputShape], { dtype }))));
    this.pristine = true;
  }

  compile(options: CompileOptions): void {
    this.loss = getLoss(options.loss);
    this.metrics = (options.metrics ?? []).map((m) => {
      const metric = getMetric(m);
      // 'accuracy' with binary cross-entropy on logits thresholds at 0, not 0.5 (Keras gets this wrong).
      if (metric instanceof Accuracy && this.loss instanceof BinaryCrossentropy) {
        return new BinaryAccuracy(this.loss.fromLogits ? 0 : 0.5, 'accuracy');
      }
      return metric;
    });
    this.optimizerSpec = options.optimizer;
    this.optimizerInstance = null;
  }

  /** The compiled optimizer, made from the compile() spec when fit() starts (null before that). */
  get optimizer(): Optimizer | null {
    return this.optimizerInstance;
  }

  private ensureOptimizer(): Optimizer {
    if (this.optimizerInstance) return this.optimizerInstance;
    const spec = this.optimizerSpec;
    if (!spec) throw new WgradError(`${this.name}: call compile({ optimizer, loss, metrics }) before fit().`);
    const params = this.head.namedParameters().filter(([, p]) => p.requiresGrad);
    if (typeof spec === 'string') {
      const make = { adam: () => new Adam(params), adamw: () => new AdamW(params), sgd: () => new SGD(params) }[spec];
      if (!make) throw new WgradError(`Unknown optimizer '${spec}'; use adam, adamw or sgd, or pass an Optimizer.`);
      this.optimizerInstance = make();
    } else this.optimizerInstance = typeof spec === 'function' ? spec(params) : spec;
    return this.optimizerInstance;
  }

  /** The last layer's activation, so that the loss can catch logits fed as probabilities (and the reverse). */
  private outputActivation(): string | undefined {
    const last = this.layers[this.layers.length - 1];
    return last instanceof Dense ? last.activation : undefined;
  }

  private checkCompiled(): Loss {
    if (!this.loss) throw new WgradError(`${this.name}: call compile({ optimizer, loss, metrics }) first.`);
    return this.loss;
  }

  /** Trains for `epochs` passes over `data`. Ctrl-C stops after the current step and keeps the history so far. */
  async fit(data: Data, options: FitOptions = {}): Promise<History> {
    const loss = this.checkCompiled();
    const epochs = options.epochs ?? 1;
    const verbose = options.verbose ?? 1;
    const callbacks = options.callbacks ?? [];
    const nonFinite = options.nonFinite ?? 'raise';
    if (nonFinite !== 'raise' && nonFinite !== 'continue') throw new WgradError(`fit(): nonFinite is 'raise' or 'continue', got '${String(nonFinite)}'.`);
    if (options.seed !== undefined) {
      manualSeed(options.seed);
      // summary() (or evaluate) may have built the weights before the seed applied: untouched ones are drawn again
      // from it, so that fit({ seed }) repeats whatever ran first. An Optimizer instance holds the old tensors.
      if (this.head.isBuilt && this.pristine && !(typeof this.optimizerSpec === 'object' && this.optimizerSpec !== null)) {
        this.head.resetParameters();
        this.optimizerInstance = null;
      }
    }
    await this.checkArrayLabels(data, loss);
    this.build();
    const optimizer = this.ensureOptimizer();
    const history = new History();
    const progress = new Progress(verbose, epochs);
    let interrupted = false;
    // Under Node, Ctrl-C stops after the current step; a second one quits at once. A browser has no signals.
    const proc = (globalThis as { process?: NodeLikeProcess }).process;
    const onSigint = () => {
      if (interrupted) proc?.exit(130);
      interrupted = true;
      progress.note('Interrupted: stopping after this step (press Ctrl-C again to quit now).');
    };
    proc?.on?.('SIGINT', onSigint);
    this.stopTraining = false;
    const context = { activation: this.outputActivation() };
    try {
      for (const cb of callbacks) await cb.onTrainBegin?.(this);
      const dataset = asDataset(data);
      for (let epoch = 0; epoch < epochs && !this.stopTraining && !interrupted; epoch++) {
        const steps = dataset.length;
        progress.epochBegin(epoch);
        this.head.train();
        for (const m of this.metrics) m.resetState();
        // The loss of each step is read before its update (the NaN check), so the running loss is summed on the host.
        let lossTotal = 0;
        let seen = 0;
        let step = 0;
        for await (const batch of dataset.batches(epoch, this.input)) {
          if (!batch.y) throw new WgradError('fit() needs labels: pass y with x, or a dataset whose labelMode is not null.');
          const forward = () =>
            tidy(() => {
              const out = this.head.call(batch.x, { training: true });
              const l = loss.call(batch.y!, out, context);
              l.backward();
              return { l, out };
            });
          let problems: MatmulProblem[] = [];
          let l: Tensor, out: Tensor;
          if (options.tuneTiles && epoch === 0 && step === 0) ({ result: { l, out }, problems } = await recordProblems(forward));
          else ({ l, out } = forward());
          // The loss is read before the update, so a NaN or Inf stops training with the weights it found.
          const value = await l.item();
          if (!Number.isFinite(value) && nonFinite === 'raise') {
            optimizer.zeroGrad();
            for (const t of [l, out, batch.x, batch.y]) t.dispose();
            throw new NonFiniteLossError(
              `fit(): the loss is ${value} at epoch ${epoch + 1}, step ${step + 1} of ${steps}, so training stopped before that step ` +
                `changed the weights. Check the inputs and labels for NaN or Inf (a NaN in one input value is enough), or lower the ` +
                `learning rate; fit({ nonFinite: 'continue' }) trains on regardless.`,
              epoch,
              step + 1,
              value,
              history,
            );
          }
          this.pristine = false;
          tidy(() => {
            optimizer.step();
            optimizer.zeroGrad();
            for (const m of this.metrics) m.updateState(batch.y!, out);
          });
          l.dispose();
          out.dispose();
          if (problems.length > 0) {
            await tuneProblems(problems, { log: verbose > 0 && ((line) => progress.note(line)), stop: () => interrupted });
          }
          lossTotal += value * batch.size;
          seen += batch.size;
          step++;
          batch.x.dispose();
          batch.y.dispose();
          if (progress.interactive) progress.step(step, steps, await this.logs(lossTotal / seen));
          if (interrupted) break;
        }
        if (seen === 0 && !interrupted) {
          throw new WgradError(`${this.name}: fit() got no examples in epoch ${epoch + 1}, so there is nothing to train on; check the dataset (an empty folder, or every file skipped as unreadable).`);
        }
        if (interrupted) {
          progress.interrupted();
          break;
        }
        const logs = await this.logs(lossTotal / seen);
        if (options.validationData) {
          const val = await this.evaluate(options.validationData, { verbose: 0 });
          for (const [k, v] of Object.entries(val)) logs[`val_${k}`] = v;
        }
        history.record(epoch, logs);
        progress.epochEnd(epoch, step, logs);
        for (const cb of callbacks) await cb.onEpochEnd?.(epoch, logs, this);
      }
      for (const cb of callbacks) await cb.onTrainEnd?.(this);
    } finally {
      proc?.off?.('SIGINT', onSigint);
      this.head.eval();
    }
    history.stopped = interrupted ? 'interrupted' : this.stopTraining ? 'early-stopping' : null;
    return history;
  }

  /** Float labels in memory have no host copy: read them once and check them against the loss. */
  private async checkArrayLabels(data: Data, loss: Loss): Promise<void> {
    if (isDataset(data) || !data.y || data.y.hostInts) return;
    if (loss instanceof BinaryCrossentropy) checkBinaryLabels(await data.y.data());
  }

  private async logs(loss: number): Promise<Logs> {
    const logs: Logs = { loss };
    for (const m of this.metrics) logs[m.name] = await m.result();
    return logs;
  }

  /** The loss and metrics over `data`, in eval mode. */
  async evaluate(data: Data, options: { verbose?: Verbosity } = {}): Promise<Logs> {
    const loss = this.checkCompiled();
    await this.checkArrayLabels(data, loss);
    this.build();
    this.head.eval();
    // Training logs are read before validation runs, so the compiled metrics can be reset and reused here.
    const metrics = this.metrics;
    for (const m of metrics) m.resetState();
    let lossSum: Tensor | null = null;
    let seen = 0;
    const context = { activation: this.outputActivation() };
    for await (const batch of asDataset(data).batches(0, this.input)) {
      if (!batch.y) throw new WgradError('evaluate() needs labels: pass y with x, or a dataset whose labelMode is not null.');
      const next = noGrad(() =>
        tidy(() => {
          const out = this.head.call(batch.x);
          for (const m of metrics) m.updateState(batch.y!, out);
          const part = mul(loss.call(batch.y!, out, context), batch.size);
          return lossSum ? add(lossSum, part) : part;
        }),
      );
      lossSum?.dispose();
      lossSum = keep(next);
      seen += batch.size;
      batch.x.dispose();
      batch.y.dispose();
    }
    if (seen === 0) throw new WgradError(`${this.name}: evaluate() got no examples, so it has no loss to report; check the dataset (an empty folder or validation split).`);
    const logs: Logs = { loss: (await lossSum!.item()) / seen };
    lossSum?.dispose();
    for (const m of metrics) logs[m.name] = await m.result();
    if (options.verbose) console.log(Object.entries(logs).map(([k, v]) => `${k}: ${v.toFixed(4)}`).join(' - '));
    return logs;
  }

  /**
   * The model's outputs for all of `x`, in eval mode, as one tensor, as Keras's predict. `x` is a tensor of examples
   * (pixels [N, H, W, C] when the model starts with a frozen backbone), texts when it starts with a
   * TextVectorization, or a dataset. Runs in batches of `batchSize` (default 32) to bound memory.
   */
  async predict(x: Tensor | string[] | Data, options: { batchSize?: number } = {}): Promise<Tensor> {
    const batchSize = options.batchSize ?? 32;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new WgradError(`predict(): batchSize must be a positive whole number, got ${batchSize}.`);
    this.build();
    this.head.eval();
    const outputs: Tensor[] = [];
    try {
      if (Array.isArray(x)) {
        if (this.input?.accepts !== 'texts') throw new WgradError(`predict(): texts need a model whose input stage is a TextVectorization; this one takes ${this.input ? this.input.accepts : 'tensors'}.`);
        for (let start = 0; start < x.length; start += batchSize) {
          const ids = (this.input as TextStage).call(x.slice(start, start + batchSize));
          outputs.push(noGrad(() => tidy(() => this.head.call(ids))));
          ids.dispose();
        }
      } else if (x instanceof Tensor) {
        if (x.rank === 0) throw new WgradError('predict(): x needs a batch axis: give it shape [examples, ...].');
        if (this.input && !this.input.transform) {
          throw new WgradError(`predict(): this model's ${this.input.summaryRow.type} input stage takes ${this.input.accepts}; pass ${this.input.accepts === 'texts' ? 'a string[]' : 'a dataset'}.`);
        }
        for (let start = 0; start < x.shape[0]; start += batchSize) {
          const part = slice(x, [start], [Math.min(batchSize, x.shape[0] - start)]);
          const staged = this.input?.transform ? await this.input.transform(part) : part;
          outputs.push(noGrad(() => tidy(() => this.head.call(staged))));
          if (staged !== part) staged.dispose();
          part.dispose();
        }
      } else {
        for await (const { output, labels } of this.predictBatches(x)) {
          outputs.push(output);
          labels?.dispose();
        }
      }
      if (outputs.length === 0) throw new WgradError('predict(): no examples to predict.');
      return outputs.length === 1 ? outputs[0] : concat(outputs, 0);
    } finally {
      if (outputs.length > 1) for (const o of outputs) o.dispose();
    }
  }

  /** Outputs batch by batch (eval mode), each with its batch's labels (and pixels) when the data has them. */
  async *predictBatches(data: Data): AsyncGenerator<{ output: Tensor; labels: Tensor | null; pixels: Float32Array | null }> {
    this.build();
    this.head.eval();
    for await (const batch of asDataset(data).batches(0, this.input)) {
      const output = noGrad(() => tidy(() => this.head.call(batch.x)));
      batch.x.dispose();
      yield { output, labels: batch.y, pixels: batch.pixels };
    }
  }

  /** The summary table (also printed unless print is false). */
  summary(options: { print?: boolean } = {}): string {
    this.build();
    const rows: SummaryRow[] = [];
    const shape = this.headInputShape;
    if (this.input) {
      const { name, type, params } = this.input.summaryRow;
      rows.push({ name, type, outputShape: [null, ...shape], params, trainable: false });
    }
    rows.push(...layerRows(this.layers, shape));
    const text = renderSummary(this.name, rows);
    if (options.print ?? true) console.log(text);
    return text;
  }

  saveWeights(path: string): Promise<void> {
    return this.head.saveWeights(path);
  }

  loadWeights(path: string): Promise<void> {
    this.build();
    this.pristine = false;
    return this.head.loadWeights(path);
  }
}
