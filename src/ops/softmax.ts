import type { GpuDevice } from '../device/device.js';
import { gridFor } from '../device/device.js';
import { defaultWorkgroup, params } from '../device/uniforms.js';
import { DTypeError } from '../errors.js';
import { normAxis, numel, type Shape } from '../tensor/dims.js';
import type { Tensor } from '../tensor/tensor.js';
import { defineOp, noGradient, run } from './op.js';
import { readInputs } from './staged.js';
import { transpose } from './shape.js';

const rowsCols = (shape: Shape): [number, number] => {
  const cols = shape[shape.length - 1] ?? 1;
  return [cols === 0 ? 0 : numel(shape) / cols, cols];
};

// Rows up to this long go one per invocation (no barriers); longer ones get a workgroup each. On llvmpipe the
// [12544, 49] attention softmax ran several times faster one row per lane; a long row needs a workgroup's lanes.
const ROW_PER_LANE_MAX = 256;
// A row of a few hundred keeps 64 lanes busy; longer rows use 256.
const workgroupFor = (cols: number): number => (cols <= 512 ? 64 : 256);

// Rows this short fit in 16 vec4 words, read once into registers by softmax_rows*.wgsl.
const VEC_ROW_MAX = 61;

function dispatchRows(device: GpuDevice, kernel: 'softmax' | 'softmax_backward', log: boolean, read: GPUBuffer[], out: GPUBuffer, shape: Shape): void {
  const [rows, cols] = rowsCols(shape);
  if (rows * cols === 0) return;
  const perLane = cols <= ROW_PER_LANE_MAX;
  const rowKernel = kernel === 'softmax' ? 'softmax_rows' : 'softmax_rows_backward';
  // Longer rows of whole words are read three times (twice for the gradient) from staged textures and stored a word
  // at a time (main_words_staged); on llvmpipe the [32,4,200,200] scores of a text model's attention took 46 ms
  // through softmax.wgsl's lane path.
  const words = cols > VEC_ROW_MAX && perLane && cols % 4 === 0;
  if (cols <= VEC_ROW_MAX || words) {
    // The inputs (x, or y and dy) may be read from staged textures (staged.ts).
    const inputs = readInputs(device, read, Math.ceil((rows * cols) / 4));
    // Rows of words whose inputs stayed buffers (GPUs, small tensors) go on to softmax.wgsl below; unstaged inputs
    // hold no textures, so there is nothing to release on that path.
    if (!words || inputs.staged) {
      const wg = defaultWorkgroup(rowKernel, 'WG');
      const grid = gridFor(rows, wg);
      device.dispatch({
        kernel: rowKernel,
        entryPoint: words ? 'main_words_staged' : inputs.staged ? 'main_staged' : 'main',
        constants: words ? { WG: wg, LOG: log } : { WG: wg, WORDS: Math.floor((cols + 2) / 4) + 1, LOG: log, FULL: Math.max(0, Math.floor(cols / 4) - 1) },
        uniforms: params(rowKernel, { rows, cols, grid_x: grid[0], stage_shift: inputs.shift }),
        textures: inputs.textures,
        read: inputs.read,
        write: [out],
        workgroups: grid,
      });
      inputs.release();
      return;
    }
  }
  const wg = perLane ? defaultWorkgroup(kernel, 'WG') : workgroupFor(cols);
  const grid = gridFor(perLane ? rows : rows * wg, wg);
  device.dispatch({
    kernel,
    constants: { WG: wg, LOG: log, ROW_PER_LANE: perLane },
    uniforms: params(kernel, { rows, cols, grid_x: grid[0] }),
    read,
    write: [out],
    workgroups: grid,
  });
}

/** Softmax (or log-softmax) over the last axis, max-shifted; a row of all -inf gives zeros (softmax). */
function cpuSoftmax(x: Float64Array | Int32Array, shape: Shape, log: boolean): Float64Array {
  const [rows, cols] = rowsCols(shape);
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let c = 0; c < cols; c++) m = Math.max(m, x[r * cols + c]);
    const shift = m === -Infinity ? 0 : m;
    let s = 0;
    for (let c = 0; c < cols; c++) s += Math.exp(x[r * cols + c] - shift);
    for (let c = 0; c < cols; c++) {
      const v = x[r * cols + c] - shift;
      out[r * cols + c] = log ? v - Math.log(s) : m === -Infinity ? 0 : Math.exp(v) / s;
    }
  }
  return out;
}

const softmaxGradOp = defineOp<{ log: boolean }>({
  name: 'softmaxGrad',
  infer([y]) {
    return { shape: y.shape, dtype: 'float32' };
  },
  cpu([y, g], { log }) {
    const [rows, cols] = rowsCols(y.shape);
    const out = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      let total = 0;
      for (let c = 0; c < cols; c++) total += log ? g.data[r * cols + c] : g.data[r * cols + c] * y.data[r * cols + c];
      for (let c = 0; c < cols; c++) {
        const i = r * cols + c;
        out[i] = log ? g.data[i] - Math.exp(y.data[i]) * total : y.data[i] * (g.data[i] - total);
      }
    }
    return out;
  },
  webgpu(device, [y, g], { log }, out) {
    dispatchRows(device, 'softmax_backward', log, [y.buffer, g.buffer], out.buffer, y.shape);
  },
  vjp: noGradient('second derivatives of softmax are not implemented'),
});

const softmaxOp = defineOp<{ log: boolean }>({
  name: 'softmax',
  infer([x], { log }) {
    if (x.dtype !== 'float32') throw new DTypeError(`${log ? 'logSoftmax' : 'softmax'}: expects float32, got ${x.dtype}.`);
    return { shape: x.shape, dtype: 'float32' };
  },
  cpu: ([x], { log }) => cpuSoftmax(x.data, x.shape, log),
  webgpu(device, [x], { log }, out) {
    dispatchRows(device, 'softmax', log, [x.buffer], out.buffer, x.shape);
  },
  vjp: (g, { attrs: { log }, output }) => [run(softmaxGradOp, [output, g], { log })],
});

function alongAxis(x: Tensor, axis: number, log: boolean): Tensor {
  const a = normAxis(log ? 'logSoftmax' : 'softmax', axis, Math.max(x.rank, 1));
  if (x.rank === 0 || a === x.rank - 1) return run(softmaxOp, [x], { log });
  // The kernels work on the last axis; other axes travel there and back with two permutes.
  return transpose(run(softmaxOp, [transpose(x, a, -1)], { log }), a, -1);
}

/** exp(x - max) / sum(exp(x - max)) along `axis` (default last); short rows one per invocation, long ones a workgroup each. */
export const softmax = (x: Tensor, axis = -1): Tensor => alongAxis(x, axis, false);
/** x - max - log(sum(exp(x - max))) along `axis` (default last). */
export const logSoftmax = (x: Tensor, axis = -1): Tensor => alongAxis(x, axis, true);
