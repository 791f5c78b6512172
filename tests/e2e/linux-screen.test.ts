// Linux with a screen in Chromium (#16): "Linux (screen)" from the guest
// picker boots to its framebuffer console on the canvas, and a command typed
// on the canvas (the virtio keyboard, not the serial console) runs.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openApp, skipReason } from './support.js';

const skip = skipReason();
if (skip) console.warn(skip);

describe.skipIf(skip !== null)('Linux with a screen in Chromium', () => {
  let page: Page;
  let errors: string[];
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ page, errors, close } = await openApp('?guest=linux-screen'));
  });
  afterAll(() => close?.());

  const consoleText = () => page.locator('.xterm-accessibility-tree').textContent();
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
});
