// The register-block variant (kernels/matmul_regblock.wgsl): 4x16 outputs per invocation from vec4 buffer loads.
import type { GpuDevice } from '../../device/device.js';
import { params } from '../../device/uniforms.js';
import { numel } from '../../tensor/dims.js';
import { prepare, type Operand } from './operand.js';
import { ACT_CODE, matmulDims, type Activation, type MatmulAttrs } from './reference.js';

/** Reads vec4 rows: A as [M, K4*4] and B as [K4*4, N4*4], zero-padded; transposed or unaligned operands are packed first. */
export function regblockMatmul(device: GpuDevice, a: Operand, b: Operand, bias: GPUBuffer | null, out: GPUBuffer, attrs: MatmulAttrs, act: Activation, wgX: number): void {
  const { m, n, k, batch } = matmulDims(a.shape, b.shape, attrs);
  const temps: GPUBuffer[] = [];
  const k4 = Math.ceil(k / 4);
  const n4 = Math.ceil(n / 4);
  const aPad = attrs.transA || k % 4 !== 0 ? { rows: m, cols: k4 * 4 } : null;
  const bPad = attrs.transB || k % 4 !== 0 || n % 4 !== 0 ? { rows: k4 * 4, cols: n4 * 4 } : null;
  const [aBuf, aStep] = prepare(device, a, batch, attrs.transA, aPad, temps);
  const [bBuf, bStep] = prepare(device, b, batch, attrs.transB, bPad, temps);
  device.dispatch({
    kernel: 'matmul_regblock',
    constants: { HAS_BIAS: bias !== null, ACT: ACT_CODE[act], WG_X: wgX },
    uniforms: params('matmul_regblock', { m, n, k4, n4, a_batch: aStep, b_batch: bStep, c_batch: m * n }),
    // A bias binding must exist even when unused; `a` stands in (HAS_BIAS=false never reads it).
    read: [aBuf, bBuf, bias ?? aBuf],
    write: [out],
    workgroups: [Math.ceil(n4 / 4 / wgX), Math.ceil(m / 4), numel(batch)],
  });
  // Safe to pool now: later dispatches that reuse them are ordered after these reads.
  for (const t of temps) device.free(t);
}
