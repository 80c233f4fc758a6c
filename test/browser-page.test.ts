// The live attention page (examples/browser/) in headless Chromium: a short training of both workflows, then the
// curves and heatmaps must be drawn (canvas regions that are not blank) from numbers that change as it learns. The
// screenshot is kept at out/browser-test/page.png for a person to look at.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSite, serveSite, type RunningSite } from '../examples/browser/server.js';
import { openPage, type Session } from './support/chromium.js';

const work = mkdtempSync(join(tmpdir(), 'wgrad-page-test-'));
const shots = join('out', 'browser-test');
let site: RunningSite;
let session: Session;

interface PageState {
  adapter: string;
  error: string;
  text: { history: Record<string, number[]>; epochs: number; msPerStep: number; attention: number[][] };
  image: { history: Record<string, number[]>; epochs: number; msPerStep: number; featureMsPerImage: number; heatmaps: number[][][]; prediction: string };
}
const state = (): Promise<PageState> => session.page.evaluate(() => (window as unknown as { wgradPage: { state: PageState } }).wgradPage.state);

/** Pixels of a canvas region that differ from white, and how many distinct colours it has. */
const inked = (id: string, x: number, y: number, w: number, h: number) =>
  session.page.evaluate(({ id, x, y, w, h }) => {
    const c = document.getElementById(id) as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(x, y, w, h).data;
    let ink = 0;
    const colours = new Set<number>();
    for (let i = 0; i < d.length; i += 4) {
      if (d[i] < 245 || d[i + 1] < 245 || d[i + 2] < 245) ink++;
      colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
    }
    return { ink: ink / (w * h), colours: colours.size };
  }, { id, x, y, w, h });

const page = suite('the live attention page in headless Chromium');
page.before(async () => {
  const dir = await buildSite({ out: work, textsPerClass: 80, imagesPerClass: 4 });
  site = await serveSite(dir);
  session = await openPage(`${site.url}?tune=0`, { width: 1400, height: 1000 });
  await session.page.waitForFunction(() => (window as unknown as { wgradPage?: { state: { adapter: string; error: string } } }).wgradPage?.state.adapter || (window as unknown as { wgradPage?: { state: { error: string } } }).wgradPage?.state.error);
});
page.after(async () => {
  await session?.close();
  await site?.close();
  rmSync(work, { recursive: true, force: true });
});

page('the page opens WebGPU on navigator.gpu and says which adapter', async () => {
  const s = await state();
  assert.is(s.error, '', s.error);
  assert.match(s.adapter, /via navigator\.gpu/);
});

page('text workflow: two epochs train in the page, the curves are drawn and the attention is shown token by token', async () => {
  await session.page.evaluate(() => (window as unknown as { wgradPage: { trainText(o: object): Promise<void> } }).wgradPage.trainText({ epochs: 2, perClass: 80 }));
  const s = await state();
  assert.is(s.error, '', s.error);
  assert.is(s.text.epochs, 2);
  const loss = s.text.history.loss;
  assert.is(loss.length, 2);
  assert.ok(loss.every(Number.isFinite) && loss[0] !== loss[1], `loss per epoch changes: ${loss}`);
  assert.is(s.text.history.val_accuracy.length, 2);
  assert.is(s.text.attention.length, 2, 'one row of weights per head');
  assert.ok(s.text.attention[0].length > 0 && s.text.attention[0].some((v) => v > 0));
  const plot = await inked('text-curves', 44, 24, 436, 196);
  assert.ok(plot.ink > 0.005 && plot.colours > 4, `curves drawn: ${JSON.stringify(plot)}`);
  const tokens = await session.page.$$eval('#text-attention .tok', (els) => els.map((e) => (e as HTMLElement).style.background));
  assert.ok(tokens.length > 3 && new Set(tokens).size > 1, `tokens shaded unequally: ${tokens.length}`);
  console.log(`text: ${s.text.msPerStep.toFixed(0)} ms a step of 32 on ${s.adapter}`);
});

page('image workflow: MobileNetV2 features with onnxruntime-web, the head trains on WebGPU, heatmaps update as it learns', async () => {
  await session.page.evaluate(() => (window as unknown as { wgradPage: { trainImage(o: object): Promise<void> } }).wgradPage.trainImage({ epochs: 3, perClass: 4 }));
  const s = await state();
  assert.is(s.error, '', s.error);
  assert.is(s.image.epochs, 3);
  const loss = s.image.history.loss;
  assert.ok(loss.every(Number.isFinite) && loss[2] < loss[0], `loss goes down: ${loss}`);
  // One set of heatmaps before training and one per epoch, each 4 heads of 49 cells; they move as the head learns.
  assert.is(s.image.heatmaps.length, 4);
  const [first, last] = [s.image.heatmaps[0], s.image.heatmaps[3]];
  assert.is(first.length, 4);
  assert.is(first[0].length, 49);
  const moved = Math.max(...first.flatMap((h, i) => h.map((v, j) => Math.abs(v - last[i][j]))));
  assert.ok(moved > 1e-4, `heatmaps change: max move ${moved}`);
  for (const h of last) assert.ok(Math.abs(h.reduce((a, b) => a + b, 0) - 1) < 1e-3, 'each head attends with weights summing to 1');
  const curves = await inked('image-curves', 44, 24, 436, 196);
  assert.ok(curves.ink > 0.005 && curves.colours > 4, `curves drawn: ${JSON.stringify(curves)}`);
  for (let head = 0; head < 4; head++) {
    const cell = await inked('image-heatmaps', 8 + head * 144, 18, 132, 132);
    assert.ok(cell.ink > 0.9 && cell.colours > 8, `head ${head + 1} heatmap drawn: ${JSON.stringify(cell)}`);
  }
  assert.match(s.image.prediction, /\(\d+\.\d%\)/);
  mkdirSync(shots, { recursive: true });
  await session.page.screenshot({ path: join(shots, 'page.png'), fullPage: true });
  assert.ok(statSync(join(shots, 'page.png')).size > 20_000);
  console.log(`image: features ${s.image.featureMsPerImage.toFixed(0)} ms an image (onnxruntime-web wasm), head ${s.image.msPerStep.toFixed(0)} ms a step of 16`);
});

page("an image of the user's own goes through the backbone and the head", async () => {
  const before = (await state()).image.heatmaps.length;
  // A file input stands in for a drop: both call predictFile with the file.
  const input = await session.page.$('#image-file');
  const png = join(work, 'site', 'probe.png');
  await session.page.screenshot({ path: png, clip: { x: 0, y: 0, width: 64, height: 64 } });
  await (input as unknown as { uploadFile(p: string): Promise<void> }).uploadFile(png);
  await session.page.waitForFunction((n) => (window as unknown as { wgradPage: { state: PageState } }).wgradPage.state.image.heatmaps.length > n, {}, before);
  const s = await state();
  assert.is(s.error, '', s.error);
  assert.match(s.image.prediction, /\(\d+\.\d%\)/);
  await session.page.screenshot({ path: join(shots, 'page-dropped.png'), fullPage: true });
});
page.run();
