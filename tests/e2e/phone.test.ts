// A phone-sized window (390×844) in a real Chromium: no sideways scroll, the
// header's controls on screen, the console not over the panels; and the
// first-run hint that says what Rewind is and that you can drag back in time,
// dismissed once and remembered.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openApp, skipReason, type OpenApp } from './support.js';

const skip = skipReason();
if (skip) console.warn(skip);

describe.skipIf(skip !== null)('phone layout and first-run hint in Chromium', () => {
  let app: OpenApp;
  let page: Page;

  beforeAll(async () => {
    app = await openApp();
    page = app.page;
    await page.setViewportSize({ width: 390, height: 844 });
  });
  afterAll(() => app?.close());

  const consoleText = () => page.locator('.xterm-accessibility-tree').innerText();
  const hint = () => page.getByRole('complementary', { name: 'Welcome to Rewind' });

  test('at 390×844 nothing scrolls sideways and every header control is on screen', async () => {
    await expect.poll(consoleText, { timeout: 20_000 }).toContain('> ');
    await page.waitForTimeout(500);
    const widths = await page.evaluate(() => ({ scroll: document.scrollingElement!.scrollWidth, inner: innerWidth }));
    expect(widths.scroll).toBeLessThanOrEqual(widths.inner);
    for (const name of [
      'Run',
      'Pause',
      'Step',
      'Step back',
      'Run back',
      'Fork',
      'Export',
      'Import',
      'Load program',
      'Help',
    ]) {
      const box = (await page.getByRole('button', { name, exact: true }).boundingBox())!;
      expect(box.x, name).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width, name).toBeLessThanOrEqual(390);
    }
    // The console ends above the parts that follow it: it never covers them.
    const consoleBox = (await page.getByRole('region', { name: 'Console' }).boundingBox())!;
    const libraryBox = (await page.getByRole('region', { name: 'Library' }).boundingBox())!;
    expect(consoleBox.x + consoleBox.width).toBeLessThanOrEqual(390);
    expect(consoleBox.y + consoleBox.height).toBeLessThanOrEqual(libraryBox.y);
    // The timeline is on screen.
    const slider = (await page.getByRole('slider', { name: 'Timeline' }).boundingBox())!;
    expect(slider.x + slider.width).toBeLessThanOrEqual(390);
    expect(slider.y + slider.height).toBeLessThanOrEqual(844);
  });

  test('the first-run hint says what Rewind is and that you can drag back in time; dismissed, it stays away', async () => {
    await expect.poll(() => hint().count()).toBe(1);
    const text = await hint().innerText();
    expect(text).toMatch(/RISC-V computer/);
    expect(text).toMatch(/drag the timeline/i);
    expect(text).toMatch(/back in time/);
    await hint().getByRole('button', { name: 'Got it' }).click();
    expect(await hint().count()).toBe(0);
    await page.reload();
    await expect.poll(consoleText, { timeout: 20_000 }).toContain('> ');
    expect(await hint().count()).toBe(0);
    // Another browser profile has not seen it yet.
    const other = await app.newProfile(app.url);
    await expect.poll(() => other.getByRole('complementary', { name: 'Welcome to Rewind' }).count()).toBe(1);
    await other.context().close();
    expect(app.errors).toEqual([]);
  });
});
