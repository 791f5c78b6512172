// The page stays responsive while Linux boots in it (issue #15): a
// PerformanceObserver for long tasks, installed once the page has loaded
// (with no console error), sees no main-thread task over 100 ms from the
// guest picker's Linux to its shell prompt. The one timing the tests assert,
// because the issue asks for exactly this measurement.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { appParts, openApp, skipReason, type OpenApp } from './support.js';

const skip = skipReason();
if (skip) console.warn(skip);

/** The longest main-thread task allowed while Linux boots. */
const LONG_TASK_MS = 100;

describe.skipIf(skip !== null)('no long main-thread task while Linux boots in the page', () => {
  let app: OpenApp;
  let page: Page;
  const parts = appParts(() => page);

  beforeAll(async () => {
    app = await openApp();
    page = app.page;
  });
  afterAll(() => app?.close());

  test('a normal page load logs no console error', async () => {
    await expect.poll(parts.consoleText, { timeout: 20_000 }).toContain('THE VAULT OF REWIND');
    await page.waitForLoadState('networkidle');
    expect(app.consoleErrors).toEqual([]);
    expect(app.errors).toEqual([]);
  });

  test(`Linux boots to its prompt with no main-thread task over ${LONG_TASK_MS} ms`, async () => {
    await page.evaluate(() => {
      const tasks: { start: number; duration: number }[] = [];
      (globalThis as unknown as { longTasks: typeof tasks }).longTasks = tasks;
      new PerformanceObserver((list) => {
        for (const e of list.getEntries())
          tasks.push({ start: Math.round(e.startTime), duration: Math.round(e.duration) });
      }).observe({ type: 'longtask' });
    });
    await page.getByRole('combobox', { name: 'Guest' }).selectOption('linux');
    // Looked at once a second, by textContent: innerText would lay the page out, a task of the test's own.
    const screenText = () =>
      page.evaluate(() => document.querySelector('.xterm-accessibility-tree')?.textContent ?? '');
    await expect.poll(screenText, { timeout: 150_000, interval: 1000 }).toContain('Welcome to Linux on Rewind');
    await expect.poll(screenText, { timeout: 30_000, interval: 1000 }).toMatch(/rewind:\/#\s*$/);
    const tasks = await page.evaluate(
      () => (globalThis as unknown as { longTasks: { start: number; duration: number }[] }).longTasks,
    );
    const longest = Math.max(0, ...tasks.map((t) => t.duration));
    console.log(`longest main-thread task while Linux booted: ${longest} ms (${tasks.length} over 50 ms)`);
    expect(tasks.filter((t) => t.duration > LONG_TASK_MS)).toEqual([]);
    expect(app.consoleErrors).toEqual([]);
    expect(app.errors).toEqual([]);
  }, 200_000);
});
