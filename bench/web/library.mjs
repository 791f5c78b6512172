// Saving VMs into the web app's library (IndexedDB in Chromium): the time
// of one save of a recorded guest (the worker writes the .vmi, the page
// stores it with its metadata in one transaction), and the IndexedDB write
// throughput for .vmi sizes from 1 to 64 MiB.
// `node bench/web/library.mjs [guest]` (default guest: bench). Needs the built
// web app (npx vite build → dist-web/) and /usr/bin/chromium.
// Prints figures; asserts nothing.
import { benchGuest, recordToEnd, requireBuilt, requireChromium, withApp } from './browser.mjs';

const { name, elf } = benchGuest();
const SAVES = 5;

requireBuilt(['dist-web/index.html'], '`npx vite build`');
requireChromium();

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
await withApp(async ({ open }) => {
  const page = await open('?guest=none&record=1');
  await recordToEnd(page, name, elf);
  await page.waitForFunction(
    () => !globalThis.rewind.library.saving && globalThis.rewind.library.entries.length > 0,
    null,
    { polling: 100 },
  );

  // A whole save as the app does it: export in the worker, then one IndexedDB transaction.
  const saves = await page.evaluate(async (n) => {
    const lib = globalThis.rewind.library;
    const out = [];
    for (let i = 0; i < n; i++) {
      // One at a time: a save asked for while another runs only marks it to go again.
      while (lib.saving) await new Promise((r) => setTimeout(r, 20));
      const t = performance.now();
      await lib.save();
      out.push(performance.now() - t);
    }
    return { ms: out, size: lib.entries[0].size, end: globalThis.rewind.app.status.end };
  }, SAVES);
  console.log(
    `guest ${name}: ${(saves.end / 1e6).toFixed(1)} M instructions recorded, .vmi ${(saves.size / 1048576).toFixed(2)} MiB; ` +
      `one save (export + IndexedDB) median ${median(saves.ms).toFixed(0)} ms over ${SAVES}`,
  );

  // IndexedDB alone, through the Library (metadata + .vmi + last pointer in one batch).
  for (const mib of [1, 8, 32, 64]) {
    const r = await page.evaluate(async (size) => {
      const store = globalThis.rewind.library.library;
      const bytes = new Uint8Array(size);
      for (let i = 0; i < size; i += 4096) bytes[i] = i & 0xff;
      const times = [];
      for (let i = 0; i < 3; i++) {
        const t = performance.now();
        await store.save({ id: `bench${i}`, name: 'bench', created: 0, branch: 'b0', position: 0 }, bytes);
        times.push(performance.now() - t);
      }
      for (let i = 0; i < 3; i++) await store.delete(`bench${i}`);
      return times.sort((a, b) => a - b)[1];
    }, mib << 20);
    console.log(`IndexedDB save of a ${mib} MiB .vmi: ${r.toFixed(0)} ms (${(mib / (r / 1000)).toFixed(0)} MiB/s)`);
  }
});
