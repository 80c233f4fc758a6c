// The bench cases: each builds its wgrad work and, where the peer can express it, the same work in TensorFlow.js.
import * as wg from '../src/node.js';
import type { Tf } from './peers.js';
import type { TorchRequest } from './torch.js';

type TfTensor = import('@tensorflow/tfjs-core').Tensor;

export interface Case {
  name: string;
  shape: string;
  flops?: number;
  bytes?: number;
  /** Dispatches per run, for the overhead cases. */
  perDispatch?: number;
  wgrad(): { run(): unknown; dispose(): void };
  tf?(tf: Tf): { run(): TfTensor | TfTensor[]; dispose(): void };
  /** Backends the tfjs version runs on (default both). */
  tfOnly?: string[];
  /** [m, k, n] for ONNX Runtime's CPU MatMul. */
  ort?: [number, number, number];
  /** The same work for the PyTorch CPU peer (bench/torch-peer.py). */
  torch?: TorchRequest;
}

const disposeAll = (...ts: { dispose(): void }[]) => () => ts.forEach((t) => t.dispose());

function matmulCase(m: number, k: number, n: number, name = 'matmul', transB = false): Case {
  return {
    name,
    shape: `${m}x${k}x${n}${transB ? ' (B transposed)' : ''}`,
    flops: 2 * m * n * k,
    ort: transB ? undefined : [m, k, n],
    torch: { op: 'matmul', m, k, n, transB },
    wgrad() {
      const a = wg.rand([m, k], { seed: 1 });
      const b = wg.rand(transB ? [n, k] : [k, n], { seed: 2 });
      return { run: () => wg.matmul(a, b, { transposeB: transB }), dispose: disposeAll(a, b) };
    },
    tf(tf) {
      const a = tf.randomUniform([m, k]);
      const b = tf.randomUniform(transB ? [n, k] : [k, n]);
      return { run: () => tf.matMul(a, b, false, transB), dispose: disposeAll(a, b) };
    },
  };
}

function batchedCase(batch: number, m: number, k: number, n: number): Case {
  return {
    name: 'batched matmul (attention)',
    shape: `[${batch},${m},${k}]x[${batch},${k},${n}]`,
    flops: 2 * batch * m * n * k,
    torch: { op: 'bmm', b: batch, m, k, n },
    wgrad() {
      const a = wg.rand([batch, m, k], { seed: 1 });
      const b = wg.rand([batch, k, n], { seed: 2 });
      return { run: () => wg.matmul(a, b), dispose: disposeAll(a, b) };
    },
    tf(tf) {
      const a = tf.randomUniform([batch, m, k]);
      const b = tf.randomUniform([batch, k, n]);
      return { run: () => tf.matMul(a, b), dispose: disposeAll(a, b) };
    },
  };
}

/** The seed notebook's attention core in tfjs ops: scores, softmax, weighted sum, on [B,h,T,d]. */
function tfAttention(tf: Tf, q: TfTensor, k: TfTensor, v: TfTensor, d: number): TfTensor {
  return tf.matMul(tf.softmax(tf.div(tf.matMul(q, k, false, true), Math.sqrt(d))), v);
}

/** attention(): matmul, softmax and matmul on [B,T,h,d], what the layers run; the tfjs peer is the same composition. */
function attentionCase(b: number, h: number, t: number, d: number, backward: boolean): Case {
  return {
    name: `attention ${backward ? 'fwd+bwd' : 'forward'}`,
    shape: `B=${b} h=${h} T=${t} d=${d}`,
    flops: (backward ? 3 : 1) * 4 * b * h * t * t * d,
    torch: { op: 'attention', b, h, t, d, backward },
    wgrad() {
      const [q, k, v] = [1, 2, 3].map((s) => wg.rand([b, t, h, d], { seed: s, requiresGrad: backward }));
      return {
        run: () => {
          const out = wg.attention(q, k, v);
          if (!backward) return out;
          wg.sum(out).backward();
          wg.zeroGrad([q, k, v]);
          return out;
        },
        dispose: disposeAll(q, k, v),
      };
    },
    tf(tf) {
      const [q, k, v] = [1, 2, 3].map(() => tf.randomUniform([b, h, t, d]));
      const grads = tf.grads((a: TfTensor, bb: TfTensor, c: TfTensor) => tf.sum(tfAttention(tf, a, bb, c, d)));
      return { run: () => (backward ? grads([q, k, v]) : tfAttention(tf, q, k, v, d)), dispose: disposeAll(q, k, v) };
    },
  };
}

/** A training case's wgrad side: the model called once to build it, then each run a loss, backward and Adam step. */
function adamSteps(model: wg.Sequential, x: wg.Tensor, y: wg.Tensor, loss: wg.Loss): { run(): unknown; dispose(): void } {
  model.call(x);
  const opt = new wg.Adam(model.namedParameters());
  return {
    run: () => {
      const l = loss.call(y, model.call(x, { training: true }));
      l.backward();
      opt.step();
      opt.zeroGrad();
      return l;
    },
    dispose: () => {
      model.dispose();
      opt.dispose();
      x.dispose();
      y.dispose();
    },
  };
}

/** Glorot-uniform weights and zero biases as tfjs variables, for the peers' hand-built models. */
function tfInit(tf: Tf) {
  return {
    glorot: (a: number, b: number) => tf.variable(tf.randomUniform([a, b], -Math.sqrt(6 / (a + b)), Math.sqrt(6 / (a + b)))),
    zeros: (n: number) => tf.variable(tf.zeros([n])),
  };
}

/** One training step of the seed-1 head (MHSA(1280,8), pooling, Dense(256), Dropout, Dense(10)) with Adam. */
function trainStepCase(batch: number, tokens: number, dim: number, heads: number): Case {
  const classes = 10;
  const labels = Array.from({ length: batch }, (_, i) => i % classes);
  return {
    name: 'seed-1 head training step',
    shape: `batch ${batch}, [${batch},${tokens},${dim}]`,
    torch: { op: 'train_step', batch, tokens, dim, heads },
    wgrad() {
      wg.manualSeed(0);
      const head = new wg.Sequential([
        new wg.MultiHeadSelfAttention(dim, heads),
        new wg.GlobalAveragePooling1D(),
        new wg.Dense(256, { activation: 'relu' }),
        new wg.Dropout(0.5),
        new wg.Dense(classes, { activation: 'softmax' }),
      ]);
      const x = wg.rand([batch, tokens, dim], { seed: 1 });
      const y = wg.tensor(labels, [batch], { dtype: 'int32' });
      return adamSteps(head, x, y, wg.sparseCategoricalCrossentropy());
    },
    tf(tf) {
      const { glorot, zeros } = tfInit(tf);
      const w = { q: glorot(dim, dim), k: glorot(dim, dim), v: glorot(dim, dim), o: glorot(dim, dim), h: glorot(dim, 256), c: glorot(256, classes) };
      const bias = { q: zeros(dim), k: zeros(dim), v: zeros(dim), o: zeros(dim), h: zeros(256), c: zeros(classes) };
      const x = tf.randomUniform([batch * tokens, dim]);
      const y = tf.oneHot(tf.tensor1d(labels, 'int32'), classes);
      const optimizer = tf.train.adam(1e-3);
      const d = dim / heads;
      const split = (t: TfTensor) => tf.transpose(tf.reshape(t, [batch, tokens, heads, d]), [0, 2, 1, 3]);
      const lossFn = () => {
        const [q, k, v] = (['q', 'k', 'v'] as const).map((n) => split(tf.add(tf.matMul(x, w[n]), bias[n])));
        const merged = tf.reshape(tf.transpose(tfAttention(tf, q, k, v, d), [0, 2, 1, 3]), [batch * tokens, dim]);
        const out = tf.reshape(tf.add(tf.matMul(merged, w.o), bias.o), [batch, tokens, dim]);
        const hidden = tf.dropout(tf.relu(tf.add(tf.matMul(tf.mean(out, 1), w.h), bias.h)), 0.5);
        return tf.losses.softmaxCrossEntropy(y, tf.add(tf.matMul(hidden, w.c), bias.c)) as import('@tensorflow/tfjs-core').Scalar;
      };
      return {
        run: () => optimizer.minimize(lossFn, true)!,
        dispose: () => {
          for (const t of [...Object.values(w), ...Object.values(bias), x, y]) t.dispose();
          optimizer.dispose();
        },
      };
    },
  };
}

/**
 * Seed 2's text model, one training step: Embedding(vocab, dim) with padding id 0 masked, MHSA(dim, heads) with
 * dropout 0.1 on its weights, the masked mean over tokens, Dropout 0.2, Dense 1, binary cross-entropy on logits,
 * Adam. The texts run from 30% of `tokens` to all of them (61 to 200 of 200), padded with id 0; the peers build the
 * same model by hand, the padding as their key mask.
 */
function textStepCase(batch: number, tokens: number, vocab: number, dim: number, heads: number): Case {
  const ids: number[] = [];
  for (let b = 0; b < batch; b++) {
    const length = tokens - ((b * 37) % Math.ceil(tokens * 0.7));
    for (let t = 0; t < tokens; t++) ids.push(t < length ? 1 + ((b * 131 + t * 17) % (vocab - 1)) : 0);
  }
  const labels = Array.from({ length: batch }, (_, i) => i % 2);
  return {
    name: 'seed-2 text training step',
    shape: `batch ${batch}, ${tokens} tokens, [${vocab},${dim}], ${heads} heads`,
    torch: { op: 'text_step', batch, tokens, vocab, dim, heads, ids },
    // tfjs-wasm has no kernel for the gather's gradient (UnsortedSegmentSum).
    tfOnly: ['webgpu'],
    wgrad() {
      wg.manualSeed(0);
      const model = new wg.Sequential([
        new wg.Embedding(vocab, dim, { maskZero: true }),
        new wg.MultiHeadSelfAttention(dim, heads, { dropout: 0.1 }),
        new wg.GlobalAveragePooling1D(),
        new wg.Dropout(0.2),
        new wg.Dense(1),
      ]);
      const x = wg.tensor(ids, [batch, tokens], { dtype: 'int32' });
      const y = wg.tensor(labels, [batch, 1]);
      return adamSteps(model, x, y, wg.binaryCrossentropy({ fromLogits: true }));
    },
    tf(tf) {
      const { glorot, zeros } = tfInit(tf);
      const emb = tf.variable(tf.randomUniform([vocab, dim], -0.05, 0.05));
      const w = { q: glorot(dim, dim), k: glorot(dim, dim), v: glorot(dim, dim), o: glorot(dim, dim), c: glorot(dim, 1) };
      const bias = { q: zeros(dim), k: zeros(dim), v: zeros(dim), o: zeros(dim), c: zeros(1) };
      const idsT = tf.tensor1d(ids, 'int32');
      const keep = tf.reshape(tf.cast(tf.notEqual(idsT, 0), 'float32'), [batch, tokens]);
      // The padding as an additive mask on the scores: exp sends -1e9 to 0, as -Infinity does in wgrad's where.
      const hide = tf.reshape(tf.mul(tf.sub(1, keep), -1e9), [batch, 1, 1, tokens]);
      const y = tf.tensor2d(labels, [batch, 1]);
      const optimizer = tf.train.adam(1e-3);
      const d = dim / heads;
      const split = (u: TfTensor) => tf.transpose(tf.reshape(u, [batch, tokens, heads, d]), [0, 2, 1, 3]);
      const lossFn = () => {
        const x = tf.gather(emb, idsT);
        const [q, k, v] = (['q', 'k', 'v'] as const).map((n) => split(tf.add(tf.matMul(x, w[n]), bias[n])));
        const scores = tf.add(tf.div(tf.matMul(q, k, false, true), Math.sqrt(d)), hide);
        const att = tf.matMul(tf.dropout(tf.softmax(scores), 0.1), v);
        const merged = tf.reshape(tf.transpose(att, [0, 2, 1, 3]), [batch * tokens, dim]);
        const out = tf.reshape(tf.add(tf.matMul(merged, w.o), bias.o), [batch, tokens, dim]);
        const pooled = tf.div(tf.sum(tf.mul(out, tf.expandDims(keep, 2)), 1), tf.sum(keep, 1, true));
        return tf.losses.sigmoidCrossEntropy(y, tf.add(tf.matMul(tf.dropout(pooled, 0.2), w.c), bias.c)) as import('@tensorflow/tfjs-core').Scalar;
      };
      return {
        run: () => optimizer.minimize(lossFn, true)!,
        dispose: () => {
          for (const u of [emb, ...Object.values(w), ...Object.values(bias), idsT, keep, hide, y]) u.dispose();
          optimizer.dispose();
        },
      };
    },
  };
}

export function cases(quick: boolean): Case[] {
  const s = (full: number, small: number) => (quick ? small : full);
  const n16m = s(16 * 2 ** 20, 4096);
  const list: Case[] = [
    ...[256, 512, 1024, 2048].filter((n) => !quick || n === 256).map((n) => matmulCase(s(n, 64), s(n, 64), s(n, 64))),
    matmulCase(s(1568, 64), s(1280, 64), s(1280, 64), 'matmul (seed-1 dense layers)'),
    matmulCase(s(1024, 64), s(1024, 64), s(1024, 64), 'matmul A·Bᵀ', true),
    batchedCase(s(256, 4), 49, s(160, 16), 49),
    batchedCase(s(256, 4), 49, 49, s(160, 16)),
    {
      name: 'softmax (last axis)',
      shape: `[${s(12544, 64)},49]`,
      bytes: 2 * s(12544, 64) * 49 * 4,
      torch: { op: 'softmax', rows: s(12544, 64), cols: 49 },
      wgrad() {
        const x = wg.rand([s(12544, 64), 49], { seed: 1 });
        return { run: () => wg.softmax(x), dispose: disposeAll(x) };
      },
      tf(tf) {
        const x = tf.randomUniform([s(12544, 64), 49]);
        return { run: () => tf.softmax(x), dispose: disposeAll(x) };
      },
    },
    {
      name: 'transpose (split heads)',
      shape: `[${s(32, 2)},49,8,160] -> [.,8,49,160]`,
      bytes: 2 * s(32, 2) * 49 * 8 * 160 * 4,
      torch: { op: 'permute', shape: [s(32, 2), 49, 8, 160], perm: [0, 2, 1, 3] },
      wgrad() {
        const x = wg.rand([s(32, 2), 49, 8, 160], { seed: 1 });
        return { run: () => wg.permute(x, [0, 2, 1, 3]), dispose: disposeAll(x) };
      },
      tf(tf) {
        const x = tf.randomUniform([s(32, 2), 49, 8, 160]);
        return { run: () => tf.transpose(x, [0, 2, 1, 3]), dispose: disposeAll(x) };
      },
    },
    {
      name: 'elementwise add',
      shape: `[${n16m}]`,
      bytes: 3 * n16m * 4,
      torch: { op: 'add', n: n16m },
      wgrad() {
        const a = wg.rand([n16m], { seed: 1 });
        const b = wg.rand([n16m], { seed: 2 });
        return { run: () => wg.add(a, b), dispose: disposeAll(a, b) };
      },
      tf(tf) {
        const a = tf.randomUniform([n16m]);
        const b = tf.randomUniform([n16m]);
        return { run: () => tf.add(a, b), dispose: disposeAll(a, b) };
      },
    },
    {
      name: 'reduction sum',
      shape: `[${n16m}]`,
      bytes: n16m * 4,
      torch: { op: 'sum', n: n16m },
      wgrad() {
        const a = wg.rand([n16m], { seed: 1 });
        return { run: () => wg.sum(a), dispose: disposeAll(a) };
      },
      tf(tf) {
        const a = tf.randomUniform([n16m]);
        return { run: () => tf.sum(a), dispose: disposeAll(a) };
      },
    },
    {
      name: 'fused dense (x·W + b, relu)',
      shape: `${s(1568, 64)}x${s(1280, 64)}x${s(1280, 64)}`,
      flops: 2 * s(1568, 64) * s(1280, 64) * s(1280, 64),
      torch: { op: 'dense', m: s(1568, 64), k: s(1280, 64), n: s(1280, 64) },
      wgrad() {
        const [x, w, b] = [wg.rand([s(1568, 64), s(1280, 64)], { seed: 1 }), wg.rand([s(1280, 64), s(1280, 64)], { seed: 2 }), wg.rand([s(1280, 64)], { seed: 3 })];
        return { run: () => wg.dense(x, w, b, 'relu'), dispose: disposeAll(x, w, b) };
      },
      tf(tf) {
        const [x, w, b] = [tf.randomUniform([s(1568, 64), s(1280, 64)]), tf.randomUniform([s(1280, 64), s(1280, 64)]), tf.randomUniform([s(1280, 64)])];
        return { run: () => tf.fused.matMul({ a: x, b: w, bias: b, activation: 'relu' }), dispose: disposeAll(x, w, b) };
      },
    },
    attentionCase(s(32, 2), 8, 49, s(160, 16), false),
    attentionCase(s(32, 2), 8, 49, s(160, 16), true),
    trainStepCase(s(32, 2), 49, s(1280, 64), 8),
    textStepCase(s(32, 2), s(200, 16), s(10000, 100), s(64, 16), 4),
    {
      name: 'dispatch overhead, one submit',
      shape: '1000 adds of [4096]',
      perDispatch: 1000,
      torch: { op: 'dispatch', count: 1000, n: 4096 },
      wgrad() {
        const a = wg.ones([4096]);
        return {
          run: () => {
            let y = a;
            for (let i = 0; i < 1000; i++) y = wg.add(y, a);
            return y;
          },
          dispose: disposeAll(a),
        };
      },
      tf(tf) {
        const a = tf.ones([4096]);
        return {
          run: () => {
            let y = a;
            for (let i = 0; i < 1000; i++) y = tf.add(y, a);
            return y;
          },
          dispose: disposeAll(a),
        };
      },
    },
    {
      name: 'dispatch overhead, submit each',
      shape: '100 adds of [4096]',
      perDispatch: 100,
      wgrad() {
        const a = wg.ones([4096]);
        return {
          run: () => {
            let y = a;
            for (let i = 0; i < 100; i++) {
              y = wg.add(y, a);
              wg.getDevice().flush();
            }
            return y;
          },
          dispose: disposeAll(a),
        };
      },
    },
  ];
  return list;
}
