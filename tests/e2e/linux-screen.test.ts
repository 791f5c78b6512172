// Linux with a screen in Chromium (#16): "Linux (screen)" from the guest
// picker boots to its framebuffer console on the canvas, and a command typed
// on the canvas (the virtio keyboard, not the serial console) runs. Back in
// the past, the canvas shows what `rewind screenshot --at` shows of the
// exported .vmi, and Ctrl+click on a lit pixel finds the kernel's store.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode } from 'fast-png';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { rewind, tempDir } from '../support/cli.js';
import { appParts, openApp, skipReason } from './support.js';

/** FNV-1a over RGB triples: a 1280×800 screen compared in a few characters. */
function digestRgb(data: ArrayLike<number>, step: number): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < data.length; i += step)
    for (let k = 0; k < 3; k++) h = Math.imul(h ^ data[i + k]!, 0x01000193) >>> 0;
  return h.toString(16);
}

const skip = skipReason();
if (skip) console.warn(skip);

describe.skipIf(skip !== null)('Linux with a screen in Chromium', () => {
  let page: Page;
  let errors: string[];
  let close: () => Promise<void>;
  /** Where the machine stood when the booted console was first on the canvas. */
  let booted = 0;

  beforeAll(async () => {
    ({ page, errors, close } = await openApp('?guest=linux-screen'));
  });
  afterAll(() => close?.());

  const consoleText = () => page.locator('.xterm-accessibility-tree').textContent();
  const { position, button } = appParts(() => page);
  const long = { timeout: 60_000 };
  /** The canvas's pixels as a digest (the same FNV-1a as digestRgb, in the page), and the first lit pixel. */
  const shown = () =>
    page.evaluate(() => {
      const c = document.querySelector<HTMLCanvasElement>('[data-testid=screen]')!;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let h = 0x811c9dc5;
      let lit = -1;
      for (let i = 0; i < d.length; i += 4) {
        for (let k = 0; k < 3; k++) h = Math.imul(h ^ d[i + k]!, 0x01000193) >>> 0;
        if (lit < 0 && d[i]! | d[i + 1]! | d[i + 2]!) lit = i / 4;
      }
      return { digest: h.toString(16), lit: { x: lit % c.width, y: Math.floor(lit / c.width) }, width: c.width };
    });
  /** The canvas's size and how many of its pixels are lit. */
  const canvas = () =>
    page.evaluate(() => {
      const c = document.querySelector<HTMLCanvasElement>('[data-testid=screen]');
      if (!c) return { size: '', lit: 0 };
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let lit = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i]! | d[i + 1]! | d[i + 2]!) lit++;
      return { size: `${c.width}x${c.height}`, lit };
    });

  test('boots to the framebuffer console; keys typed on the canvas run a command', async () => {
    // About 30 M instructions, recorded: seconds on an idle machine, far more on a busy host.
    await expect.poll(consoleText, { timeout: 150_000 }).toContain('Welcome to Linux on Rewind');
    await expect.poll(canvas, { timeout: 60_000 }).toMatchObject({ size: '1280x800' });
    await expect.poll(async () => (await canvas()).lit, { timeout: 60_000 }).toBeGreaterThan(1000);
    const before = (await canvas()).lit;
    booted = await position();

    await page.getByTestId('screen').focus();
    const shifted = async (code: string) => {
      await page.keyboard.down('Shift');
      await page.keyboard.press(code);
      await page.keyboard.up('Shift');
    };
    await page.keyboard.type('echo keyboard-ok ');
    await shifted('Period'); // >
    await page.keyboard.type('/dev/tty');
    await shifted('KeyS');
    await page.keyboard.type('0');
    await page.keyboard.press('Enter');
    // The shell on the screen ran it: its output came out on the serial console.
    await expect.poll(consoleText, { timeout: 60_000 }).toContain('keyboard-ok');
    await expect.poll(async () => (await canvas()).lit, { timeout: 30_000 }).not.toBe(before);
    expect(errors).toEqual([]);
  });

  test('the past on the canvas equals rewind screenshot --at; Ctrl+click on a lit pixel goes to its store', async () => {
    await button('Pause').click();
    const download = page.waitForEvent('download');
    await button('Export').click();
    const vmi = join(tempDir(), 'linux-screen.vmi');
    await (await download).saveAs(vmi);
    const at = booted;
    const png = join(tempDir(), 'past.png');
    const shot = rewind(['screenshot', vmi, '--at', String(at), '-o', png]);
    expect(shot.stderr).toBe('');
    expect(shot.status).toBe(0);
    const image = decode(readFileSync(png));

    await page.getByLabel('Position to go to').fill(String(at));
    await button('Go to position').click();
    await expect.poll(position, long).toBe(at);
    await expect.poll(async () => (await shown()).digest, long).toBe(digestRgb(image.data, image.channels));

    // A lit pixel of the console: the last store into the memory behind it, made by the kernel.
    const { lit, width } = await shown();
    const box = (await page.getByTestId('screen').boundingBox())!;
    const scale = box.width / width;
    await page.keyboard.down('Control');
    await page.mouse.click(box.x + (lit.x + 0.5) * scale, box.y + (lit.y + 0.5) * scale);
    await page.keyboard.up('Control');
    await expect.poll(position, long).toBeLessThan(at);
    expect(await position()).toBeGreaterThan(0);
    expect(errors).toEqual([]);
  });
});
