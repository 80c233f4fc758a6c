import { gridFor } from '../device/device.js';
import { loopBudget } from '../device/variants.js';
import { defaultWorkgroup, params } from '../device/uniforms.js';
import { AutogradError, DTypeError, IndexError, ShapeError } from '../errors.js';
import { fmt, numel } from '../tensor/dims.js';
import type { Tensor } from '../tensor/tensor.js';
import { defineOp, fromHost, noGradient, run } from './op.js';
import { reshape } from './shape.js';

/** Row groups of an index vector: for each distinct row, the positions that read it, in ascending order. */
function segments(indices: Int32Array): { rows: Int32Array; seg: Int32Array; pos: Int32Array } {
  const order = Array.from(indices.keys()).sort((p, q) => indices[p] - indices[q] || p - q);
  const rows: number[] = [];
  const seg: number[] = [];
  order.forEach((p, s) => {
    if (s === 0 || indices[p] !== indices[order[s - 1]]) {
      rows.push(indices[p]);
      seg.push(s);
    }
  });
  seg.push(order.length);
  return { rows: Int32Array.from(rows), seg: Int32Array.from(seg), pos: Int32Array.from(order) };
}

/** Sums rows of g [N, D] into a [V, D] table at `indices`: gather's gradient, deterministic by construction. */
/** vocab: the table's rows; longest: the most positions that gathered one row (the kernel's loop, see below). */
const scatterAddOp = defineOp<{ vocab: number; longest: number }>({
  name: 'scatterAdd',
  infer([g], { vocab }) {
    return { shape: [vocab, g.shape[g.rank - 1]], dtype: 'float32' };
  },
  cpu([g, rows, seg, pos], { vocab }) {
    const d = g.shape[g.shape.length - 1];
    const out = new Float64Array(vocab * d);
    for (let u = 0; u < rows.data.length; u++) {
      for (let s = seg.data[u]; s < seg.data[u + 1]; s++) {
        for (let j = 0; j < d; j++) out[rows.data[u] * d + j] += g.data[pos.data[s] * d + j];
      }
    }
    return out;
  },
  webgpu(device, [g, rows, seg, pos], { vocab, longest }, out) {
    const d = g.shape[g.shape.length - 1];
    const u = rows.shape[0];
    device.clear(out.buffer, vocab * d * 4);
    if (u * d === 0) return;
    // Rows of whole vec4 words sum a word an invocation (kernels/scatter_add.wgsl); d is then counted in words.
    const words = d % 4 === 0;
    const dk = words ? d / 4 : d;
    const grid = gridFor(u * dk, defaultWorkgroup('scatter_add', 'WG'));
    // The longest group in pieces of the loop budget: one piece unless a row was gathered that many times.
    const piece = Math.min(Math.max(longest, 1), loopBudget(device.report));
    for (let first = 0; first < longest; first += piece) {
      device.dispatch({
        kernel: 'scatter_add',
        entryPoint: words ? 'main_vec4' : 'main',
        uniforms: params('scatter_add', { u, d: dk, grid_x: grid[0], first, len: piece }),
        read: [g.buffer, rows.buffer, seg.buffer, pos.buffer],
        write: [out.buffer],
        workgroups: grid,
      });
    }
  },
  vjp: noGradient('second derivatives of gather are not implemented'),
});

/** The error for an index outside the table, wherever it is found (host, reference, or the kernel's flag). */
const outOfRange = (index: number, position: number, [v, d]: readonly number[], where = '', hint = ''): IndexError =>
  new IndexError(`gather: index ${index} at position ${position}${where} is out of range for a table of ${v} rows [${v},${d}]; valid indices are 0..${v - 1}.${hint}`);

/** deviceCheck: the indices have no host copy (the GPU computed them), so the kernel checks them. */
const gatherOp = defineOp<{ deviceCheck: boolean }>({
  name: 'gather',
  infer([table, idx]) {
    if (idx.dtype !== 'int32') {
      throw new DTypeError(`gather: indices must be int32, got ${idx.dtype}; create them with tensor(values, shape, { dtype: 'int32' }).`);
    }
    if (table.dtype !== 'float32' || table.rank !== 2) {
      throw new ShapeError(`gather: the table must be a float32 matrix [rows, features], got ${table.dtype} ${fmt(table.shape)}; reshape the table to [rows, features].`);
    }
    return { shape: [...idx.shape, table.shape[1]], dtype: 'float32' };
  },
  cpu([table, idx]) {
    const [v, d] = table.shape;
    const out = new Float64Array(idx.data.length * d);
    idx.data.forEach((row, n) => {
      // Indices computed by the reference (a cast) have no host copy either; a bad one must not read zeros.
      if (row < 0 || row >= v) throw outOfRange(row, n, table.shape);
      out.set(table.data.subarray(row * d, row * d + d), n * d);
    });
    return out;
  },
  webgpu(device, [table, idx], { deviceCheck }, out) {
    const n = numel(idx.shape);
    const d = table.shape[1];
    // Rows of whole vec4 words move a word an invocation (kernels/gather.wgsl); d is then counted in words.
    const words = d % 4 === 0;
    const dk = words ? d / 4 : d;
    const grid = gridFor(n * dk, defaultWorkgroup('gather', 'WG'));
    const v = table.shape[0];
    // Indices with a host copy were checked before the dispatch; indices the GPU computed are checked there, and a
    // violation raises at the next readback (the kernel's clamp only keeps the read inside the table).
    const site = !deviceCheck ? -1 : device.check({ error: (value, position) => outOfRange(value, position, table.shape, ' (computed on the GPU)', ' Check the op that computed the indices.') });
    device.dispatch({
      kernel: 'gather',
      entryPoint: words ? 'main_vec4' : 'main',
      uniforms: params('gather', { n, d: dk, v, grid_x: grid[0], site: site + 1 }),
      read: [table.buffer, idx.buffer],
      write: [out.buffer, device.checkBuffer],
      workgroups: grid,
    });
  },
  vjp: (g, { inputs: [table, idx] }) => {
    const host = idx.hostInts;
    if (!host) {
      throw new AutogradError('gather: the gradient needs the index values on the host; build the indices with tensor(), not on the GPU.');
    }
    const { rows, seg, pos } = segments(host);
    const opts = { dtype: 'int32' as const, backend: g.backend };
    const parts = [fromHost(rows, [rows.length], opts), fromHost(seg, [seg.length], opts), fromHost(pos, [pos.length], opts)];
    const d = table.shape[1];
    let longest = 0;
    for (let u = 0; u + 1 < seg.length; u++) longest = Math.max(longest, seg[u + 1] - seg[u]);
    const grad = run(scatterAddOp, [g.rank === 2 ? g : reshape(g, [-1, d]), ...parts], { vocab: table.shape[0], longest });
    for (const p of parts) p.dispose();
    return [grad, null];
  },
});

/**
 * Rows of `table` [V, D] at int32 `indices` (any shape) → [...indices.shape, D]: an embedding lookup.
 * Indices are checked on the host; the gradient scatter-adds into the table in a fixed order.
 */
export function gather(table: Tensor, indices: Tensor): Tensor {
  const host = indices.hostInts;
  if (host) {
    const v = table.shape[0];
    for (let i = 0; i < host.length; i++) {
      if (host[i] < 0 || host[i] >= v) throw outOfRange(host[i], i, table.shape);
    }
  }
  return run(gatherOp, [table, indices], { deviceCheck: host === null });
}
