// Operands as a matmul kernel reads them: in place, or copied into a padded (and possibly transposed) layout.
import type { GpuDevice } from '../../device/device.js';
import { broadcastStrides, numel, stridesOf, type Shape } from '../../tensor/dims.js';
import { gpuCopy } from '../strided.js';

/** Batch step of an operand: whole-batch, broadcast (0), or null when it must be expanded first. */
export function batchStep(own: Shape, batch: Shape, matrix: number): number | null {
  if (numel(own) === numel(batch)) return matrix;
  if (numel(own) === 1) return 0;
  return null;
}

export interface Operand {
  buffer: GPUBuffer;
  shape: Shape;
}

/**
 * The operand as the kernel will read it: its buffer and batch step. With `pad`, the logical matrix (transposed if
 * `trans`) is laid out row-major as [rows, cols] padded with zeros to [padRows, padCols]; without, it is read where
 * it is, and only a partially broadcast batch (e.g. [2,1] against [1,3]) is expanded.
 */
export function prepare(
  device: GpuDevice,
  op: Operand,
  batch: Shape,
  trans: boolean,
  pad: { rows: number; cols: number } | null,
  temps: GPUBuffer[],
): [GPUBuffer, number] {
  const r = op.shape.length;
  const [stored0, stored1] = [op.shape[r - 2], op.shape[r - 1]];
  const matrix = stored0 * stored1;
  const own = op.shape.slice(0, -2);
  const step = batchStep(own, batch, matrix);
  if (!pad && step !== null) return [op.buffer, step];
  const [rows, cols] = trans ? [stored1, stored0] : [stored0, stored1];
  const [padRows, padCols] = pad ? [pad.rows, pad.cols] : [rows, cols];
  const iterBatch = step === null ? [...batch] : [...own];
  const batchStrides = step === null ? broadcastStrides(own, batch).map((x) => x * matrix) : stridesOf(own).map((x) => x * matrix);
  const count = numel(iterBatch);
  const out = device.alloc(count * padRows * padCols * 4);
  temps.push(out);
  if (padRows !== rows || padCols !== cols) device.clear(out, count * padRows * padCols * 4);
  const src = [...batchStrides, ...(trans ? [1, stored1] : [stored1, 1])];
  const dst = [...stridesOf(iterBatch).map((x) => x * padRows * padCols), padCols, 1];
  gpuCopy(device, op.buffer, out, [...iterBatch, rows, cols], { offset: 0, strides: src }, { offset: 0, strides: dst });
  return [out, count === 1 && numel(batch) > 1 ? 0 : padRows * padCols];
}

