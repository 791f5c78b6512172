// Shared set-up of the end-to-end tests: build the web app once, serve it on
// 127.0.0.1 at a random port, and drive Debian's Chromium (never a download).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

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
function buildApp(): Promise<string> {
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

async function serveApp(dir: string): Promise<{ url: string; close: () => Promise<void> }> {
  // @ts-expect-error: a plain JS module without type declarations
  const { serve } = (await import('../../src/web/serve.js')) as {
    serve: (o: { dir: string; port: number }) => Promise<{ url: string; close: () => Promise<void> }>;
  };
  return serve({ dir, port: 0 });
}

function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
    ],
  });
}

export interface OpenApp {
  /** Where the app is served. */
  url: string;
  /** The app at the address `openApp` was given. */
  page: Page;
  /** The uncaught errors of every page opened here, in order. */
  errors: string[];
  /** The console's error messages of every page opened here (a failed resource load, e.g. a 404, is one). */
  consoleErrors: string[];
  /** Opens `url` in a fresh browser profile (its own storage); its errors go into `errors` too. */
  newProfile: (url: string) => Promise<Page>;
  /** Closes the browser and stops the server. */
  close: () => Promise<void>;
}

/** Serves the built app, launches Chromium and opens the app at `query` (e.g. `?record=1`) in a 1440×900 page. */
export async function openApp(query = ''): Promise<OpenApp> {
  const server = await serveApp(await buildApp());
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close();
    await server.close();
  };
  try {
    browser = await launch();
    const errors: string[] = [];
    const consoleErrors: string[] = [];
    const newProfile = async (url: string) => {
      const context = await browser!.newContext({ viewport: { width: 1440, height: 900 } });
      const page = await context.newPage();
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') consoleErrors.push(`${m.text()} ${m.location().url}`);
      });
      await page.goto(url);
      return page;
    };
    const page = await newProfile(`${server.url}${query}`);
    return { url: server.url, page, errors, consoleErrors, newProfile, close };
  } catch (e) {
    // Nothing is left running when the set-up fails half-way.
    await close();
    throw e;
  }
}

/** The parts of the page most tests read and press, for the page `page()` returns (set once the app is open). */
export function appParts(page: () => Page) {
  const slider = () => page().getByRole('slider', { name: 'Timeline' });
  return {
    consoleText: () => page().locator('.xterm-accessibility-tree').innerText(),
    slider,
    position: async () => Number(await slider().getAttribute('aria-valuenow')),
    /** Where the machine stands: during a seek the slider already shows its target. */
    machinePosition: () =>
      page().evaluate(
        () =>
          (globalThis as unknown as { rewind: { app: { status: { position: number } } } }).rewind.app.status.position,
      ),
    branch: () => page().getByTestId('branch').innerText(),
    button: (name: string) => page().getByRole('button', { name, exact: true }),
  };
}

/**
 * Whether the library's copy of the VM shown is of the point shown: what a
 * reload reopens. A stop is saved once steps settle, so a test that reloads
 * waits for this first, as a user would for "saved".
 */
export function savedHere(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    const { library, app } = (
      globalThis as unknown as {
        rewind: {
          library: { current: { id: string } | null; entries: { id: string; branch: string; position: number }[] };
          app: { status: { branch: string; position: number } };
        };
      }
    ).rewind;
    const saved = library.entries.find((e) => e.id === library.current?.id);
    return saved?.branch === app.status.branch && saved.position === app.status.position;
  });
}
