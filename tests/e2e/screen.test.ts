// The screen in Chromium (#16): minefield played on the canvas with the
// keyboard and the pointer; back in the past the canvas shows what `rewind
// screenshot --at` shows of the exported .vmi, pixel for pixel; keys there
// fork, and both branches keep their frames.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode } from 'fast-png';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { rewind, tempDir } from '../support/cli.js';
import { appParts, openApp, savedHere, skipReason } from './support.js';

const skip = skipReason();
if (skip) console.warn(skip);

/** The canvas's own pixels (scale 1), as RGB in hex: short to compare and to print. */
function canvasRgb(page: Page): Promise<string> {
  return page.evaluate(() => {
    const c = document.querySelector<HTMLCanvasElement>('[data-testid=screen]');
    if (!c) return '';
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let out = `${c.width}x${c.height}:`;
    for (let i = 0; i < d.length; i += 4)
      out += ((d[i]! << 16) | (d[i + 1]! << 8) | d[i + 2]!).toString(16).padStart(6, '0');
    return out;
  });
}

/** A PNG's pixels in the same form. */
function pngRgb(file: string): string {
  const png = decode(readFileSync(file));
  const step = png.channels;
  let out = `${png.width}x${png.height}:`;
  for (let i = 0; i < png.data.length; i += step)
    out += ((png.data[i]! << 16) | (png.data[i + 1]! << 8) | png.data[i + 2]!).toString(16).padStart(6, '0');
  return out;
}

describe.skipIf(skip !== null)('the screen in Chromium', () => {
  let page: Page;
  let errors: string[];
  let close: () => Promise<void>;
  const dir = tempDir();
  const long = { timeout: 30_000 };

  beforeAll(async () => {
    ({ page, errors, close } = await openApp('?guest=minefield&record=1'));
  });
  afterAll(() => close?.());

  const { slider, position, branch, button } = appParts(() => page);
  const screen = () => page.getByTestId('screen');
  const pixels = () => canvasRgb(page);
  /** Waits for the canvas to show something other than `before` and for the guest to settle (waiting for input). */
  const changedFrom = async (before: string) => {
    await expect.poll(pixels, long).not.toBe(before);
    await expect.poll(() => page.getByTestId('stop-reason').innerText(), long).toMatch(/input/i);
    return pixels();
  };
  const goTo = async (at: number) => {
    await page.getByLabel('Position to go to').fill(String(at));
    await button('Go to position').click();
    await expect.poll(position, long).toBe(at);
  };

  test('minefield played with keys and the pointer; the past on the canvas equals rewind screenshot --at', async () => {
    await expect.poll(() => screen().isVisible(), long).toBe(true);
    await expect.poll(pixels, long).toMatch(/^240x264:/);
    const start = await changedFrom('');

    await screen().focus();
    await page.keyboard.press('ArrowRight');
    const first = await changedFrom(start);
    const p1 = await position();

    await page.keyboard.press('ArrowDown');
    const second = await changedFrom(first);
    // The pointer: a right click on a cell flags it.
    const box = (await screen().boundingBox())!;
    await page.mouse.click(box.x + box.width * 0.7, box.y + box.height * 0.7, { button: 'right' });
    const end = await changedFrom(second);
    const mainBranch = await branch();

    await button('Pause').click();
    const download = page.waitForEvent('download');
    await button('Export').click();
    const vmi = join(dir, 'minefield.vmi');
    await (await download).saveAs(vmi);
    const png = join(dir, 'past.png');
    const shot = rewind(['screenshot', vmi, '--at', String(p1), '-o', png]);
    expect(shot.stderr).toBe('');
    expect(shot.status).toBe(0);

    await goTo(p1);
    await expect.poll(pixels, long).toBe(pngRgb(png));
    expect(await pixels()).toBe(first);

    // Another key in the past forks: the new branch draws its own frame.
    await screen().focus();
    await page.keyboard.press('ArrowLeft');
    await expect.poll(branch, long).not.toBe(mainBranch);
    const fork = await branch();
    expect(fork).toMatch(/^fork@\d+$/);
    const forked = await changedFrom(first);
    expect(forked).not.toBe(end);

    await button(`Switch to ${mainBranch}`).click();
    await expect.poll(branch, long).toBe(mainBranch);
    await slider().focus();
    await page.keyboard.press('End');
    await expect.poll(pixels, long).toBe(end);

    await button(`Switch to ${fork}`).click();
    await expect.poll(branch, long).toBe(fork);
    await slider().focus();
    await page.keyboard.press('End');
    await expect.poll(pixels, long).toBe(forked);
    expect(errors).toEqual([]);
  });

  test('Ctrl+click on a pixel goes back to the instruction that last wrote it', async () => {
    // Standing at the fork's end (the test before), paused.
    const here = await position();
    const box = (await screen().boundingBox())!;
    await page.keyboard.down('Control');
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await page.keyboard.up('Control');
    await expect.poll(position, long).toBeLessThan(here);
    expect(await position()).toBeGreaterThan(0);
    expect(errors).toEqual([]);
  });

  test('the filmstrip shows the screen along the timeline; a click on one goes there', async () => {
    const strip = page.getByRole('navigation', { name: 'Screens along the timeline' });
    await expect.poll(() => strip.getByTestId('thumbnail').count(), long).toBeGreaterThan(1);
    const first = strip.getByRole('button').first();
    const at = Number((await first.getAttribute('aria-label'))!.replace(/\D/g, ''));
    await first.click();
    await expect.poll(position, long).toBe(at);
    expect(errors).toEqual([]);
  });

  test('a reload reopens the VM with its screen', async () => {
    // As a user would, once the library says it saved this point.
    await expect.poll(() => savedHere(page), long).toBe(true);
    await page.reload();
    await expect.poll(pixels, long).toMatch(/^240x264:/);
    // Where the address says: the point the library saved.
    const at = Number(new URL(page.url()).searchParams.get('at'));
    await expect.poll(position, long).toBe(at);
    expect(errors).toEqual([]);
  });
});
