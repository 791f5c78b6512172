// The page stays responsive while Linux boots in it (issue #15): from the
// guest picker's Linux to its shell prompt, no main-thread task takes over
// 100 ms. A PerformanceObserver for long tasks, installed once the page has
// loaded (with no console error), finds the tasks over 50 ms; a trace of the
// same boot (Chrome DevTools Protocol) gives each task's main-thread CPU time,
// which is what is asserted. On a loaded 2-core host (the tests run files in
// parallel) a task's wall-clock length mostly measures its wait for a core:
// 5–30 ms of work was seen to take 100–450 ms. The one timing the tests
// assert, because the issue asks for exactly this measurement.
import type { CDPSession, Page } from 'playwright-core';
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
    const trace = await startTrace(await page.context().newCDPSession(page));
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
    const cpu = await trace.mainThreadTasks();
    const longest = Math.max(0, ...tasks.map((t) => t.duration));
    const busiest = Math.max(0, ...cpu);
    console.log(
      `Linux boot in the page: longest main-thread task ${longest} ms by the wall clock (${tasks.length} over 50 ms), ` +
        `${busiest.toFixed(1)} ms of CPU time at the most (${cpu.length} tasks traced)`,
    );
    expect(cpu.length).toBeGreaterThan(100);
    expect(cpu.filter((ms) => ms > LONG_TASK_MS)).toEqual([]);
    expect(app.consoleErrors).toEqual([]);
    expect(app.errors).toEqual([]);
  }, 200_000);
});

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  dur?: number;
  tdur?: number;
  args?: { name?: string };
}

/** Traces the page's tasks; `mainThreadTasks` ends the trace and gives each main-thread task's CPU time in ms. */
async function startTrace(cdp: CDPSession): Promise<{ mainThreadTasks(): Promise<number[]> }> {
  const events: TraceEvent[] = [];
  let complete = (): void => {};
  cdp.on('event', ({ method, params }) => {
    if (method === 'Tracing.dataCollected') events.push(...(params as { value: TraceEvent[] }).value);
    if (method === 'Tracing.tracingComplete') complete();
  });
  await cdp.send('Tracing.start', {
    transferMode: 'ReportEvents',
    traceConfig: { includedCategories: ['disabled-by-default-devtools.timeline', '__metadata'] },
  });
  return {
    async mainThreadTasks() {
      const done = new Promise<void>((resolve) => (complete = resolve));
      await cdp.send('Tracing.end');
      await done;
      const main = new Set(
        events
          .filter((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain')
          .map((e) => `${e.pid}:${e.tid}`),
      );
      return events
        .filter((e) => e.name === 'RunTask' && e.ph === 'X' && main.has(`${e.pid}:${e.tid}`))
        .map((e) => (e.tdur ?? e.dur ?? 0) / 1000);
    },
  };
}
