// A whole session as a link, in a real Chromium (issue #15): a few commands
// typed into the default guest make a link of under 2 KB; a fresh browser
// profile opening it replays to the state hash the CLI's `rewind state`
// gives for the exported .vmi. A link to a user's own ELF says the file is
// needed, refuses another file, and opens with the right one.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { guest, rewind, tempDir } from '../support/cli.js';
import { appParts, openApp, skipReason, type OpenApp } from './support.js';

const skip = skipReason();
if (skip) console.warn(skip);

const dir = tempDir();

describe.skipIf(skip !== null)('a session as a link', () => {
  let app: OpenApp;
  let page: Page;

  beforeAll(async () => {
    app = await openApp();
    page = app.page;
  });
  afterAll(() => app?.close());

  const parts = (p: Page) => appParts(() => p);
  const hash = (p: Page) => p.getByTestId('state-hash').innerText();
  const status = (p: Page) =>
    p.evaluate(() => {
      const s = (
        globalThis as unknown as { rewind: { app: { status: { branch: string; position: number; state: string } } } }
      ).rewind.app.status;
      return { branch: s.branch, position: s.position, state: s.state };
    });
  async function shareLink(p: Page): Promise<string> {
    await parts(p).button('Share link').click();
    await expect.poll(() => p.getByTestId('share-link').count(), { timeout: 10_000 }).toBe(1);
    return p.getByTestId('share-link').inputValue();
  }
  /** The state hash `rewind state` prints for the page's .vmi at the point shown. */
  async function cliHash(p: Page, name: string): Promise<string> {
    const here = await status(p);
    const download = p.waitForEvent('download');
    await parts(p).button('Export').click();
    const path = join(dir, name);
    await (await download).saveAs(path);
    const info = JSON.parse(rewind(['info', path, '--json']).stdout) as { branches: { id: string; name: string }[] };
    const branch = info.branches.find((b) => b.id === here.branch)!.name;
    const r = rewind(['state', path, '--at', String(here.position), '--branch', branch]);
    expect(r.stderr).toBe('');
    return (JSON.parse(r.stdout) as { hash: string }).hash;
  }

  test('a few typed commands make a link under 2 KB that a fresh profile replays to the CLI’s state hash', async () => {
    await expect.poll(parts(page).consoleText, { timeout: 20_000 }).toContain('> ');
    await page.locator('.xterm').click();
    for (const line of ['look', 'e', 'take bone', 'w']) {
      await page.keyboard.type(`${line}\r`);
      await expect.poll(parts(page).consoleText, { timeout: 20_000 }).toMatch(new RegExp(`${line}[\\s\\S]*>\\s*$`));
    }
    expect(await parts(page).consoleText()).toContain('Taken: bone.');
    await parts(page).button('Pause').click();
    const here = await status(page);
    const link = await shareLink(page);
    expect(link.length).toBeLessThanOrEqual(2048);
    expect(new URL(link).hash).toMatch(/^#share=[\w-]+$/);
    const expected = await cliHash(page, 'typed.vmi');

    const fresh = await app.newProfile(link);
    await expect.poll(() => status(fresh).then((s) => s.position), { timeout: 30_000 }).toBe(here.position);
    await expect.poll(() => hash(fresh), { timeout: 10_000 }).toBe(expected);
    await expect.poll(parts(fresh).consoleText, { timeout: 10_000 }).toContain('Taken: bone.');
    // Opened, it is a VM of that browser's library: the address is its deep link, not the share link.
    await expect.poll(() => fresh.evaluate(() => location.hash), { timeout: 10_000 }).toBe('');
    expect(new URL(fresh.url()).searchParams.get('vm')).not.toBeNull();
    await fresh.close();
    expect(app.errors).toEqual([]);
  });

  test('a link to a user’s own ELF asks for the file, refuses another, and opens with it', async () => {
    const chooser = page.waitForEvent('filechooser');
    await parts(page).button('Load program').click();
    await (await chooser).setFiles(guest('timer'));
    await expect.poll(parts(page).consoleText, { timeout: 20_000 }).toContain('tick 3');
    await expect.poll(() => status(page).then((s) => s.state), { timeout: 20_000 }).toBe('off');
    const here = await status(page);
    await expect.poll(() => hash(page), { timeout: 10_000 }).toMatch(/^[0-9a-f]{32}$/);
    const expected = await hash(page);
    const link = await shareLink(page);

    const fresh = await app.newProfile(link);
    const needs = fresh.getByTestId('share-needs');
    await expect.poll(() => needs.innerText(), { timeout: 20_000 }).toContain('timer.elf');
    const pick = async (path: string) => {
      const chooser = fresh.waitForEvent('filechooser');
      await needs.getByRole('button', { name: 'Choose timer.elf' }).click();
      await (await chooser).setFiles(path);
    };
    await pick(guest('hello'));
    await expect
      .poll(() => fresh.getByRole('alert').innerText(), { timeout: 10_000 })
      .toMatch(/^hello\.elf is not the program this link was made with/);
    expect(await status(fresh)).toMatchObject({ state: 'empty' });
    await pick(guest('timer'));
    await expect.poll(() => status(fresh).then((s) => s.position), { timeout: 30_000 }).toBe(here.position);
    await expect.poll(() => hash(fresh), { timeout: 10_000 }).toBe(expected);
    expect(await fresh.getByTestId('share-needs').count()).toBe(0);
    await fresh.close();
    expect(app.errors).toEqual([]);
  });
});
