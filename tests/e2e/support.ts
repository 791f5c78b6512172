// Shared set-up of the end-to-end tests: build the web app once, serve it on
// 127.0.0.1 at a random port, and drive Debian's Chromium (never a download).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const root = fileURLToPath(new URL('../..', import.meta.url));

/** Why the browser tests cannot run here, or null when they can. In CI they always run (and fail without a browser). */
export function skipReason(): string | null {
  if (existsSync(CHROMIUM) || process.env.CI) return null;
  return `${CHROMIUM} is missing: end-to-end tests skipped (apt-get install -y chromium; in CI they run)`;
}

/**
 * Builds the app with vite.config.ts into .cache/e2e-web-<worker> (unless
 * E2E_DIST names a prebuilt one). Test files run in parallel workers: one
 * directory per worker, so that no build empties another file's while it is served.
 */
let built: Promise<string> | null = null;
export function buildApp(): Promise<string> {
  built ??= buildOnce();
  return built;
}

async function buildOnce(): Promise<string> {
  if (process.env.E2E_DIST) return process.env.E2E_DIST;
  const outDir = `${root}.cache/e2e-web-${process.env.VITEST_POOL_ID ?? 0}`;
  const { build } = await import('vite');
  await build({ root, configFile: `${root}vite.config.ts`, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  return outDir;
}

export async function serveApp(dir: string): Promise<{ url: string; close: () => Promise<void> }> {
  // @ts-expect-error: a plain JS module without type declarations
  const { serve } = (await import('../../src/web/serve.js')) as {
    serve: (o: { dir: string; port: number }) => Promise<{ url: string; close: () => Promise<void> }>;
  };
  return serve({ dir, port: 0 });
}

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
}
