// Shared by the web benches: the guest to run, the checks that what they
// need is there, and the built app (dist-web/) served on a free port and
// driven in Debian's Chromium (never a download).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from '../../src/web/serve.js';

export const root = fileURLToPath(new URL('../..', import.meta.url));
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** The guest named on the command line (default: bench) and its ELF. */
export function benchGuest() {
  const name = process.argv[2] ?? 'bench';
  return { name, elf: new Uint8Array(readFileSync(`${root}guests/build/${name}.elf`)) };
}

/** Exits, saying `how` to build them, when files the bench needs (from the project root) are missing. */
export function requireBuilt(files, how) {
  for (const file of files) {
    if (!existsSync(root + file)) {
      console.error(`missing ${file}: run ${how} first`);
      process.exit(1);
    }
  }
}

/** Ends the bench when Chromium is missing (not a failure: no browser here), after `without` printed what it can. */
export function requireChromium(without = () => {}) {
  if (existsSync(CHROMIUM)) return;
  without();
  console.log(`${CHROMIUM} not found: no browser figures`);
  process.exit(0);
}

/**
 * Serves dist-web/, launches Chromium and runs `body({ browser, open })`,
 * where `open(query, options)` opens the app at `query` in a new page once
 * its page API (globalThis.rewind) is up. Closes both after.
 */
export async function withApp(body) {
  const server = await serve({ port: 0 });
  let browser;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
      ],
    });
    const open = async (query, options) => {
      const page = await browser.newPage(options);
      await page.goto(`${server.url}${query}`);
      await page.waitForFunction(() => 'rewind' in globalThis);
      return page;
    };
    await body({ browser, open });
  } finally {
    await browser?.close();
    await server.close();
  }
}

/** Loads the guest in the app, recording, and waits until it powers off: the whole run recorded. */
export async function recordToEnd(page, name, elf) {
  await page.evaluate(
    async ({ bytes, name }) => {
      await globalThis.rewind.app.load(Uint8Array.from(bytes), name, true);
    },
    { bytes: Array.from(elf), name },
  );
  await page.waitForFunction(() => globalThis.rewind.app.status.state === 'off', null, {
    timeout: 600_000,
    polling: 100,
  });
}
