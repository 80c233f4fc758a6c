import { WgradError } from '../errors.js';
import { readSafetensors, writeSafetensors } from '../io/safetensors.js';
import { writeHost } from '../ops/op.js';
import { fmt } from '../tensor/dims.js';
import type { Module } from './module.js';

/** Saves every parameter under its namedParameters() name, as float32 safetensors. */
export async function saveWeights(module: Module, path: string): Promise<void> {
  const tensors: Record<string, { shape: readonly number[]; data: ArrayLike<number> }> = {};
  for (const [name, p] of module.namedParameters()) tensors[name] = { shape: p.shape, data: await p.data() };
  await writeSafetensors(path, tensors, { format: 'wgrad', module: module.name });
}

/**
 * Loads parameters by name. The model must be built (called once) so that its parameters exist. Names or shapes
 * that do not fit raise one error listing every difference; nothing is written unless everything fits.
 */
export async function loadWeights(module: Module, path: string): Promise<void> {
  const file = await readSafetensors(path);
  const params = new Map(module.namedParameters());
  const problems: string[] = [];
  for (const [name, p] of params) {
    const t = file.tensors[name];
    if (!t) problems.push(`missing in file: ${name} ${fmt(p.shape)}`);
    else if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
      problems.push(`shape of ${name}: file ${fmt(t.shape)}, model ${fmt(p.shape)}`);
    }
  }
  for (const name of Object.keys(file.tensors)) if (!params.has(name)) problems.push(`not in model: ${name} ${fmt(file.tensors[name].shape)}`);
  if (problems.length) {
    const hint = params.size === 0 ? ' The model has no parameters yet: call it once on an input so that it builds them.' : '';
    throw new WgradError(`${path} does not fit ${module.name}:\n  ${problems.join('\n  ')}${hint}`);
  }
  for (const [name, p] of params) writeHost(p, file.tensors[name].data);
}
