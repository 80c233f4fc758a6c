import { WgradError } from '../errors.js';
import { tensor } from '../ops/creation.js';
import type { Tensor } from '../tensor/tensor.js';

export type LabelMode = 'int' | 'categorical' | 'binary';

/** Labels as Keras encodes them: int32 ids [B], one-hot float32 [B, C], or float32 0/1 [B, 1] (two classes only). */
export function encodeLabels(labels: number[], mode: LabelMode, classes: number): Tensor {
  if (mode === 'int') return tensor(labels, [labels.length], { dtype: 'int32' });
  if (mode === 'binary') {
    if (classes !== 2) throw new WgradError(`labelMode 'binary' needs exactly 2 classes, found ${classes}; use 'int' or 'categorical'.`);
    return tensor(labels, [labels.length, 1]);
  }
  if (mode === 'categorical') return tensor(labels.flatMap((l) => Array.from({ length: classes }, (_, c) => (c === l ? 1 : 0))), [labels.length, classes]);
  throw new WgradError(`labelMode '${mode}' is not one of int, categorical, binary.`);
}
