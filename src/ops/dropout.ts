import { gridFor } from '../device/device.js';
import { defaultWorkgroup, params } from '../device/uniforms.js';
import { DTypeError, WgradError } from '../errors.js';
import { dropoutUniform, nextSeed } from '../tensor/random.js';
import { numel } from '../tensor/dims.js';
import type { Tensor } from '../tensor/tensor.js';
import { defineOp, run, type OpDef } from './op.js';
import { reshape } from './shape.js';

interface DropoutAttrs {
  rate: number;
  seed: number;
  /** Element i draws u(seed, offset + i): a block of a larger tensor draws that tensor's mask. */
  offset: number;
}

const dropoutOp: OpDef<DropoutAttrs> = defineOp<DropoutAttrs>({
  name: 'dropout',
  infer([x]) {
    if (x.dtype !== 'float32') throw new DTypeError(`dropout: expects float32, got ${x.dtype}.`);
    return { shape: x.shape, dtype: 'float32' };
  },
  cpu([x], { rate, seed, offset }) {
    const scale = 1 / (1 - rate);
    const out = new Float64Array(x.data.length);
    for (let i = 0; i < out.length; i++) out[i] = dropoutUniform(seed, (offset + i) >>> 0) >= rate ? x.data[i] * scale : 0;
    return out;
  },
  webgpu(device, [x], { rate, seed, offset }, out) {
    const n = numel(x.shape);
    // A word of four elements per invocation (kernels/dropout.wgsl says why).
    const grid = gridFor(Math.ceil(n / 4), defaultWorkgroup('dropout', 'WG'));
    device.dispatch({
      kernel: 'dropout',
      uniforms: params('dropout', { n, seed, offset: offset >>> 0, rate, scale: 1 / (1 - rate), grid_x: grid[0] }),
      read: [x.buffer],
      write: [out.buffer],
      workgroups: grid,
    });
  },
  // Same seed, same mask: the gradient is dropout of g.
  vjp: (g, { attrs }) => [run(dropoutOp, [g], attrs)],
});

export interface DropoutOptions {
  /** Seed of the mask; without one the global generator (manualSeed) supplies it. */
  seed?: number;
  /** In eval mode (false) dropout is the identity. Default true. */
  training?: boolean;
}

/** Zeroes each element with probability `rate` and scales the rest by 1/(1-rate) (inverted dropout). */
export function dropout(x: Tensor, rate: number, options: DropoutOptions = {}): Tensor {
  if (!(typeof rate === 'number' && rate >= 0 && rate < 1)) throw new WgradError(`dropout: rate ${JSON.stringify(rate)} must be a number in [0, 1).`);
  if (options.training === false || rate === 0) return reshape(x, x.shape);
  return run(dropoutOp, [x], { rate, seed: (options.seed ?? nextSeed()) >>> 0, offset: 0 });
}

/**
 * dropout() of a block that starts at element `offset` of a larger tensor: the block gets the elements of the mask
 * dropout(whole, rate, { seed }) would draw there. For attention(), which runs its weights in blocks; not exported
 * from the package.
 */
export function dropoutBlock(x: Tensor, rate: number, seed: number, offset: number): Tensor {
  return run(dropoutOp, [x], { rate, seed: seed >>> 0, offset });
}
