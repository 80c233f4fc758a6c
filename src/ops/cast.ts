import { DTypeError } from '../errors.js';
import { gridFor } from '../device/device.js';
import { defaultWorkgroup, params } from '../device/uniforms.js';
import { numel } from '../tensor/dims.js';
import type { DType, Tensor } from '../tensor/tensor.js';
import { defineOp, noGradient, run } from './op.js';
import { reshape } from './shape.js';

const castOp = defineOp<{ dtype: DType }>({
  name: 'cast',
  infer([x], { dtype }) {
    return { shape: x.shape, dtype };
  },
  cpu([x], { dtype }) {
    return dtype === 'int32' ? Int32Array.from(x.data, Math.trunc) : Float64Array.from(x.data);
  },
  webgpu(device, [x], { dtype }, out) {
    const n = numel(x.shape);
    const grid = gridFor(n, defaultWorkgroup('cast', 'WG'));
    device.dispatch({
      kernel: 'cast',
      constants: { TO_FLOAT: dtype === 'float32' },
      uniforms: params('cast', { n, grid_x: grid[0] }),
      read: [x.buffer],
      write: [out.buffer],
      workgroups: grid,
    });
  },
  vjp: noGradient('casts between float32 and int32 carry no gradient'),
});

/** Converts between float32 and int32 (float to int truncates toward zero). */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (dtype !== 'float32' && dtype !== 'int32') throw new DTypeError(`cast: dtype '${String(dtype)}' is not supported; use 'float32' or 'int32'.`);
  if (x.dtype === dtype) return reshape(x, x.shape);
  const out = run(castOp, [x], { dtype });
  if (dtype === 'int32' && x.hostInts) out.hostInts = x.hostInts;
  return out;
}
