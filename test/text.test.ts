import { mkdirSync, rmSync, writeFileSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as wg from '../src/node.js';
import { exportSpamAssassin, messageText } from '../examples/corpora/spam-assassin.js';
import { textDatasetFromDirectory } from '../src/data/text-dataset.js';
import { TextVectorization, standardize, standardizeWithBreaks } from '../src/data/text-vectorization.js';
import { gpu } from './helpers.js';

const root = `out/test/text-${process.pid}`;

const text = suite('text: standardisation, vectorisation, datasets');
text.before(async () => {
  await gpu();
  rmSync(root, { recursive: true, force: true });
  // The aclImdb layout: train/{pos,neg,unsup}/<id>_<rating>.txt
  const files: Record<string, string[]> = {
    'aclImdb/train/pos': ['A great film!<br /><br />Loved it.', 'Great acting, GREAT story.'],
    'aclImdb/train/neg': ["Awful. Just awful...", "I didn't like it; boring<br />film."],
    'aclImdb/train/unsup': ['no label here'],
  };
  for (const [dir, texts] of Object.entries(files)) {
    mkdirSync(join(root, dir), { recursive: true });
    texts.forEach((t, i) => writeFileSync(join(root, dir, `${i}_7.txt`), t));
  }
});

text("standardisation: Keras's default lowercases and strips punctuation; seed 2's also turns <br /> into spaces", () => {
  // Keras's 'lower_and_strip_punctuation' knows no HTML: the <br /> of aclImdb reviews leave "br" tokens.
  assert.is(standardize('A great film!<br /><br />Loved it.'), 'a great filmbr br loved it');
  assert.is(standardize('Price: $5 (or 10%) — <b>bold</b>'), 'price 5 or 10 — bboldb');
  // Seed 2's custom_standardization replaces exactly '<br />', as its regex does, and nothing between < and >.
  assert.is(standardizeWithBreaks('A great film!<br /><br />Loved it.'), 'a great film  loved it');
  assert.is(standardizeWithBreaks('bases (< 20 nucleotides long), ...<br />were cut'), 'bases  20 nucleotides long  were cut');
  assert.is(standardizeWithBreaks("I didn't like it; boring<br/>film."), 'i didnt like it boringbrfilm');
});

text('vocabulary by frequency (ties alphabetical), 0 pads, 1 is OOV, sequences pad and truncate', async () => {
  const tv = new TextVectorization({ maxTokens: 6, outputSequenceLength: 5 });
  await tv.adapt(['b a c a', 'a b d', 'e e']);
  // counts: a 3, b 2, e 2, c 1, d 1 -> room for 4 tokens after the two reserved
  assert.equal(tv.getVocabulary(), ['', '[UNK]', 'a', 'b', 'e', 'c']);
  const ids = await tv.call(['A b zzz', 'c c c c c c c']).array();
  assert.equal(ids, [[2, 3, 1, 0, 0], [5, 5, 5, 5, 5]]);
  assert.is(tv.call(['x']).dtype, 'int32');
});

text('a custom standardize function replaces the default; null keeps text as is', async () => {
  const tv = new TextVectorization({ standardize: (s) => s.replace(/[0-9]/g, '#') });
  await tv.adapt(['Room 101']);
  assert.equal(tv.getVocabulary().slice(2), ['###', 'Room']);
  const raw = new TextVectorization({ standardize: null });
  await raw.adapt(['Hi, hi']);
  assert.equal(raw.getVocabulary().slice(2), ['Hi,', 'hi']);
});

text('without outputSequenceLength, sequences pad to the longest text of the call', async () => {
  const tv = new TextVectorization();
  await tv.adapt(['one two three']);
  assert.equal(tv.call(['one', 'one two three']).shape, [2, 3]);
});

text('textDatasetFromDirectory reads the aclImdb layout; classNames leaves out unsup', async () => {
  const ds = textDatasetFromDirectory(join(root, 'aclImdb/train'), { classNames: ['neg', 'pos'], batchSize: 8, shuffle: false });
  const batch = (await ds.epoch().next()).value!;
  assert.equal(batch.texts, ["Awful. Just awful...", "I didn't like it; boring<br />film.", 'A great film!<br /><br />Loved it.', 'Great acting, GREAT story.']);
  assert.equal(Array.from(await batch.labels!.data()), [0, 0, 1, 1]);
  const tv = new TextVectorization({ maxTokens: 20, outputSequenceLength: 8 });
  await tv.adapt(ds.epoch());
  assert.is(tv.getVocabulary()[2], 'great');
  const all = textDatasetFromDirectory(join(root, 'aclImdb/train'));
  assert.equal(all.classNames, ['neg', 'pos', 'unsup']);
});

text('the SpamAssassin corpus exports to the aclImdb layout with subject and body only', () => {
  const counts = exportSpamAssassin(join(root, 'spam'), { limitPerClass: 8, testFraction: 0.25, seed: 1 });
  assert.equal(counts, { 'train/ham': 6, 'test/ham': 2, 'train/spam': 6, 'test/spam': 2 });
  const file = readdirSync(join(root, 'spam/train/spam'))[0];
  const body = readFileSync(join(root, 'spam/train/spam', file), 'utf8');
  assert.not.match(body, /^Received:/m, 'relay headers are dropped');
  assert.is(messageText('Received: x\nSubject: Hello there\nFrom: a\n\nBody text'), 'Hello there\nBody text');
  const ds = textDatasetFromDirectory(join(root, 'spam/train'), { shuffle: false });
  assert.equal(ds.classNames, ['ham', 'spam']);
  assert.is(ds.samples.length, 12);
  // The whole corpus: ids repeat across its groups, and every message must still become its own file.
  const all = exportSpamAssassin(join(root, 'spam-all'));
  const files = ['train', 'test'].reduce((n, split) => n + textDatasetFromDirectory(join(root, 'spam-all', split)).samples.length, 0);
  assert.is(files, 6046);
  assert.is(Object.values(all).reduce((a, b) => a + b, 0), 6046);
});

text.run();
