import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { KERNEL_NAMES, kernelSource } from '../src/device/kernels.js';

const require = createRequire(import.meta.url);
const pkg = suite('package: embedded kernels, command lines, a core without Node built-ins');
const embed = (...args: string[]) => spawnSync(process.execPath, ['scripts/embed-kernels.mjs', ...args], { encoding: 'utf8' });

pkg('the embedded kernels are the files in kernels/, byte for byte where they include nothing', () => {
  for (const name of KERNEL_NAMES) {
    const file = readFileSync(`kernels/${name}.wgsl`, 'utf8');
    if (!file.includes('//#include')) assert.is(kernelSource(name), file, name);
  }
  assert.throws(() => kernelSource('no_such_kernel'), /No kernel 'no_such_kernel'.*npm run kernels/);
  assert.is(embed('--check').status, 0, 'src/generated/ is up to date');
});

pkg('//#include pulls shared WGSL in once per kernel, and a missing or self-including file is an error naming it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wgrad-embed-'));
  try {
    mkdirSync(join(dir, 'k', 'include'), { recursive: true });
    writeFileSync(join(dir, 'k', 'include', 'hash.wgsl'), 'fn hash(x: u32) -> u32 { return x * 747796405u; }\n');
    writeFileSync(join(dir, 'k', 'uses.wgsl'), '//#include "hash.wgsl"\n//#include "hash.wgsl"\n@compute @workgroup_size(1) fn main() {}\n');
    assert.is(embed('--kernels', join(dir, 'k'), '--out', join(dir, 'out')).status, 0);
    const generated = readFileSync(join(dir, 'out', 'kernels.ts'), 'utf8');
    assert.match(generated, /"uses": ".*fn hash\(x: u32\).*\(hash\.wgsl included above\).*fn main/);
    assert.not.match(generated, /"hash":/, 'include files are not kernels');
    assert.is((generated.match(/fn hash/g) ?? []).length, 1);

    writeFileSync(join(dir, 'k', 'broken.wgsl'), '//#include "nope.wgsl"\n');
    let r = embed('--kernels', join(dir, 'k'), '--out', join(dir, 'out'));
    assert.is(r.status, 1);
    assert.match(r.stderr, /broken\.wgsl: #include "nope\.wgsl" not found in kernels\/include\//);
    rmSync(join(dir, 'k', 'broken.wgsl'));
    writeFileSync(join(dir, 'k', 'include', 'loop.wgsl'), '//#include "loop.wgsl"\n');
    writeFileSync(join(dir, 'k', 'loops.wgsl'), '//#include "loop.wgsl"\n');
    r = embed('--kernels', join(dir, 'k'), '--out', join(dir, 'out'));
    assert.is(r.status, 1);
    assert.match(r.stderr, /includes itself/);
    writeFileSync(join(dir, 'k', 'loops.wgsl'), 'fn changed() {}\n');
    assert.is(embed('--kernels', join(dir, 'k'), '--out', join(dir, 'out'), '--check').status, 1, '--check sees a stale map');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

pkg('command lines: --help lists every flag with its default and allowed values; a bad flag exits 2 with no stack trace', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, ['--import', require.resolve('tsx'), 'examples/image-classification.ts', ...args], { encoding: 'utf8' });
  const help = run('--help');
  assert.is(help.status, 0);
  for (const flag of ['--data', '--epochs <n>', '--lr-schedule', 'one of constant, cosine', '(default: 3)', '--debug']) assert.ok(help.stdout.includes(flag), flag);
  for (const [args, message] of [
    [['--epochs=x'], /--epochs takes a number, got 'x'/],
    [['--frobnicate'], /Unknown option '--frobnicate'/],
    [['--lr-schedule', 'linear'], /--lr-schedule takes one of constant, cosine, got 'linear'/],
    [['--batch-size=0'], /--batch-size must be at least 1/],
  ] as [string[], RegExp][]) {
    const r = run(...args);
    assert.is(r.status, 2, args.join(' '));
    assert.match(r.stderr, message);
    assert.match(r.stderr, /Usage: npm run demo --/);
    assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

pkg("the core entry reaches no Node built-in: esbuild bundles it for a browser, with the browser field's swap", async () => {
  const esbuild = await import('esbuild');
  // package.json's browser field swaps dist/platform/node.js for browser.js; the same swap, applied to the sources.
  const browserField = JSON.parse(readFileSync('package.json', 'utf8')).browser as Record<string, string>;
  assert.equal(browserField, { './dist/platform/node.js': './dist/platform/browser.js' });
  const result = await esbuild.build({
    entryPoints: ['src/index.ts'],
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'esm',
    external: ['webgpu'],
    metafile: true,
    logLevel: 'silent',
    plugins: [{
      name: 'browser-host',
      setup(build) {
        build.onResolve({ filter: /^\.\/node\.js$/ }, (args) => (args.importer.endsWith(join('platform', 'host.ts')) ? { path: join(process.cwd(), 'src/platform/browser.ts') } : undefined));
      },
    }],
  });
  const inputs = Object.keys(result.metafile.inputs);
  assert.ok(inputs.includes('src/platform/browser.ts'), 'the browser host is in');
  assert.equal(inputs.filter((i) => /platform\/node|^node:|backbone|plot\/|data\/(decode|directory|image-dataset|text-dataset)/.test(i)), []);
});

pkg.run();
