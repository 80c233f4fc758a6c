import { backward } from './autograd.ts';
import { AutogradError } from './errors.ts';
import { noGrad } from './grad-mode.ts';
import { mul } from './ops/binary.ts';
import { fromHost } from './ops/op.ts';
import { sum } from './ops/reduce.ts';
import { Rng } from './random.ts';
import { tidy, type Tensor } from './tensor.ts';

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
 * checks a full vector-Jacobian product. Inputs must live on the CPU backend (float64); float32 differences are too
 * coarse for tight tolerances. Inputs that do not require grad are held constant.
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
  const shapeOut = noGrad(() => tidy(() => fn(...inputs).shape));
  const rng = new Rng(seed);
  const v = Array.from({ length: shapeOut.reduce((a, b) => a * b, 1) }, () => rng.uniform() * 2 - 1);
  const direction = fromHost(v, shapeOut, { backend: 'cpu' });
  const objective = (...xs: Tensor[]) => sum(mul(fn(...xs), direction));

  const leaves = inputs.map((x) => {
    const leaf = fromHost(x.storage.cpu!, x.shape, { backend: 'cpu', dtype: x.dtype, requiresGrad: x.requiresGrad && x.dtype === 'float32' });
    leaf.hostInts = x.hostInts;
    return leaf;
  });
  tidy(() => backward(objective(...leaves)));

  const failures: GradcheckFailure[] = [];
  let maxAbsError = 0;
  let checked = 0;
  for (let i = 0; i < leaves.length; i++) {
    const leaf = leaves[i];
    if (!leaf.requiresGrad) continue;
    const analytic = leaf.grad ? leaf.grad.storage.cpu! : new Float64Array(leaf.size);
    const base = leaf.storage.cpu!;
    for (let j = 0; j < leaf.size; j++) {
      const at = (delta: number): number =>
        noGrad(() =>
          tidy(() => {
            const values = Float64Array.from(base);
            values[j] += delta;
            const xs = leaves.map((l, k) => (k === i ? fromHost(values, l.shape, { backend: 'cpu' }) : l));
            return objective(...xs).storage.cpu![0];
          }),
        );
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      const a = analytic[j];
      const err = Math.abs(a - numeric);
      maxAbsError = Math.max(maxAbsError, err);
      checked++;
      if (!(err <= atol + rtol * Math.abs(numeric))) failures.push({ input: i, index: j, analytic: a, numeric });
    }
  }
  for (const l of leaves) {
    l.grad?.dispose();
    l.dispose();
  }
  direction.dispose();
  const report = { ok: failures.length === 0, failures, maxAbsError, checked };
  if (!report.ok && raise) {
    const shown = failures
      .slice(0, 5)
      .map((f) => `input ${f.input} index ${f.index}: analytic ${f.analytic} vs numeric ${f.numeric}`)
      .join('; ');
    throw new AutogradError(`gradcheck failed at ${failures.length} of ${checked} elements (eps ${eps}, atol ${atol}, rtol ${rtol}): ${shown}`);
  }
  return report;
}
