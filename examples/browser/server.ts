// The live page's server: bundles main.ts with the core's browser build, writes the page's data (a slice of the
// SpamAssassin corpus and of Fashion-MNIST, from the same sources as the Node examples), and serves it all on
// localhost (WebGPU needs a secure context, which localhost is) with the shipped MobileNetV2 ONNX file and
// onnxruntime-web's wasm files. Used by serve.ts (npm run browser-demo) and the page test.
import { mkdirSync, readdirSync, readFileSync, writeFileSync, copyFileSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import sirv from 'sirv';
import { bundleForBrowser, root } from '../../scripts/browser-bundle.mjs';
import { Rng } from '../../src/index.js';
import { FASHION_MNIST_CLASSES, loadFashionMnist } from '../corpora/fashion-mnist.js';
import { exportSpamAssassin } from '../corpora/spam-assassin.js';

export interface SiteOptions {
  /** Folder for the built page and its data (default out/browser). */
  out?: string;
  /** Mails per class in the page's corpus, training split (default 600; the page uses what it asks for). */
  textsPerClass?: number;
  /** Fashion-MNIST images per class for training (default 40), a quarter as many for validation. */
  imagesPerClass?: number;
}

function readTexts(dir: string, classes: string[]): [string, number][] {
  return classes.flatMap((c, label) =>
    readdirSync(join(dir, c)).sort().map((f) => [readFileSync(join(dir, c, f), 'latin1').slice(0, 3000), label] as [string, number]),
  );
}

/** Builds the page into `out`/site and returns that folder. */
export async function buildSite(options: SiteOptions = {}): Promise<string> {
  const out = options.out ?? join(root, 'out', 'browser');
  const site = join(out, 'site');
  mkdirSync(join(site, 'data'), { recursive: true });
  await bundleForBrowser({ entry: join(root, 'examples', 'browser', 'main.ts'), outfile: join(site, 'main.js') });
  copyFileSync(join(root, 'examples', 'browser', 'index.html'), join(site, 'index.html'));

  const perClass = options.textsPerClass ?? 600;
  const corpusDir = join(out, 'data', 'spam-assassin');
  exportSpamAssassin(corpusDir, { seed: 42, limitPerClass: Math.ceil(perClass / 0.75) });
  const classes = ['ham', 'spam'];
  const rng = new Rng(1);
  const corpus = { classes, train: rng.shuffle(readTexts(join(corpusDir, 'train'), classes)), test: rng.shuffle(readTexts(join(corpusDir, 'test'), classes)) };
  writeFileSync(join(site, 'data', 'spam.json'), JSON.stringify(corpus));

  const images = options.imagesPerClass ?? 40;
  const pick = (split: 'train' | 'test', n: number) => {
    const set = loadFashionMnist(split);
    const size = set.rows * set.cols;
    const order = new Rng(split === 'train' ? 3 : 4).shuffle(Array.from({ length: set.count }, (_, i) => i));
    const taken: { pixels: number[]; label: number }[] = [];
    const counts = new Array(10).fill(0);
    for (const i of order) {
      const label = set.labels[i];
      if (counts[label] >= n) continue;
      counts[label]++;
      taken.push({ pixels: Array.from(set.pixels.subarray(i * size, (i + 1) * size)), label });
      if (taken.length === 10 * n) break;
    }
    return taken;
  };
  const fashion = { classes: FASHION_MNIST_CLASSES, size: 28, train: pick('train', images), test: pick('test', Math.ceil(images / 4)) };
  writeFileSync(join(site, 'data', 'fashion.json'), JSON.stringify(fashion));
  return site;
}

export interface RunningSite {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** Serves the built site, /weights/ (the ONNX file and its card) and /ort/ (onnxruntime-web's dist). */
export async function serveSite(site: string, port = 0): Promise<RunningSite> {
  const ortDir = dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
  const weights = join(root, 'weights');
  if (!existsSync(join(weights, 'mobilenet_v2_1.0_224.onnx'))) {
    throw new Error(`${join(weights, 'mobilenet_v2_1.0_224.onnx')} is missing: run 'npm run weights' (npm run setup does) to convert it.`);
  }
  const routes: [string, ReturnType<typeof sirv>][] = [
    ['/ort', sirv(ortDir, { dev: true })],
    ['/weights', sirv(weights, { dev: true })],
    ['', sirv(site, { dev: true })],
  ];
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    const [prefix, handler] = routes.find(([p]) => url === p || url.startsWith(`${p}/`))!;
    req.url = url.slice(prefix.length) || '/';
    handler(req, res, () => {
      res.statusCode = 404;
      res.end('not found');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const { port: bound } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${bound}/`, server, close: () => new Promise((r) => server.close(() => r())) };
}
