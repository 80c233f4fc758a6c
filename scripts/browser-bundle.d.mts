// Types of scripts/browser-bundle.mjs, for the TypeScript tests and examples that bundle with it.
import type { Metafile, Plugin } from 'esbuild';

export const root: string;
export const browserHost: Plugin;
export function bundleForBrowser(options: { entry?: string; outfile: string }): Promise<Metafile>;
