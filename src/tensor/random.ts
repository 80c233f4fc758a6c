/** lowbias32 (Chris Wellons): the integer hash shared with kernels/include/hash.wgsl, so both backends draw one dropout mask. */
export function lowbias32(v: number): number {
  let h = v >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d) >>> 0;
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** Dropout's uniform draw for element i, bit-identical to the kernel's (24-bit mantissa, exact in f32 and f64). */
export function dropoutUniform(seed: number, i: number): number {
  return (lowbias32((lowbias32(seed) ^ i) >>> 0) >>> 8) / 16777216;
}

/** A small seeded generator (sfc32) for host-side draws: initial weights, rand/randn, shuffles. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 12; i++) this.nextU32();
  }

  nextU32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    return (this.nextU32() * 2 ** 21 + (this.nextU32() >>> 11)) / 2 ** 53;
  }

  /** Standard normal by Box-Muller. */
  normal(): number {
    let u = this.uniform();
    while (u === 0) u = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.uniform());
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }
}

let globalRng = new Rng(0x5eed);

/** Seeds the global generator that ops use when no explicit seed is given (dropout, initialisers). */
export function manualSeed(seed: number): void {
  globalRng = new Rng(seed);
}

/** A fresh 32-bit seed from the global generator. */
export function nextSeed(): number {
  return globalRng.nextU32();
}
