import { rand } from '../ops/creation.js';
import { nextSeed } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';

/** Glorot (Xavier) uniform, Keras's default kernel initializer: U(-l, l) with l = sqrt(6 / (fanIn + fanOut)). */
export function glorotUniform(shape: number[], fanIn: number, fanOut: number): Tensor {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  return rand(shape, { low: -limit, high: limit, seed: nextSeed() });
}

/** Keras's default for embeddings: U(-0.05, 0.05). */
export function uniform(shape: number[], limit = 0.05): Tensor {
  return rand(shape, { low: -limit, high: limit, seed: nextSeed() });
}
