import { backward } from './backward.js';
import { AutogradError } from '../errors.js';
import { noGrad } from '../tensor/grad-mode.js';
import { mul } from '../ops/binary.js';
import { fromHost } from '../ops/op.js';
import { sum } from '../ops/reduce.js';
import { Rng } from '../tensor/random.js';
import { tidy, type Tensor } from '../tensor/tensor.js';

export interface GradcheckOptions {
  /** Central-difference step (default 1e-6, for float64). */
  eps?: number;
  /** Pass when |analytic - numeric| <= atol + rtol * |numeric| (defaults 1e-5 and 1e-3, as torch.autograd.gradcheck). */
  atol?: number;
  rtol?: number;
  /** Throw an AutogradError on failure (default true); otherwise return the report. */
  raise?: boolean;
  /** Seed of the random upstream gradient. */
  seed?: number;
}

export interface GradcheckFailure {
  input: number;
  index: number;
  analytic: number;
  numeric: number;
}

export interface GradcheckReport {
  ok: boolean;
  failures: GradcheckFailure[];
  /** Largest |analytic - numeric| seen. */
  maxAbsError: number;
  checked: number;
}

/**
 * Compares the gradients from backward() with central differences, in the style of torch.autograd.gradcheck.
 * `fn` may return any shape: it is reduced to the scalar sum(fn(x) * v) with a fixed random v, so one backward pass
 * checks a full vector-Jacobian product. Inputs must live on the CPU backend (float64), since float32 differences
 * are too coarse for tight tolerances. Each input that requires grad is perturbed in place and restored, so inputs
 * can be a layer's own parameters that `fn` closes over. Their `.grad` is left as it was.
 */
export async function gradcheck(
  fn: (...inputs: Tensor[]) => Tensor,
  inputs: Tensor[],
  options: GradcheckOptions = {},
): Promise<GradcheckReport> {
  const { eps = 1e-6, atol = 1e-5, rtol = 1e-3, raise = true, seed = 1234 } = options;
  for (const x of inputs) {
    if (x.backend !== 'cpu') throw new AutogradError('gradcheck: inputs must be on the CPU backend (float64); create them with { backend: "cpu" }.');
  }
  const checked = inputs.filter((x) => x.requiresGrad && x.dtype === 'float32');
  if (checked.some((x) => x.node)) throw new AutogradError('gradcheck: inputs must be leaves (made by tensor() or a layer), not results of ops.');
  const shapeOut = noGrad(() => tidy(() => fn(...inputs).shape));
  const rng = new Rng(seed);
  const v = Array.from({ length: shapeOut.reduce((a, b) => a * b, 1) }, () => rng.uniform() * 2 - 1);
  const direction = fromHost(v, shapeOut, { backend: 'cpu' });
  const objective = () => sum(mul(fn(...inputs), direction));

  const saved = checked.map((x) => x.grad);
  for (const x of checked) x.grad = null;
  tidy(() => backward(objective()));
  const analytic = checked.map((x) => (x.grad ? Float64Array.from(x.grad.storage.cpu!) : new Float64Array(x.size)));
  checked.forEach((x, i) => {
    x.grad?.dispose();
    x.grad = saved[i];
  });

  const failures: GradcheckFailure[] = [];
  let maxAbsError = 0;
  let count = 0;
  const evaluate = () => noGrad(() => tidy(() => objective().storage.cpu![0]));
  checked.forEach((x, i) => {
    const values = x.storage.cpu!;
    for (let j = 0; j < x.size; j++) {
      const original = values[j];
      values[j] = original + eps;
      const plus = evaluate();
      values[j] = original - eps;
      const minus = evaluate();
      values[j] = original;
      const numeric = (plus - minus) / (2 * eps);
      const a = analytic[i][j];
      const err = Math.abs(a - numeric);
      maxAbsError = Math.max(maxAbsError, err);
      count++;
      if (!(err <= atol + rtol * Math.abs(numeric))) failures.push({ input: inputs.indexOf(x), index: j, analytic: a, numeric });
    }
  });
  direction.dispose();
  const report = { ok: failures.length === 0, failures, maxAbsError, checked: count };
  if (!report.ok && raise) {
    const shown = failures
      .slice(0, 5)
      .map((f) => `input ${f.input} index ${f.index}: analytic ${f.analytic} vs numeric ${f.numeric}`)
      .join('; ');
    throw new AutogradError(`gradcheck failed at ${failures.length} of ${count} elements (eps ${eps}, atol ${atol}, rtol ${rtol}): ${shown}`);
  }
  return report;
}
