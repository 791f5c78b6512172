// Guest speed in the web app's worker (Chromium) against Node, on the same
// guest ELF: `node bench/web/mips.mjs [guest]` (default guest: bench).
// Needs the built web app (npx vite build → dist-web/), the CLI build
// (npm run build:cli → dist/) and /usr/bin/chromium. Prints figures; asserts nothing.
import { benchGuest, requireBuilt, requireChromium, root, withApp } from './browser.mjs';

const { name, elf } = benchGuest();
const RUNS = 3;
const fmt = (n, d = 1) => n.toFixed(d);

requireBuilt(['dist-web/index.html', 'dist/core/machine.js'], '`npx vite build` and `npm run build:cli`');

// Node: the same loop the worker's bench command runs.
const { Machine } = await import(`${root}dist/core/machine.js`);
const { parseElf } = await import(`${root}dist/core/loader.js`);
function nodeOnce() {
  const m = new Machine({ program: parseElf(elf, 0x80000000, 64 << 20) });
  m.onOutput = () => {};
  const t = performance.now();
  while (!m.power) if (m.run(10_000_000).reason === 'idle') break;
  const s = (performance.now() - t) / 1000;
  return { steps: m.position, mips: m.position / s / 1e6 };
}
const node = [];
let nodeBest = 0;

// Chromium: the app's worker, through the page's client (window.rewind).
requireChromium(() => {
  for (let i = 0; i < RUNS; i++) node.push(nodeOnce());
  nodeBest = Math.max(...node.map((r) => r.mips));
  console.log(`node: ${fmt(nodeBest)} MIPS best of ${RUNS}`);
});
await withApp(async ({ browser, open }) => {
  const page = await open('?guest=none');
  // Node and the worker take turns, so that load from elsewhere on the host hits both alike.
  const web = [];
  for (let i = 0; i < RUNS; i++) {
    node.push(nodeOnce());
    web.push(
      await page.evaluate(async (bytes) => {
        const image = Uint8Array.from(bytes);
        return globalThis.rewind.client.request({ type: 'bench', image });
      }, Array.from(elf)),
    );
  }
  nodeBest = Math.max(...node.map((r) => r.mips));
  const webBest = Math.max(...web.map((r) => r.mips));
  // The live loop: the app's own slices (yielding to the page, reporting to the UI), up to the
  // last report that moved (the guest ends within seconds: time after that would count for nothing).
  const live = await page.evaluate(async (bytes) => {
    const { app } = globalThis.rewind;
    await app.load(Uint8Array.from(bytes), 'bench', true);
    const t0 = performance.now();
    const p0 = app.status.position;
    let last = { t: t0, p: p0 };
    while (performance.now() - last.t < 1000 && performance.now() - t0 < 20_000) {
      await new Promise((r) => setTimeout(r, 20));
      if (app.status.position !== last.p) last = { t: performance.now(), p: app.status.position };
    }
    return (last.p - p0) / (last.t - t0) / 1000;
  }, Array.from(elf));
  const version = browser.version();
  console.log(`guest: ${name} (${node[0].steps} steps)`);
  console.log(
    `node ${process.version}: ${fmt(nodeBest)} MIPS best of ${RUNS} (${node.map((r) => fmt(r.mips)).join(', ')})`,
  );
  console.log(
    `chromium ${version} worker: ${fmt(webBest)} MIPS best of ${RUNS} (${web.map((r) => fmt(r.mips)).join(', ')})`,
  );
  console.log(`worker/node = ${fmt(webBest / nodeBest, 2)} (target ≥ 0.8)`);
  console.log(
    `worker live loop with the UI attached (slices, yields, 5 Hz reports): ${fmt(live)} MIPS = ${fmt(live / nodeBest, 2)} × node`,
  );
});
