// Many VMs at once in the web app's host (Chromium): the speed of 1, 2 and 3
// uncapped CPU-bound VMs side by side (each its own worker), and how close
// capped VMs run to their caps. `node bench/web/host.mjs`; needs the built
// web app (npx vite build → dist-web/) and /usr/bin/chromium. Prints
// figures; asserts nothing.
import { requireBuilt, requireChromium, withApp } from './browser.mjs';

requireBuilt(['dist-web/index.html'], '`npx vite build`');
requireChromium();

const fmt = (n) => n.toFixed(1);

/** MIPS of each VM of the host over `ms`, from the positions they report, once `count` VMs capped at `caps` run. */
async function measure(open, caps, ms) {
  const page = await open('?guest=none');
  const mips = await page.evaluate(
    async ({ caps, ms }) => {
      const { host } = globalThis.rewind;
      for (const cap of caps) await host.create('bench', { ramMiB: 64, paceMips: cap });
      const running = () => host.vms.every((v) => v.state === 'running' && v.app.status.position > 0);
      while (!running()) await new Promise((r) => setTimeout(r, 50));
      // Past the first compilations.
      await new Promise((r) => setTimeout(r, 1000));
      const seen = host.vms.map(() => []);
      const end = performance.now() + ms;
      while (performance.now() < end) {
        host.vms.forEach((v, i) => {
          if (seen[i].at(-1)?.position !== v.app.status.position)
            seen[i].push({ t: performance.now(), position: v.app.status.position });
        });
        await new Promise((r) => setTimeout(r, 10));
      }
      return seen.map((s) => (s.at(-1).position - s[0].position) / (s.at(-1).t - s[0].t) / 1000);
    },
    { caps, ms },
  );
  // Its workers end with it: the next figures are not shared with these VMs.
  await page.close();
  return mips;
}

await withApp(async ({ open }) => {
  for (const count of [1, 2, 3]) {
    const mips = await measure(open, Array(count).fill(null), 1500);
    const total = mips.reduce((a, b) => a + b, 0);
    console.log(`${count} uncapped VM(s): ${mips.map(fmt).join(', ')} MIPS (total ${fmt(total)})`);
  }
  const caps = [5, 20, 50];
  const mips = await measure(open, caps, 5000);
  console.log(
    `caps ${caps.join(', ')} MIPS side by side: ${mips.map((m, i) => `${fmt(m)} (${fmt((m / caps[i] - 1) * 100)} %)`).join(', ')}`,
  );
});
