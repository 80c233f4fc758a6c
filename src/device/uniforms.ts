/**
 * Builds a kernel's uniform block in WGSL layout order. Each kernel's `struct Params` lists its fields in the same
 * order as the calls here; `vec8` writes an `array<vec4<u32>, 2>` (16-byte aligned), which is how ranks up to 8 travel.
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

  /** Up to 8 u32 values as array<vec4<u32>, 2>, padded with `pad`. */
  vec8(values: readonly number[], pad = 0): this {
    if (values.length > 8) throw new Error(`rank ${values.length} exceeds the kernels' maximum of 8`);
    this.offset = Math.ceil(this.offset / 16) * 16;
    for (let i = 0; i < 8; i++) this.u32(values[i] ?? pad);
    return this;
  }

  done(): ArrayBuffer {
    const size = Math.max(16, Math.ceil(this.offset / 16) * 16);
    return scratch.buffer.slice(0, size);
  }
}
