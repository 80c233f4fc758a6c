// The workgroup-tiled variant (kernels/matmul_tiled.wgsl): 64x64 tiles staged in workgroup memory. The GPU default.
import type { GpuDevice } from '../../device/device.js';
import { params } from '../../device/uniforms.js';
import { numel } from '../../tensor/dims.js';
import { prepare, type Operand } from './operand.js';
import { ACT_CODE, matmulDims, type Activation, type MatmulAttrs } from './reference.js';

/** Reads transposed operands and tails in place; only a partially broadcast batch is expanded. */
export function tiledMatmul(device: GpuDevice, a: Operand, b: Operand, bias: GPUBuffer | null, out: GPUBuffer, attrs: MatmulAttrs, act: Activation): void {
  const { m, n, k, batch } = matmulDims(a.shape, b.shape, attrs);
  const temps: GPUBuffer[] = [];
  const [aBuf, aStep] = prepare(device, a, batch, false, null, temps);
  const [bBuf, bStep] = prepare(device, b, batch, false, null, temps);
  device.dispatch({
    kernel: 'matmul_tiled',
    constants: { TRANS_A: attrs.transA, TRANS_B: attrs.transB, HAS_BIAS: bias !== null, ACT: ACT_CODE[act] },
    uniforms: params('matmul_tiled', { m, n, k, a_batch: aStep, b_batch: bStep, c_batch: m * n }),
    read: [aBuf, bBuf, bias ?? aBuf],
    write: [out],
    workgroups: [Math.ceil(n / 64), Math.ceil(m / 64), numel(batch)],
  });
  for (const t of temps) device.free(t);
}
