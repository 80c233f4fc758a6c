// Headless Chromium with WebGPU, for the browser suite and the example page's test. Debian's chromium runs WebGPU
// on SwiftShader (a CPU Vulkan) with these flags; puppeteer-core drives it without downloading a browser. Nothing
// here skips: a missing browser, or one without WebGPU, is an error that says what to install.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import sirv from 'sirv';

export const CHROMIUM = process.env.WGRAD_CHROMIUM ?? '/usr/bin/chromium';

export const WEBGPU_FLAGS = [
  '--headless=new',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-webgpu-adapter=swiftshader',
  // This machine's network is closed: Chromium's own background connections would only fail.
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export interface Served {
  url: string;
  close(): Promise<void>;
}

/** Serves a folder on an ephemeral localhost port (a secure context, as WebGPU requires). */
export async function serve(dir: string): Promise<Served> {
  const handler = sirv(dir, { dev: true });
  const server: Server = createServer((req, res) => handler(req, res, () => {
    res.statusCode = 404;
    res.end('not found');
  }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export interface Session {
  browser: Browser;
  page: Page;
  /** What the page printed to its console, and its uncaught errors. */
  log: string[];
  close(): Promise<void>;
}

/** Launches Chromium and opens `url`, failing with what to install when the browser or its WebGPU is missing. */
export async function openPage(url: string, viewport = { width: 1280, height: 900 }): Promise<Session> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`The browser tests need Chromium at ${CHROMIUM}: install Debian's chromium package (bash scripts/setup.sh does, as root), or set WGRAD_CHROMIUM to a Chromium or Chrome binary.`);
  }
  const profile = mkdtempSync(join(tmpdir(), 'wgrad-chromium-'));
  const browser = await puppeteer.launch({ executablePath: CHROMIUM, args: [...WEBGPU_FLAGS, `--user-data-dir=${profile}`], protocolTimeout: 600_000 });
  const page = await browser.newPage();
  page.setDefaultTimeout(600_000);
  await page.setViewport(viewport);
  const log: string[] = [];
  page.on('console', (m) => log.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => log.push(`pageerror: ${(e as Error).message}`));
  const close = async (): Promise<void> => {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  };
  try {
    await page.goto(url, { waitUntil: 'load' });
    const gpu = await page.evaluate(async () => {
      const g = (navigator as Navigator & { gpu?: GPU }).gpu;
      if (!g) return 'navigator.gpu is undefined';
      const a = await g.requestAdapter();
      return a ? '' : 'navigator.gpu.requestAdapter() returned null';
    });
    if (gpu) throw new Error(`Chromium at ${CHROMIUM} offers no WebGPU (${gpu}); it was started with ${WEBGPU_FLAGS.join(' ')}. Debian's chromium 120+ runs WebGPU on SwiftShader with these flags.`);
  } catch (e) {
    await close();
    throw e;
  }
  return { browser, page, log, close };
}
