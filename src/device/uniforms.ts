import { CONTRACTS, type FieldType, type KernelName, type KernelParams } from '../generated/contracts.js';

/**
 * Writes a uniform block field by field in WGSL layout order. Hosts use params() below, which drives it from the
 * kernel's contract; tests use it directly to build a malformed block.
 */
// Blocks are built in one shared scratch and copied out at done(): every dispatch makes one, and allocating a
// 256-byte buffer and a view per block was a measurable share of the per-dispatch cost.
const scratch = new DataView(new ArrayBuffer(256));

export class Uniforms {
  private offset = 0;

  constructor() {
    new Uint8Array(scratch.buffer).fill(0);
  }

  u32(v: number): this {
    scratch.setUint32(this.offset, v >>> 0, true);
    this.offset += 4;
    return this;
  }

  i32(v: number): this {
    scratch.setInt32(this.offset, v | 0, true);
    this.offset += 4;
    return this;
  }

  f32(v: number): this {
    scratch.setFloat32(this.offset, v, true);
    this.offset += 4;
    return this;
  }

  /** Up to `width` (4 or 8) u32 values at the next 16-byte boundary, padded with 0. */
  vec(values: readonly number[], width: 4 | 8): this {
    if (values.length > width) throw new Error(`${values.length} values for a field of ${width}`);
    this.offset = Math.ceil(this.offset / 16) * 16;
    for (let i = 0; i < width; i++) this.u32(values[i] ?? 0);
    return this;
  }

  done(): ArrayBuffer {
    const size = Math.max(16, Math.ceil(this.offset / 16) * 16);
    return scratch.buffer.slice(0, size);
  }
}

/**
 * A kernel's uniform block from its fields by name, packed in the order and layout of its WGSL `struct Params`
 * (src/generated/contracts.ts, read from kernels/). A field left out is a compile error; vec4u and vec8u fields
 * (`vec4<u32>`, `array<vec4<u32>, 2>`) are 16-byte aligned and padded with 0.
 */
export function params<K extends KernelName>(kernel: K, values: KernelParams[K]): ArrayBuffer {
  const u = new Uniforms();
  const given = values as unknown as Record<string, number | readonly number[]>;
  for (const [name, type] of CONTRACTS[kernel].params as readonly (readonly [string, FieldType])[]) {
    const v = given[name];
    if (v === undefined) throw new Error(`${kernel}: uniform '${name}' is not given`);
    if (type === 'vec8u' || type === 'vec4u') u.vec(v as readonly number[], type === 'vec8u' ? 8 : 4);
    else if (type === 'f32') u.f32(v as number);
    else if (type === 'i32') u.i32(v as number);
    else u.u32(v as number);
  }
  return u.done();
}

/** A kernel's workgroup-size override (WG, WG_X, WG_Y) as its WGSL declares it by default. */
export function defaultWorkgroup<K extends KernelName>(kernel: K, name: keyof (typeof CONTRACTS)[K]['workgroup']): number {
  return (CONTRACTS[kernel].workgroup as Record<string, number>)[name as string];
}

/** A shape as a vec8u field: padded with 1 to rank 8, the kernels' maximum. */
export function padShape(shape: readonly number[]): number[] {
  if (shape.length > 8) throw new Error(`rank ${shape.length} exceeds the kernels' maximum of 8`);
  return [...shape, ...new Array(8 - shape.length).fill(1)];
}
