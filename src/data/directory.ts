import { readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { WgradError } from '../errors.js';
import { Rng } from '../tensor/random.js';

/** One file of a class-per-folder tree; size and mtime identify its contents for caches. */
export interface Sample {
  path: string;
  label: number;
  size: number;
  mtimeMs: number;
}

export interface SplitOptions {
  shuffle?: boolean;
  seed?: number;
  validationSplit?: number;
  subset?: 'training' | 'validation' | 'both';
  classNames?: string[];
}

/**
 * Lists dir/<class>/** files with the given extensions, Keras-style: classes are the sorted sub-folder names (or
 * `classNames`, in that order), files are sorted within a class, labels follow class order.
 */
export function listLabelledFiles(dir: string, extensions: string[], classNames?: string[], what = 'files'): { classes: string[]; samples: Sample[] } {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (err) {
    const code = (err as { code?: string }).code;
    const why = code === 'ENOENT' ? 'it does not exist' : code === 'ENOTDIR' ? 'it is a file, not a folder' : (err as Error).message;
    throw new WgradError(`Cannot read dataset folder ${dir}: ${why}. Give a folder of <class name>/<files> (the Keras layout), such as data/train/cat/1.png.`);
  }
  const folders = entries.filter((e) => statSync(join(dir, e)).isDirectory()).sort();
  const classes = classNames ?? folders;
  if (classes.length === 0) {
    throw new WgradError(`${dir} has no class sub-folders. Expected the Keras layout: ${dir}/<class name>/<${what}>.`);
  }
  for (const c of classes) {
    if (!folders.includes(c)) throw new WgradError(`${dir}: class folder '${c}' from classNames does not exist (found: ${folders.join(', ')}).`);
  }
  const samples: Sample[] = [];
  classes.forEach((c, label) => {
    const files = walk(join(dir, c)).filter((f) => extensions.includes(extname(f).toLowerCase()));
    if (files.length === 0) {
      throw new WgradError(`${join(dir, c)} holds no ${what} (${extensions.join(', ')}); every class needs at least one.`);
    }
    for (const path of files) {
      const st = statSync(path);
      samples.push({ path, label, size: st.size, mtimeMs: st.mtimeMs });
    }
  });
  return { classes, samples };
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

/**
 * Keras's split: with shuffling or a validation split, the files are shuffled once with the seed, then the last
 * `validationSplit` fraction is the validation subset. Without a seed the two subsets would overlap between calls,
 * so one is required, as Keras requires it.
 */
export function splitSamples(samples: Sample[], o: SplitOptions): { training: Sample[]; validation: Sample[] } {
  const split = o.validationSplit ?? 0;
  if (split < 0 || split >= 1) throw new WgradError(`validationSplit ${split} must be in [0, 1).`);
  if (split > 0 && !o.subset) throw new WgradError(`validationSplit needs subset: 'training', 'validation' or 'both'.`);
  if (o.subset && split === 0) throw new WgradError(`subset '${o.subset}' needs a validationSplit above 0.`);
  if (split > 0 && (o.shuffle ?? true) && o.seed === undefined) {
    throw new WgradError('With validationSplit and shuffling, pass a seed so that the training and validation subsets stay disjoint.');
  }
  const order = o.shuffle ?? true ? new Rng(o.seed ?? 0).shuffle([...samples]) : [...samples];
  const nVal = Math.floor(split * order.length);
  // Keras rounds the same way; an empty subset would train or validate on nothing and report NaN.
  if (split > 0 && (nVal === 0 || nVal === order.length)) {
    throw new WgradError(
      `validationSplit ${split} of ${order.length} files leaves ${nVal === 0 ? 'no validation files' : 'no training files'}; ` +
        `use a split between ${(1 / order.length).toFixed(3)} and ${(1 - 1 / order.length).toFixed(3)}, or more files.`,
    );
  }
  return { training: order.slice(0, order.length - nVal), validation: order.slice(order.length - nVal) };
}

/** The order of one epoch: reshuffled per epoch from the seed (deterministic), or the listing order. */
export function epochOrder<T>(items: readonly T[], shuffle: boolean, seed: number, epoch: number): T[] {
  return shuffle ? new Rng((seed * 1000003 + epoch) >>> 0).shuffle([...items]) : [...items];
}
