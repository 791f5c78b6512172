// The web app in a real Chromium: the default guest boots in the worker, the
// console talks to it, and the controls and inspectors work by their
// accessible names.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openApp, skipReason } from './support.js';

const skip = skipReason();
if (skip) console.warn(skip);

describe.skipIf(skip !== null)('web app in Chromium', () => {
  let page: Page;
  let errors: string[];
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ page, errors, close } = await openApp());
  });
  afterAll(() => close?.());

  const consoleText = () => page.locator('.xterm-accessibility-tree').innerText();
  const position = async () =>
    Number(await page.getByRole('slider', { name: 'Timeline' }).getAttribute('aria-valuenow'));
  const pc = () => page.locator('[data-reg=pc] .val').innerText();

  test('boots the default guest: its banner shows in the console', async () => {
    await expect.poll(consoleText, { timeout: 20_000 }).toContain('THE VAULT OF REWIND');
    await expect.poll(consoleText, { timeout: 20_000 }).toContain('> ');
    expect(await position()).toBeGreaterThan(0);
    expect(errors).toEqual([]);
  });

  test('typing into the console gets the guest’s response', async () => {
    await page.locator('.xterm').click();
    await page.keyboard.type('help');
    await page.keyboard.press('Enter');
    await expect.poll(consoleText, { timeout: 20_000 }).toContain('Commands:');
    await page.keyboard.type('e');
    await page.keyboard.press('Enter');
    await expect.poll(consoleText, { timeout: 20_000 }).toContain('Troll Bridge');
  });

  test('the controls are there by name; the machine records by default, so time travel is on', async () => {
    for (const name of ['Run', 'Pause', 'Step', 'Step back', 'Run back', 'Fork', 'Export', 'Import']) {
      await expect.poll(() => page.getByRole('button', { name, exact: true }).count()).toBe(1);
    }
    for (const name of ['Step back', 'Run back', 'Fork', 'Export', 'Import']) {
      expect(await page.getByRole('button', { name, exact: true }).isDisabled()).toBe(false);
    }
  });

  test('at the prompt the guest waits for input without the position advancing; Pause pauses it', async () => {
    await expect.poll(() => page.getByTestId('run-state').innerText()).toMatch(/waiting/i);
    const waiting = await position();
    await page.waitForTimeout(500);
    expect(await position()).toBe(waiting);
    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    await expect.poll(() => page.getByTestId('run-state').innerText()).toMatch(/paused/i);
    const at = await position();
    await page.waitForTimeout(500);
    expect(await position()).toBe(at);
  });

  test('Step advances by one and the registers follow', async () => {
    const at = await position();
    const pcBefore = await pc();
    await page.getByRole('button', { name: 'Step', exact: true }).click();
    await expect.poll(position).toBe(at + 1);
    await expect.poll(pc).not.toBe(pcBefore);
    // The pc is highlighted as changed since the last stop, and the disassembly points at it.
    await expect.poll(() => page.locator('[data-reg=pc].changed').count()).toBe(1);
    const current = page.locator('button.line[aria-current=step]');
    await expect.poll(() => current.count()).toBe(1);
    expect((await current.getAttribute('aria-label'))!.toLowerCase()).toContain((await pc()).slice(2));
  });

  test('keyboard: F10 steps, F5 runs and pauses', async () => {
    const at = await position();
    await page.keyboard.press('F10');
    await expect.poll(position).toBe(at + 1);
    await page.keyboard.press('F5');
    await expect.poll(position).toBeGreaterThan(at + 1000);
    await page.keyboard.press('F5');
    await expect.poll(() => page.getByTestId('run-state').innerText()).toMatch(/paused/i);
  });

  test('a breakpoint set from the disassembly stops the run there', async () => {
    // The current line: the guest loops polling the UART, so it comes back round to it.
    const line = page.locator('button.line[aria-current=step]');
    const label = (await line.getAttribute('aria-label'))!;
    const address = label.split(' ')[0]!;
    await line.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => line.getAttribute('aria-pressed')).toBe('true');
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await expect.poll(() => page.getByTestId('run-state').innerText(), { timeout: 20_000 }).toMatch(/paused/i);
    await expect.poll(pc).toBe(address);
    await page.locator(`button.line[aria-label^="${address}"]`).click();
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    // Running on; back at the prompt it waits for input again.
    await expect.poll(() => page.getByTestId('run-state').innerText()).toMatch(/running|waiting/i);
  });

  test('the machine picture and memory view show the live machine', async () => {
    const picture = page.getByRole('img', { name: 'The machine now' });
    expect(await picture.count()).toBe(1);
    await expect.poll(() => picture.textContent()).toMatch(/MIPS|kIPS|waiting/);
    await page.getByLabel('Address', { exact: true }).first().fill('80000000');
    await page.getByRole('button', { name: 'Go', exact: true }).click();
    await expect.poll(() => page.locator('table[aria-label="Memory bytes"] th').first().innerText()).toBe('80000000');
    expect(errors).toEqual([]);
  });
});

describe.skipIf(skip !== null)('web app in Chromium, recording (?record=1)', () => {
  let page: Page;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ page, close } = await openApp('?record=1'));
  });
  afterAll(() => close?.());

  const slider = () => page.getByRole('slider', { name: 'Timeline' });
  const position = async () => Number(await slider().getAttribute('aria-valuenow'));
  const state = () => page.getByTestId('run-state').innerText();

  test('Step back, Shift+F10 and the timeline travel in time', async () => {
    await expect.poll(() => page.locator('.xterm-accessibility-tree').innerText(), { timeout: 20_000 }).toContain('> ');
    await expect.poll(() => page.getByRole('button', { name: 'Step back', exact: true }).isDisabled()).toBe(false);
    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    await expect.poll(state).toMatch(/paused/i);
    const at = await position();
    await page.getByRole('button', { name: 'Step back', exact: true }).click();
    await expect.poll(position, { timeout: 20_000 }).toBe(at - 1);
    await page.keyboard.press('Shift+F10');
    await expect.poll(position, { timeout: 20_000 }).toBe(at - 2);
    expect(await slider().isDisabled()).toBe(false);
    await slider().fill(String(Math.floor(at / 2)));
    await expect.poll(position, { timeout: 20_000 }).toBe(Math.floor(at / 2));
    // Back at the end of the run, the slider's length is unchanged.
    expect(Number(await slider().getAttribute('max'))).toBe(at);
  });
});
