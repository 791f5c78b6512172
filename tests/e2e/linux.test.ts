// Linux in the web app, in a real Chromium: `?guest=linux` boots the guest
// that `npm run build:linux` built (served under linux/) to the shell prompt,
// and a command typed into the console runs. Skipped when Linux is not built.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { linuxMissing } from '../linux/linux-run.js';
import { openApp, skipReason } from './support.js';

const skip = linuxMissing() ?? skipReason();
if (skip) console.warn(skip);

describe.skipIf(skip !== null)(`Linux in the web app${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let page: Page;
  let errors: string[];
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ page, errors, close } = await openApp('?guest=linux'));
  });
  afterAll(() => close?.());

  const consoleText = () => page.locator('.xterm-accessibility-tree').innerText();

  test('?guest=linux boots Linux to the shell prompt', async () => {
    // About 29 M instructions, recorded: seconds on an idle machine, far more on a busy CI host.
    await expect.poll(consoleText, { timeout: 100_000 }).toContain('Welcome to Linux on Rewind');
    await expect.poll(consoleText, { timeout: 30_000 }).toMatch(/rewind:\/#\s*$/);
    const picker = page.getByRole('combobox', { name: 'Guest' });
    expect(await picker.inputValue()).toBe('linux');
    const offered = await picker.locator('option:not([disabled])').allInnerTexts();
    expect(offered).toEqual(expect.arrayContaining(['Linux', 'Hello', 'Echo']));
    expect(errors).toEqual([]);
  }, 180_000);

  test('a command typed into the console runs on Linux', async () => {
    await page.locator('.xterm').click();
    await page.keyboard.type('echo hi');
    await page.keyboard.press('Enter');
    await expect.poll(consoleText, { timeout: 30_000 }).toMatch(/echo hi\s*\n\s*hi\s*\n\s*rewind:\/#/);
    expect(errors).toEqual([]);
  });

  test('the guest picker switches to a bundled guest', async () => {
    await page.getByRole('combobox', { name: 'Guest' }).selectOption('hello');
    await expect.poll(() => page.locator('.program').innerText(), { timeout: 20_000 }).toBe('hello.elf');
    await expect.poll(consoleText, { timeout: 20_000 }).toContain("Hello from Rewind guest 'hello'!");
    expect(errors).toEqual([]);
  });
});
