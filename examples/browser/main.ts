// The live attention page (npm run browser-demo): both seeds' attention models trained in the browser on WebGPU,
// with wgrad's core as the browser build bundles it. The server (server.ts) hands it the corpus, the images, the
// shipped MobileNetV2 ONNX file and onnxruntime-web's wasm files; nothing else is fetched.
// Query parameters shrink the work for a slow adapter (the page test runs it on SwiftShader):
//   ?epochs=N (text), ?imageEpochs=N, ?texts=N (per class), ?images=N (per class), ?auto=1 (train both on load),
//   ?tune=0 (no autotune).
import * as wg from '../../src/index.js';
import type * as Ort from 'onnxruntime-web';

type History = Record<string, number[]>;
interface Corpus { classes: string[]; train: [string, number][]; test: [string, number][] }
interface Fashion { classes: string[]; size: number; train: { pixels: number[]; label: number }[]; test: { pixels: number[]; label: number }[] }

const params = new URLSearchParams(location.search);
const num = (name: string, fallback: number): number => Number(params.get(name) ?? fallback);
const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

/** What the page has done, for a reader of the console and for the page test. */
const state = {
  adapter: '',
  error: '',
  text: { history: {} as History, epochs: 0, msPerStep: 0, attention: [] as number[][], busy: false },
  image: { history: {} as History, epochs: 0, msPerStep: 0, featureMsPerImage: 0, heatmaps: [] as number[][][], prediction: '', busy: false },
};
(window as unknown as { wgradPage: unknown }).wgradPage = { state, trainText, trainImage, predictFile };

function fail(e: unknown): void {
  const err = e as Error;
  state.error = `${err.name}: ${err.message}`;
  $('error').textContent = state.error;
  console.error(err);
}

// ---- drawing -------------------------------------------------------------------------------------------------

const COLORS = { loss: '#1c7ed6', val_loss: '#74c0fc', accuracy: '#e8590c', val_accuracy: '#ffa94d' } as Record<string, string>;

/** Loss (left axis) and accuracy (right axis, 0..1) per epoch, training and validation. */
function drawCurves(canvas: HTMLCanvasElement, history: History, title: string): void {
  const g = canvas.getContext('2d')!;
  const { width: w, height: h } = canvas;
  const pad = { l: 44, r: 40, t: 24, b: 30 };
  g.fillStyle = '#fff';
  g.fillRect(0, 0, w, h);
  g.fillStyle = '#1d232b';
  g.font = '13px "DejaVu Sans", sans-serif';
  g.fillText(title, pad.l, 16);
  const epochs = history.loss?.length ?? 0;
  const losses = [...(history.loss ?? []), ...(history.val_loss ?? [])].filter(Number.isFinite);
  const maxLoss = Math.max(0.1, ...losses) * 1.1;
  const x = (i: number) => pad.l + (epochs <= 1 ? 0.5 : i / (epochs - 1)) * (w - pad.l - pad.r);
  g.strokeStyle = '#adb5bd';
  g.strokeRect(pad.l, pad.t, w - pad.l - pad.r, h - pad.t - pad.b);
  g.font = '11px "DejaVu Sans", sans-serif';
  g.fillStyle = '#4a5563';
  for (let k = 0; k <= 4; k++) {
    const yy = pad.t + (k / 4) * (h - pad.t - pad.b);
    g.fillText(((maxLoss * (4 - k)) / 4).toFixed(2), 4, yy + 4);
    g.fillText(((4 - k) / 4).toFixed(2), w - pad.r + 4, yy + 4);
  }
  for (let i = 0; i < epochs; i++) g.fillText(String(i + 1), x(i) - 3, h - pad.b + 14);
  g.fillText('epoch', w / 2 - 14, h - 4);
  for (const [key, color] of Object.entries(COLORS)) {
    const values = history[key];
    if (!values?.length) continue;
    const top = key.includes('loss') ? maxLoss : 1;
    const y = (v: number) => pad.t + (1 - v / top) * (h - pad.t - pad.b);
    g.strokeStyle = color;
    g.fillStyle = color;
    g.lineWidth = 2;
    g.beginPath();
    values.forEach((v, i) => (i ? g.lineTo(x(i), y(v)) : g.moveTo(x(i), y(v))));
    g.stroke();
    values.forEach((v, i) => g.fillRect(x(i) - 2.5, y(v) - 2.5, 5, 5));
  }
  g.font = '13px "DejaVu Sans", sans-serif';
  let lx = pad.l + g.measureText(title).width + 20;
  g.font = '11px "DejaVu Sans", sans-serif';
  for (const [key, color] of Object.entries(COLORS)) {
    if (!history[key]?.length) continue;
    g.fillStyle = color;
    g.fillRect(lx, 8, 10, 10);
    g.fillStyle = '#1d232b';
    g.fillText(key, lx + 13, 17);
    lx += g.measureText(key).width + 24;
  }
}

/** Per-head heatmaps over the 7x7 grid, laid over the image (grey, 28x28 or any RGB). */
function drawHeatmaps(canvas: HTMLCanvasElement, image: ImageData, heatmaps: number[][]): void {
  const g = canvas.getContext('2d')!;
  g.fillStyle = '#fff';
  g.fillRect(0, 0, canvas.width, canvas.height);
  const tile = 132;
  const src = document.createElement('canvas');
  src.width = image.width;
  src.height = image.height;
  src.getContext('2d')!.putImageData(image, 0, 0);
  heatmaps.forEach((map, head) => {
    const x0 = 8 + head * (tile + 12);
    g.imageSmoothingEnabled = false;
    g.drawImage(src, x0, 18, tile, tile);
    const lo = Math.min(...map);
    const hi = Math.max(...map);
    for (let i = 0; i < 49; i++) {
      const t = hi > lo ? (map[i] - lo) / (hi - lo) : 0;
      g.fillStyle = `rgba(${Math.round(255 * t)}, ${Math.round(80 + 60 * t)}, ${Math.round(255 * (1 - t))}, 0.55)`;
      g.fillRect(x0 + (i % 7) * (tile / 7), 18 + Math.floor(i / 7) * (tile / 7), tile / 7, tile / 7);
    }
    g.fillStyle = '#1d232b';
    g.font = '12px "DejaVu Sans", sans-serif';
    g.fillText(`head ${head + 1}: max ${(hi * 49).toFixed(2)}x`, x0, 13);
  });
}

// ---- text: seed 2 --------------------------------------------------------------------------------------------

const TEXT = { maxTokens: 4000, length: 64, dim: 32, heads: 2 };
let textModel: { vectorizer: wg.TextVectorization; embedding: wg.Embedding; attention: wg.MultiHeadSelfAttention; model: wg.Model } | null = null;
let corpus: Corpus | null = null;

async function loadCorpus(): Promise<Corpus> {
  corpus ??= (await (await fetch('data/spam.json')).json()) as Corpus;
  return corpus;
}

async function showTextAttention(text: string): Promise<void> {
  if (!textModel) return;
  const { vectorizer, embedding, attention } = textModel;
  const tokens = vectorizer.tokenize(text).slice(0, TEXT.length);
  const received = wg.tidy(() => {
    const ids = vectorizer.call([text]);
    const mask = wg.notEqual(wg.cast(ids, 'float32'), 0);
    const { scores } = attention.attend(embedding.call(ids), { mask, returnAttentionScores: true });
    // [1, heads, T, T] -> attention each key receives, averaged over the real (unpadded) queries.
    const n = Math.max(1, tokens.length);
    return wg.div(wg.sum(wg.slice(scores!, [0, 0, 0, 0], [1, TEXT.heads, n, TEXT.length]), 2), n);
  });
  const weights = await received.data();
  received.dispose();
  const perHead: number[][] = [];
  const box = $('text-attention');
  box.replaceChildren();
  for (let h = 0; h < TEXT.heads; h++) {
    const row = Array.from(weights.slice(h * TEXT.length, h * TEXT.length + tokens.length));
    perHead.push(row);
    // Shaded by the weight over the uniform 1/n: 1x (no preference) is pale, 1.5x and more full; a head that has
    // not learned a preference looks uniformly pale, which is the truth about it.
    const n = Math.max(1, tokens.length);
    const shade = (w: number) => Math.min(1, Math.max(0.04, 0.25 + 1.5 * (w * n - 1)));
    const line = document.createElement('div');
    line.className = 'head';
    line.textContent = `head ${h + 1} (most attended ${(Math.max(...row) * n).toFixed(2)}x uniform): `;
    tokens.forEach((tok, i) => {
      const span = document.createElement('span');
      span.className = 'tok';
      span.textContent = tok;
      span.title = row[i].toFixed(4);
      span.style.background = `rgba(232, 89, 12, ${shade(row[i]).toFixed(3)})`;
      line.append(span);
    });
    box.append(line);
  }
  state.text.attention = perHead;
}

async function trainText(options: { epochs?: number; perClass?: number } = {}): Promise<void> {
  if (state.text.busy) return;
  state.text.busy = true;
  state.text.history = {};
  state.error = '';
  const status = $('text-status');
  try {
    const data = await loadCorpus();
    const perClass = options.perClass ?? num('texts', 400);
    const pick = (rows: [string, number][], n: number) => data.classes.flatMap((_, c) => rows.filter((r) => r[1] === c).slice(0, n));
    const train = pick(data.train, perClass);
    const test = pick(data.test, Math.ceil(perClass / 3));
    status.textContent = `${train.length} training and ${test.length} validation mails; vectorizing...`;
    const vectorizer = new wg.TextVectorization({ maxTokens: TEXT.maxTokens, outputSequenceLength: TEXT.length, standardize: wg.standardizeWithBreaks });
    await vectorizer.adapt(train.map((r) => r[0]));
    wg.manualSeed(42);
    const embedding = new wg.Embedding(TEXT.maxTokens, TEXT.dim, { maskZero: true });
    const attention = new wg.MultiHeadSelfAttention(TEXT.dim, TEXT.heads);
    const model = new wg.Model({ name: 'text_mhsa', inputShape: [TEXT.length], layers: [embedding, attention, new wg.GlobalAveragePooling1D(), new wg.Dropout(0.2), new wg.Dense(1)] });
    model.compile({ optimizer: (p) => new wg.Adam(p, { learningRate: 0.003 }), loss: wg.binaryCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });
    textModel = { vectorizer, embedding, attention, model };
    const select = $<HTMLSelectElement>('text-sentence');
    select.replaceChildren(...test.slice(0, 40).map(([t, label], i) => new Option(`[${data.classes[label]}] ${t.replace(/\s+/g, ' ').slice(0, 90)}`, String(i))));
    select.onchange = () => void showTextAttention(test[Number(select.value)][0]).catch(fail);
    const x = vectorizer.call(train.map((r) => r[0]));
    const y = wg.tensor(train.map((r) => r[1]), [train.length, 1]);
    const vx = vectorizer.call(test.map((r) => r[0]));
    const vy = wg.tensor(test.map((r) => r[1]), [test.length, 1]);
    const epochs = options.epochs ?? num('epochs', Number($<HTMLInputElement>('text-epochs').value));
    const batchSize = 32;
    const steps = Math.ceil(train.length / batchSize);
    let t0 = performance.now();
    await model.fit({ x, y, batchSize, shuffle: true, seed: 1 }, {
      epochs,
      validationData: { x: vx, y: vy, batchSize: 64 },
      verbose: 0,
      callbacks: [{
        onEpochEnd: async (epoch, logs) => {
          state.text.msPerStep = (performance.now() - t0) / steps;
          for (const [k, v] of Object.entries(logs)) (state.text.history[k] ??= []).push(v);
          state.text.epochs = epoch + 1;
          drawCurves($('text-curves'), state.text.history, 'text model');
          await showTextAttention(test[Number(select.value || 0)][0]);
          status.textContent = `epoch ${epoch + 1}/${epochs}: loss ${logs.loss.toFixed(4)}, accuracy ${(logs.accuracy * 100).toFixed(1)}%, val ${(logs.val_accuracy * 100).toFixed(1)}% (${state.text.msPerStep.toFixed(0)} ms a step of ${batchSize})`;
          t0 = performance.now();
        },
      }],
    });
    [x, y, vx, vy].forEach((t) => t.dispose());
  } catch (e) {
    fail(e);
  } finally {
    state.text.busy = false;
  }
}

// ---- image: seed 1 -------------------------------------------------------------------------------------------

const IMAGE = { dim: 64, heads: 4 };
let ort: typeof Ort | null = null;
let session: Ort.InferenceSession | null = null;
let card: { inputName: string; outputName: string; preprocessing: string } | null = null;
let imageModel: { dense: wg.Dense; attention: wg.MultiHeadSelfAttention; model: wg.Model } | null = null;
let fashion: Fashion | null = null;
let chosen: { image: ImageData; features: Float32Array } | null = null;

async function backbone(): Promise<Ort.InferenceSession> {
  if (session) return session;
  // onnxruntime-web is served as it ships (its wasm files beside it), not bundled: the path is a run-time string.
  const url = '/ort/ort.wasm.min.mjs';
  ort = (await import(/* @vite-ignore */ url)) as typeof Ort;
  ort.env.wasm.wasmPaths = '/ort/';
  ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency) : 1;
  card = await (await fetch('/weights/mobilenet_v2_1.0_224.json')).json();
  session = await ort.InferenceSession.create('/weights/mobilenet_v2_1.0_224.onnx', { executionProviders: ['wasm'] });
  return session;
}

/** 224x224 RGB in [0, 1] (the shipped model's 'unit' preprocessing), resized as its training pipeline did. */
function toInput(img: wg.RawImage): Float32Array {
  const rgb = wg.convertChannels(img, 'rgb');
  const resized = wg.resizeBilinear(rgb, 224, 224, 'bilinear-align-corners');
  for (let i = 0; i < resized.length; i++) resized[i] /= 255;
  return resized;
}

async function features(inputs: Float32Array[]): Promise<Float32Array> {
  const s = await backbone();
  const out = new Float32Array(inputs.length * 49 * 1280);
  for (let i = 0; i < inputs.length; i++) {
    const r = await s.run({ [card!.inputName]: new ort!.Tensor('float32', inputs[i], [1, 224, 224, 3]) });
    out.set(r[card!.outputName].data as Float32Array, i * 49 * 1280);
  }
  return out;
}

const grey = (pixels: number[], size: number): wg.RawImage => ({ data: Uint8Array.from(pixels), width: size, height: size, channels: 1 });
function imageData(img: wg.RawImage): ImageData {
  const rgb = wg.convertChannels(img, 'rgba');
  return new ImageData(Uint8ClampedArray.from(rgb.data), img.width, img.height);
}

async function showHeatmaps(): Promise<void> {
  if (!imageModel || !chosen) return;
  const { dense, attention, model } = imageModel;
  const f = wg.tensor(chosen.features, [1, 49, 1280]);
  // [1, heads, 49, 49] -> attention each grid cell receives, averaged over the queries.
  const received = wg.tidy(() => wg.mean(attention.attend(dense.call(f), { returnAttentionScores: true }).scores!, 2));
  const grid = wg.reshape(f, [1, 7, 7, 1280]);
  const logits = await model.predict(grid);
  const probs = wg.softmax(logits);
  const [weights, p] = [await received.data(), Array.from(await probs.data())];
  for (const t of [f, grid, received, logits, probs]) t.dispose();
  const maps = Array.from({ length: IMAGE.heads }, (_, h) => Array.from(weights.slice(h * 49, (h + 1) * 49)));
  state.image.heatmaps.push(maps);
  drawHeatmaps($('image-heatmaps'), chosen.image, maps);
  const best = p.indexOf(Math.max(...p));
  state.image.prediction = `${fashion?.classes[best] ?? best} (${(p[best] * 100).toFixed(1)}%)`;
  $('image-prediction').textContent = `prediction: ${state.image.prediction}`;
}

async function trainImage(options: { epochs?: number; perClass?: number } = {}): Promise<void> {
  if (state.image.busy) return;
  state.image.busy = true;
  state.image.history = {};
  state.image.heatmaps = [];
  state.error = '';
  const status = $('image-status');
  try {
    fashion ??= (await (await fetch('data/fashion.json')).json()) as Fashion;
    const perClass = options.perClass ?? num('images', 12);
    const pick = (rows: Fashion['train'], n: number) => fashion!.classes.flatMap((_, c) => rows.filter((r) => r.label === c).slice(0, n));
    const train = pick(fashion.train, perClass);
    const test = pick(fashion.test, Math.max(1, Math.ceil(perClass / 4)));
    status.textContent = `MobileNetV2 features of ${train.length + test.length} images with onnxruntime-web (wasm)...`;
    const thumbs = $('image-thumbs');
    thumbs.replaceChildren();
    test.forEach((r, i) => {
      const c = document.createElement('canvas');
      c.width = c.height = fashion!.size;
      c.style.width = c.style.height = '42px';
      c.getContext('2d')!.putImageData(imageData(grey(r.pixels, fashion!.size)), 0, 0);
      c.title = fashion!.classes[r.label];
      c.onclick = () => {
        for (const o of thumbs.children) o.classList.remove('chosen');
        c.classList.add('chosen');
        chosen = { image: imageData(grey(r.pixels, fashion!.size)), features: testFeatures.slice(i * 49 * 1280, (i + 1) * 49 * 1280) };
        void showHeatmaps().catch(fail);
      };
      thumbs.append(c);
    });
    const t0 = performance.now();
    const trainFeatures = await features(train.map((r) => toInput(grey(r.pixels, fashion!.size))));
    const testFeatures = await features(test.map((r) => toInput(grey(r.pixels, fashion!.size))));
    state.image.featureMsPerImage = (performance.now() - t0) / (train.length + test.length);
    chosen = { image: imageData(grey(test[0].pixels, fashion.size)), features: testFeatures.slice(0, 49 * 1280) };
    (thumbs.children[0] as HTMLElement).classList.add('chosen');

    wg.manualSeed(7);
    const dense = new wg.Dense(IMAGE.dim, { activation: 'relu' });
    const attention = new wg.MultiHeadSelfAttention(IMAGE.dim, IMAGE.heads);
    const model = new wg.Model({
      name: 'image_mhsa',
      inputShape: [7, 7, 1280],
      layers: [new wg.Reshape([49, 1280]), dense, attention, new wg.GlobalAveragePooling1D(), new wg.Dropout(0.2), new wg.Dense(fashion.classes.length)],
    });
    model.compile({ optimizer: (p) => new wg.Adam(p, { learningRate: 0.001 }), loss: wg.sparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });
    imageModel = { dense, attention, model };
    const x = wg.tensor(trainFeatures, [train.length, 7, 7, 1280]);
    const y = wg.tensor(train.map((r) => r.label), [train.length], { dtype: 'int32' });
    const vx = wg.tensor(testFeatures, [test.length, 7, 7, 1280]);
    const vy = wg.tensor(test.map((r) => r.label), [test.length], { dtype: 'int32' });
    await showHeatmaps();
    const epochs = options.epochs ?? num('imageEpochs', Number($<HTMLInputElement>('image-epochs').value));
    const batchSize = 16;
    const steps = Math.ceil(train.length / batchSize);
    let e0 = performance.now();
    await model.fit({ x, y, batchSize, shuffle: true, seed: 1 }, {
      epochs,
      validationData: { x: vx, y: vy, batchSize: 32 },
      verbose: 0,
      callbacks: [{
        onEpochEnd: async (epoch, logs) => {
          state.image.msPerStep = (performance.now() - e0) / steps;
          for (const [k, v] of Object.entries(logs)) (state.image.history[k] ??= []).push(v);
          state.image.epochs = epoch + 1;
          drawCurves($('image-curves'), state.image.history, 'image head');
          await showHeatmaps();
          status.textContent = `features ${state.image.featureMsPerImage.toFixed(0)} ms an image; epoch ${epoch + 1}/${epochs}: loss ${logs.loss.toFixed(4)}, accuracy ${(logs.accuracy * 100).toFixed(1)}%, val ${(logs.val_accuracy * 100).toFixed(1)}% (${state.image.msPerStep.toFixed(0)} ms a step of ${batchSize})`;
          e0 = performance.now();
        },
      }],
    });
    [x, y, vx, vy].forEach((t) => t.dispose());
  } catch (e) {
    fail(e);
  } finally {
    state.image.busy = false;
  }
}

/** An image of the user's own: decoded by the browser, through the backbone, then the head's prediction and heatmaps. */
async function predictFile(file: Blob): Promise<void> {
  try {
    if (!imageModel) throw new Error('Train the image head first ("Compute features and train"), then drop an image.');
    const bitmap = await createImageBitmap(file);
    const c = new OffscreenCanvas(224, 224);
    const g = c.getContext('2d')!;
    g.drawImage(bitmap, 0, 0, 224, 224);
    const data = g.getImageData(0, 0, 224, 224);
    const img: wg.RawImage = { data: new Uint8Array(data.data.buffer), width: 224, height: 224, channels: 4 };
    chosen = { image: data, features: await features([toInput(img)]) };
    for (const o of $('image-thumbs').children) o.classList.remove('chosen');
    await showHeatmaps();
  } catch (e) {
    fail(e);
  }
}

// ---- start ---------------------------------------------------------------------------------------------------

const drop = $('drop');
drop.ondragover = (e) => {
  e.preventDefault();
  drop.classList.add('over');
};
drop.ondragleave = () => drop.classList.remove('over');
drop.ondrop = (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const file = e.dataTransfer?.files[0];
  if (file) void predictFile(file);
};
$<HTMLInputElement>('image-file').onchange = (e) => {
  const file = (e.target as HTMLInputElement).files?.[0];
  if (file) void predictFile(file);
};
$('text-train').onclick = () => void trainText();
$('image-train').onclick = () => void trainImage();
drawCurves($('text-curves'), {}, 'text model');
drawCurves($('image-curves'), {}, 'image head');

try {
  // ?tune=0 skips the autotune (seconds on a real GPU, long on a software one).
  const info = await wg.init({ log: false, tune: params.get('tune') !== '0' });
  state.adapter = info.description;
  $('adapter').textContent = `WebGPU: ${info.description}${info.adapter?.software ? ' (a software adapter: expect slow training; a real GPU is far faster)' : ''}`;
  if (params.get('auto') === '1') {
    await trainText();
    await trainImage();
  }
} catch (e) {
  $('adapter').textContent = 'no WebGPU';
  fail(e);
}
