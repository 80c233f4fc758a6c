// npm run build: embeds the kernels, then emits ESM JavaScript and .d.ts for src/ into a clean dist/.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
rmSync('dist', { recursive: true, force: true });
execFileSync(process.execPath, ['scripts/embed-kernels.mjs'], { stdio: 'inherit' });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
// The browser build: the core as one ES module (package.json's "browser" condition and 'wgrad/browser').
const { bundleForBrowser } = await import('./browser-bundle.mjs');
await bundleForBrowser({ outfile: 'dist/browser/wgrad.js' });
