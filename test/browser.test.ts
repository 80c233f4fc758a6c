// The core in a real browser: test/support/browser-entry.ts, bundled as the browser build is, runs in headless
// Chromium on navigator.gpu (SwiftShader here, a CPU Vulkan about 50x slower than llvmpipe, so sizes are small).
// Each of its cases is one test here. Without Chromium, or without WebGPU in it, the suite fails: it never skips.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleForBrowser } from '../scripts/browser-bundle.mjs';
import { openPage, serve, type Served, type Session } from './support/chromium.js';
import { browserParityRuns } from './support/parity-cases.js';

const dir = mkdtempSync(join(tmpdir(), 'wgrad-browser-test-'));
let server: Served;
let session: Session;
let names: string[] = [];

const browser = suite('browser: the core on navigator.gpu in headless Chromium');
browser.before(async () => {
  await bundleForBrowser({ entry: 'test/support/browser-entry.ts', outfile: join(dir, 'suite.js') });
  writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><title>wgrad browser suite</title><script type="module" src="suite.js"></script>');
  server = await serve(dir);
  session = await openPage(`${server.url}/index.html`);
  await session.page.waitForFunction(() => 'wgradSuite' in window);
  const adapter = await session.page.evaluate(() => window.wgradSuite.ready);
  console.log(`browser: ${await session.browser.version()}, ${adapter}`);
  names = await session.page.evaluate(() => window.wgradSuite.names());
});
browser.after(async () => {
  await session?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

browser('the page lists every check, and the op cases cover every op family', () => {
  assert.ok(names.length > 20, `${names.length} checks`);
  const families = ['neg', 'exp', 'add', 'where', 'sum', 'logsumexp', 'softmax', 'logSoftmax', 'matmul', 'dense', 'reshape', 'transpose', 'slice', 'concat', 'expand', 'gather', 'dropout'];
  for (const f of families) assert.ok(names.some((n) => n.startsWith(`parity: ${f}`)), `a ${f} case runs in the browser`);
});

// The names come from the same tables the page uses; a name the page does not know fails its test.
const expected = [
  ...browserParityRuns().map((r) => r.name),
  'the adapter is navigator.gpu, reported with its software flag',
  'the autotune result is kept in localStorage',
  'staged reads: softmax, sum, a permute and a scalar minus a tensor agree with the buffer path bit for bit, and with float64',
  'staged reads: an Adam step from four textures agrees with the buffer path bit for bit, and with float64',
  'no file system: readSafetensors names the byte forms instead',
  'gradcheck: softmax · matmul · gelu against central differences',
  'fit: an Embedding + MultiHeadSelfAttention model, loss going down',
  'memory(): flat across training steps',
  'a device validation error surfaces as a DeviceError, and the device stays usable',
  'a kernel-side index check throws an IndexError',
];
for (const name of expected) {
  browser(name, async () => {
    assert.ok(names.includes(name), `the page has no check named ${JSON.stringify(name)}`);
    const result = await session.page.evaluate((n) => window.wgradSuite.run(n), name);
    if (!result.ok) assert.unreachable(`${result.message}\npage console:\n${session.log.slice(-20).join('\n')}`);
  });
}
browser('the page has no check that this suite does not run', () => {
  assert.equal(names.filter((n) => !expected.includes(n)), []);
});
browser.run();
