// Why the machine stopped, in a real Chromium: the default guest's crash (its
// crash input typed into the console) shows OFF with the exit code and the
// trap, marked on the timeline with a go-to button; reopened from the library
// after a reload it is still OFF with the code and Run stays disabled.
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openApp, savedHere, skipReason } from './support.js';

const skip = skipReason();
if (skip) console.warn(skip);

const crashLines = readFileSync(new URL('../../guests/expected/default-crash.in', import.meta.url), 'latin1')
  .split('\n')
  .filter((l) => l !== '');

describe.skipIf(skip !== null)('stop reasons in Chromium', () => {
  let page: Page;
  let errors: string[];
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ page, errors, close } = await openApp());
  });
  afterAll(() => close?.());

  const consoleText = () => page.locator('.xterm-accessibility-tree').innerText();
  const state = () => page.getByTestId('run-state').innerText();
  const reason = () => page.getByTestId('stop-reason').innerText();

  test('waiting at the prompt says so', async () => {
    await expect.poll(consoleText, { timeout: 20_000 }).toContain('> ');
    await expect.poll(reason, { timeout: 20_000 }).toBe('waiting for input');
  });

  test('the page shows the exit code when the default guest crashes', async () => {
    await page.locator('.xterm').click();
    for (const line of crashLines) {
      // quit never comes: the guest crashes at feed 0.
      if (line === 'look' || line === 'quit') break;
      await page.keyboard.type(line);
      await page.keyboard.press('Enter');
      await page.waitForTimeout(150);
    }
    await expect.poll(consoleText, { timeout: 20_000 }).toContain('*** crash: mcause=0x00000005');
    await expect.poll(state, { timeout: 20_000 }).toMatch(/off/i);
    expect(await reason()).toMatch(/powered off: fail, exit code 3, after a trap: load access fault at pc 0x80000dd6/);
    expect(await page.getByRole('button', { name: 'Run', exact: true }).isDisabled()).toBe(true);
    const goTo = page.getByRole('button', { name: /^Go to power-off \(fail 3\)/ });
    await expect.poll(() => goTo.count()).toBe(1);
    expect(errors).toEqual([]);
  });

  test('go to: back in time, then the power-off mark brings the machine to OFF again', async () => {
    const end = Number(await page.getByTestId('position').innerText());
    await page.getByRole('button', { name: 'Step back', exact: true }).click();
    await expect.poll(state).toMatch(/paused/i);
    await page.getByRole('button', { name: /^Go to power-off \(fail 3\)/ }).click();
    await expect.poll(state).toMatch(/off/i);
    expect(Number(await page.getByTestId('position').innerText())).toBe(end);
    expect(await reason()).toContain('exit code 3');
  });

  test('reopened from the library after a reload: OFF with the exit code, Run disabled', async () => {
    // Let the stop's save land, then reload (the library reopens the VM the URL names).
    await expect.poll(() => page.url(), { timeout: 10_000 }).toContain('vm=');
    await expect.poll(() => savedHere(page), { timeout: 20_000 }).toBe(true);
    await page.reload();
    await expect.poll(state, { timeout: 30_000 }).toMatch(/off/i);
    expect(await reason()).toContain('exit code 3');
    expect(await page.getByRole('button', { name: 'Run', exact: true }).isDisabled()).toBe(true);
    expect(errors).toEqual([]);
  });
});
