// Linux in the web app, in a real Chromium, as on a fresh clone: no local
// build ($REWIND_LINUX_DIR names an empty directory), so the app offers the
// committed guests/linux/build/. A normal page load logs no error (no 404 for
// linux/manifest.json); Linux picked from the guest picker boots to the shell
// prompt, and a command typed into the console runs.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openApp, skipReason } from './support.js';

const skip = skipReason();
if (skip) console.warn(skip);

describe.skipIf(skip !== null)(`Linux in the web app${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let page: Page;
  let errors: string[];
  let consoleErrors: string[];
  let close: () => Promise<void>;
  const saved = process.env.REWIND_LINUX_DIR;

  beforeAll(async () => {
    // A fresh clone: no build anywhere (the build and the server read this on every use).
    process.env.REWIND_LINUX_DIR = mkdtempSync(join(tmpdir(), 'rewind-no-linux-'));
    ({ page, errors, consoleErrors, close } = await openApp());
  });
  afterAll(async () => {
    await close?.();
    if (saved === undefined) delete process.env.REWIND_LINUX_DIR;
    else process.env.REWIND_LINUX_DIR = saved;
  });

  const consoleText = () => page.locator('.xterm-accessibility-tree').innerText();

  test('a normal page load logs no console errors, and the picker offers Linux', async () => {
    await expect.poll(consoleText, { timeout: 20_000 }).toContain('THE VAULT OF REWIND');
    const picker = page.getByRole('combobox', { name: 'Guest' });
    await expect
      .poll(() => picker.locator('option:not([disabled])').allInnerTexts(), { timeout: 10_000 })
      .toEqual(expect.arrayContaining(['Linux', 'Hello', 'Echo']));
    expect(consoleErrors).toEqual([]);
    expect(errors).toEqual([]);
  });

  test('Linux picked from the guest picker boots to the shell prompt with no build', async () => {
    await page.getByRole('combobox', { name: 'Guest' }).selectOption('linux');
    // About 29 M instructions, recorded: seconds on an idle machine, far more on a busy CI host.
    await expect.poll(consoleText, { timeout: 100_000 }).toContain('Welcome to Linux on Rewind');
    await expect.poll(consoleText, { timeout: 30_000 }).toMatch(/rewind:\/#\s*$/);
    expect(await page.locator('.program').innerText()).toBe('Linux');
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
    expect(consoleErrors).toEqual([]);
    expect(errors).toEqual([]);
  });
});
