// Takes docs/screenshot.png: the app at work in Chromium (1440×900), after a
// short game in the default guest and a few steps, so that the console,
// inspectors and the machine picture all show something.
// Usage: npx vite build && node tests/e2e/screenshot.mjs [out.png]
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from '../../src/web/serve.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const out = process.argv[2] ?? `${root}docs/screenshot.png`;
const server = await serve({ dir: `${root}dist-web`, port: 0 });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
  ],
});
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
  await page.goto(server.url);
  const text = () => page.locator('.xterm-accessibility-tree').innerText();
  const waitFor = async (s) => {
    for (let i = 0; i < 200 && !(await text()).includes(s); i++) await page.waitForTimeout(100);
  };
  await waitFor('> ');
  // The first-run hint is for people, not for the picture.
  await page.getByRole('button', { name: 'Got it' }).click();
  await page.locator('.xterm').click();
  for (const [cmd, expect] of [
    ['help', 'Commands:'],
    ['look', 'Gate Hall'],
    ['e', 'Troll Bridge'],
    ['take bone', 'Taken: bone'],
    ['inv', 'You carry'],
  ]) {
    await page.keyboard.type(cmd, { delay: 30 });
    await page.keyboard.press('Enter');
    await waitFor(expect);
  }
  await page.keyboard.type('feed ', { delay: 30 });
  await page.waitForTimeout(1200);
  await page.keyboard.press('F5');
  for (let i = 0; i < 3; i++) {
    await page.keyboard.press('F10');
    await page.waitForTimeout(150);
  }
  await page.waitForTimeout(300);
  await page.keyboard.press('F5');
  await page.waitForTimeout(1500);
  await page.locator('.xterm').click();
  await page.screenshot({ path: out });
  console.log(`saved ${out}`);
} finally {
  await browser.close();
  await server.close();
}
