// Files and names in a real Chromium: Load program refuses a PNG with a
// message (nothing runs, no library entry) and sends a .vmi to Import; a
// branch rename to a name another branch has is refused with a message; the
// header follows a rename of the VM in the library.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { tempDir } from '../support/cli.js';
import { openApp, skipReason, type OpenApp } from './support.js';

const skip = skipReason();
if (skip) console.warn(skip);

const dir = tempDir();

describe.skipIf(skip !== null)('Load program, library and branch names in Chromium', () => {
  let app: OpenApp;
  let page: Page;

  beforeAll(async () => {
    app = await openApp();
    page = app.page;
  });
  afterAll(() => app?.close());

  const consoleText = () => page.locator('.xterm-accessibility-tree').innerText();
  const entries = () =>
    page.evaluate(() => {
      const lib = (globalThis as unknown as { rewind: { library: { entries: { name: string }[] } } }).rewind.library;
      return lib.entries.map((e) => e.name);
    });
  const position = () => page.getByTestId('position').innerText();
  const alert = () => page.getByRole('alert').innerText();
  async function loadProgram(path: string): Promise<void> {
    const chooser = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Load program', exact: true }).click();
    await (await chooser).setFiles(path);
  }

  test('Load program refuses a PNG with a message: nothing runs, nothing is saved', async () => {
    await expect.poll(consoleText, { timeout: 20_000 }).toContain('> ');
    await expect.poll(entries, { timeout: 10_000 }).toHaveLength(1);
    const before = {
      entries: await entries(),
      position: await position(),
      program: await page.locator('.program').innerText(),
    };
    const png = join(dir, 'picture.png');
    writeFileSync(png, Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex'));
    await loadProgram(png);
    await expect.poll(alert).toMatch(/picture\.png is not a RISC-V program.*Import/);
    await page.waitForTimeout(800);
    expect(await entries()).toEqual(before.entries);
    expect(await position()).toBe(before.position);
    expect(await page.locator('.program').innerText()).toBe(before.program);
    await page.getByRole('button', { name: 'Dismiss message' }).click();
  });

  test('Load program sends a .vmi to Import: it opens as a recording and is kept in the library', async () => {
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export', exact: true }).click();
    const vmi = join(dir, 'adventure.vmi');
    await (await download).saveAs(vmi);
    await loadProgram(vmi);
    await expect.poll(entries, { timeout: 20_000 }).toContain('adventure');
    await expect.poll(() => page.locator('.program').innerText()).toBe('adventure');
    expect(await page.getByRole('alert').count()).toBe(0);
  });

  test('the header follows a rename of the VM', async () => {
    await page.getByRole('button', { name: 'Rename adventure' }).click();
    const input = page.getByRole('textbox', { name: 'New name for adventure' });
    await input.fill('my crash hunt');
    await input.press('Enter');
    await expect.poll(() => page.locator('.program').innerText()).toBe('my crash hunt');
    await expect.poll(entries).toContain('my crash hunt');
    await expect
      .poll(() => page.getByTestId('vm-info').first().innerText())
      .toMatch(/saved .+ · position [\d\u2009]+ · created/);
  });

  test('a branch rename to a name another branch has is refused with a message', async () => {
    const branches = page.getByRole('region', { name: 'Branches' });
    await page.getByRole('button', { name: 'Fork', exact: true }).click();
    await expect.poll(() => branches.getByRole('button', { name: /^Rename fork@/ }).count()).toBe(1);
    const fork = (await branches.getByRole('button', { name: /^Rename fork@/ }).getAttribute('aria-label'))!.slice(
      'Rename '.length,
    );
    await branches.getByRole('button', { name: `Rename ${fork}` }).click();
    const input = branches.getByRole('textbox', { name: `New name for ${fork}` });
    await input.fill('main');
    await input.press('Enter');
    await expect.poll(alert).toMatch(/already a branch named "main"/);
    expect(await branches.getByRole('button', { name: `Rename ${fork}` }).count()).toBe(1);
    expect(app.errors).toEqual([]);
  });
});
