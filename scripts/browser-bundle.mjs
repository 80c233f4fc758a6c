// The browser build: src/index.ts (the core) bundled by esbuild into one ES module, with the browser host in place
// of the Node one. npm run build writes it to dist/browser/wgrad.js; the browser tests and the example page bundle
// their own entries the same way, so what they run is what ships.
//
// The core loads its host lazily (src/platform/host.ts): under Node it imports platform/node.ts, which reaches Dawn
// and the file system. Here that import is pointed at platform/browser.ts, and `platform: 'browser'` makes esbuild
// refuse any Node built-in that still slips in, so no `node:` module can reach the bundle.
import * as esbuild from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Points the core's Node host at the browser host, and refuses the Node-only packages by name. */
export const browserHost = {
  name: 'wgrad-browser-host',
  setup(build) {
    build.onResolve({ filter: /^\.\/node\.js$/ }, (args) =>
      args.importer.endsWith(join('src', 'platform', 'host.ts')) ? { path: join(root, 'src', 'platform', 'browser.ts') } : undefined,
    );
    build.onResolve({ filter: /^(webgpu|sharp|onnxruntime-node)$/ }, (args) => ({
      errors: [{ text: `'${args.path}' is Node-only and must not reach the browser build (imported by ${args.importer})` }],
    }));
  },
};

/** Bundles `entry` for browsers into `outfile` (ESM). Returns esbuild's metafile. */
export async function bundleForBrowser({ entry = join(root, 'src', 'index.ts'), outfile }) {
  const result = await esbuild.build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome113', 'safari17', 'firefox121'],
    sourcemap: true,
    metafile: true,
    logLevel: 'warning',
    legalComments: 'none',
    plugins: [browserHost],
  });
  return result.metafile;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = process.argv[2] ?? join(root, 'dist', 'browser', 'wgrad.js');
  // No top-level await: the tests load this module through tsx's CommonJS hook.
  bundleForBrowser({ outfile: out }).then(() => console.log(`browser build: ${out}`));
}
