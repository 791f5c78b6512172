// Time travel in the web app (Chromium): seek latency from a drag of the
// Timeline scrubber over a recording of the CPU-bound guest, measured from
// the mouse release to the worker reporting the machine paused there.
// `node bench/web/timetravel.mjs [guest]` (default guest: bench). Needs the
// built web app (npx vite build → dist-web/) and /usr/bin/chromium.
// Prints figures; asserts nothing.
import { benchGuest, recordToEnd, requireBuilt, requireChromium, withApp } from './browser.mjs';

const { name, elf } = benchGuest();
const DRAGS = 15;

requireBuilt(['dist-web/index.html'], '`npx vite build`');
requireChromium();

const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
await withApp(async ({ open }) => {
  const page = await open('?guest=none&record=1', { viewport: { width: 1440, height: 900 } });
  const t0 = Date.now();
  await recordToEnd(page, name, elf);
  const end = await page.evaluate(() => globalThis.rewind.app.status.end);
  console.log(
    `guest: ${name}, recorded ${(end / 1e6).toFixed(1)} M instructions in ${((Date.now() - t0) / 1000).toFixed(1)} s (with the page attached)`,
  );

  const slider = page.getByRole('slider', { name: 'Timeline' });
  const latencies = [];
  let seed = 1;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < DRAGS; i++) {
    // Looked up at each drag: what a seek shows (a stop's banner, say) may move the slider.
    const box = await slider.boundingBox();
    if (!box) throw new Error('the Timeline slider is not on the page');
    const from = box.x + box.width * random();
    const to = box.x + box.width * random();
    const y = box.y + box.height / 2;
    // Where the machine stood before the drag: the app may seek while the drag goes on, and be
    // where it ends before the release.
    const before = await page.evaluate(() => globalThis.rewind.app.status.position);
    await page.mouse.move(from, y);
    await page.mouse.down();
    await page.mouse.move(to, y, { steps: 5 });
    const started = performance.now();
    await page.mouse.up();
    // Done when the worker reports a paused machine at a new position and no seek is pending.
    await page.waitForFunction(
      (p) => {
        const s = globalThis.rewind.app.status;
        return s.state === 'paused' && s.position !== p;
      },
      before,
      { timeout: 60_000, polling: 'raf' },
    );
    latencies.push(performance.now() - started);
  }
  const fmt = (ms) => `${ms.toFixed(0)} ms`;
  console.log(
    `scrubber drag → paused at the new position, ${DRAGS} drags: median ${fmt(quantile(latencies, 0.5))}, p90 ${fmt(quantile(latencies, 0.9))}, max ${fmt(Math.max(...latencies))}`,
  );
});
