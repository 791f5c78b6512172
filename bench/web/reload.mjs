// Reopening a Linux VM after a page reload (issue #13): boot Linux in the app (recording), run a
// command, let the library save it, then reload the page and time (from the reload) the first
// paint that says what is happening, and the machine back at its saved point with its console.
// `node bench/web/reload.mjs [runs]` (default 3). Needs the built web app (npx vite build) and
// /usr/bin/chromium. Prints figures; asserts nothing.
import { requireBuilt, requireChromium, withApp } from './browser.mjs';

const RUNS = Number(process.argv[2] ?? 3);
requireBuilt(['dist-web/index.html'], '`npx vite build`');
requireChromium();

const consoleText = (page) => page.locator('.xterm-accessibility-tree').innerText();
const waitFor = async (what, test, timeout = 200_000) => {
  const end = Date.now() + timeout;
  while (Date.now() < end) {
    if (await test()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
};

await withApp(async ({ open }) => {
  const page = await open('?guest=linux&record=1');
  await waitFor('the shell prompt', async () => /rewind:\/#\s*$/.test(await consoleText(page)));
  await page.locator('.xterm-helper-textarea').focus();
  await page.keyboard.type('echo reload-me\n');
  await waitFor('the echo', async () => /reload-me\s*\n\s*rewind:\/#/.test(await consoleText(page)));
  await page.evaluate(() => globalThis.rewind.app.pause?.());
  const saved = async () =>
    page.evaluate(async () => {
      const lib = globalThis.rewind.library;
      while (lib.saving) await new Promise((r) => setTimeout(r, 20));
      await lib.save();
      const s = globalThis.rewind.app.status;
      return { position: s.position, branch: s.branch, size: lib.entries[0]?.size ?? 0 };
    });
  const at = await saved();
  console.log(
    `Linux VM saved at position ${at.position.toLocaleString('en-US')}, .vmi ${(at.size / 2 ** 20).toFixed(2)} MiB`,
  );
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const t = Date.now();
    await page.reload({ waitUntil: 'commit' });
    let painted = null;
    await waitFor('the machine back at its point', async () => {
      const text = await page.evaluate(() => document.body?.innerText ?? '').catch(() => '');
      if (painted === null && /Starting Rewind|Importing/.test(text)) painted = Date.now() - t;
      return page
        .evaluate(
          (p) => globalThis.rewind?.app?.status?.position === p && !globalThis.rewind.library.opening,
          at.position,
        )
        .catch(() => false);
    });
    const back = Date.now() - t;
    // The console is written as the page takes the worker's answer: allow it a moment.
    let shown = false;
    for (let k = 0; k < 20 && !shown; k++) {
      shown = (await consoleText(page)).includes('reload-me');
      if (!shown) await new Promise((r) => setTimeout(r, 50));
    }
    times.push({ back, painted, console: shown });
  }
  for (const [i, r] of times.entries())
    console.log(
      `reload ${i + 1}: back at its point in ${r.back} ms; first progress shown at ${r.painted ?? 'never'} ms; console restored: ${r.console}`,
    );
});
