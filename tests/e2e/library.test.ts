// The library, files and deep links in a real Chromium: a recorded VM is
// saved in IndexedDB as it runs and a reload reopens it at the same point;
// a .vmi goes out of one browser profile into a fresh one, and between the
// browser and the CLI, with equal state hashes; a damaged .vmi is refused
// and changes nothing; a deep link reopens its point.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readVmi, writeVmi } from '../../storage/index.js';
import { expected, guest, rewind, tempDir } from '../support/cli.js';
import { openApp, savedHere, skipReason, type OpenApp } from './support.js';

const skip = skipReason();
if (skip) console.warn(skip);

const dir = tempDir();

describe.skipIf(skip !== null)('library, files and deep links in Chromium', () => {
  let app: OpenApp;
  let page: Page;
  /** Where the first profile stood when it exported, and its file. */
  let exported: { path: string; branch: string; position: number; hash: string };

  beforeAll(async () => {
    app = await openApp();
    page = app.page;
  });
  afterAll(() => app?.close());

  const consoleText = (p: Page) => p.locator('.xterm-accessibility-tree').innerText();
  const position = async (p: Page) =>
    Number(await p.getByRole('slider', { name: 'Timeline' }).getAttribute('aria-valuenow'));
  const hash = (p: Page) => p.getByTestId('state-hash').innerText();
  const state = (p: Page) => p.getByTestId('run-state').innerText();
  /** The library as the page holds it, once no save is in flight. */
  const saved = (p: Page) =>
    p.evaluate(() => {
      const lib = (
        globalThis as unknown as {
          rewind: { library: { saving: boolean; entries: unknown[]; current: { id: string } | null } };
        }
      ).rewind.library;
      return lib.saving
        ? null
        : {
            entries: JSON.parse(JSON.stringify(lib.entries)) as {
              id: string;
              name: string;
              size: number;
              position: number;
              branch: string;
              updated: number;
            }[],
            current: lib.current?.id ?? null,
          };
    });
  const status = (p: Page) =>
    p.evaluate(() => {
      const s = (globalThis as unknown as { rewind: { app: { status: { branch: string; position: number } } } }).rewind
        .app.status;
      return { branch: s.branch, position: s.position };
    });
  /** The page's URL as the page sees it (history.replaceState keeps it up to date). */
  const href = (p: Page) => p.evaluate(() => location.href);
  const urlAt = async (p: Page) => new URL(await href(p)).searchParams.get('at');
  /** A fresh browser profile showing the app (its own empty IndexedDB). */
  async function freshPage(url = app.url): Promise<Page> {
    const p = await app.newProfile(url);
    await expect.poll(() => consoleText(p), { timeout: 20_000 }).toContain('> ');
    return p;
  }
  async function importFile(p: Page, path: string): Promise<void> {
    const chooser = p.waitForEvent('filechooser');
    await p.getByRole('button', { name: 'Import', exact: true }).click();
    await (await chooser).setFiles(path);
  }
  /** A CLI command's JSON answer (its stderr in the failure, when it gave none). */
  function cliJson<T>(args: string[]): T {
    const r = rewind(args);
    if (r.status !== 0 || !r.stdout) throw new Error(`rewind ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  }
  const cliState = (file: string, at: number, branch?: string) =>
    cliJson<{ hash: string; position: number }>([
      'state',
      file,
      '--at',
      String(at),
      ...(branch ? ['--branch', branch] : []),
    ]);

  test('a recorded VM is saved as it runs, and a reload reopens it at the same point with its console', async () => {
    await expect.poll(() => consoleText(page), { timeout: 20_000 }).toContain('> ');
    await page.locator('.xterm').click();
    await page.keyboard.type('help');
    await page.keyboard.press('Enter');
    await expect.poll(() => consoleText(page), { timeout: 20_000 }).toContain('Commands:');
    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    await expect.poll(() => state(page)).toMatch(/paused/i);
    const at = await position(page);
    await expect.poll(() => hash(page)).toMatch(/^[0-9a-f]{32}$/);
    const before = await hash(page);
    // Saved: one VM in the list, at this position, with a size; the URL names the point.
    await expect.poll(async () => (await saved(page))?.entries[0]?.position, { timeout: 10_000 }).toBe(at);
    const list = page.getByRole('list', { name: 'Saved VMs' });
    await expect.poll(() => list.getByRole('listitem').count()).toBe(1);
    expect(await list.innerText()).toMatch(/default\.elf[\s\S]*\d+ (KiB|B)/);
    await expect.poll(() => urlAt(page), { timeout: 5000 }).toBe(String(at));

    // The storage budget: 512 MiB unless chosen; what this VM uses of it; a choice outlives the reload.
    const budget = page.getByRole('combobox', { name: 'Storage budget of a recording' });
    expect(await budget.inputValue()).toBe(String(512 * 2 ** 20));
    await expect.poll(() => page.getByTestId('budget-used').innerText()).toMatch(/\d+ (KiB|B) used \(0%\)/);
    await budget.selectOption({ label: '128 MiB' });

    await expect.poll(() => savedHere(page), { timeout: 20_000 }).toBe(true);
    await page.reload();
    await expect.poll(() => position(page), { timeout: 20_000 }).toBe(at);
    await expect.poll(() => consoleText(page), { timeout: 20_000 }).toContain('Commands:');
    await expect.poll(() => hash(page)).toBe(before);
    expect(await state(page)).toMatch(/paused/i);
    expect(await list.getByRole('listitem').count()).toBe(1);
    expect(await budget.inputValue()).toBe(String(128 * 2 ** 20));
  });

  test('a deep link names VM, branch and position, follows the position, and reopens that point', async () => {
    const end = await position(page);
    const slider = page.getByRole('slider', { name: 'Timeline' });
    const mid = Math.floor(end / 2);
    const { branch } = await status(page);
    await slider.fill(String(mid));
    await expect.poll(() => status(page), { timeout: 20_000 }).toEqual({ branch, position: mid });
    await expect.poll(() => urlAt(page), { timeout: 5000 }).toBe(String(mid));
    const url = new URL(await href(page));
    expect(url.searchParams.get('branch')).toBe(branch);
    // Polled: a save on its way (under load) hides the library's state for a moment.
    await expect.poll(async () => (await saved(page))?.current).toBe(url.searchParams.get('vm'));
    await expect.poll(() => hash(page)).toMatch(/^[0-9a-f]{32}$/);
    const there = await hash(page);

    const other = await page.context().newPage();
    await other.goto(url.href);
    await expect.poll(() => status(other), { timeout: 20_000 }).toEqual({ branch, position: mid });
    await expect.poll(() => hash(other)).toBe(there);
    await other.close();

    // Back to the end for the next tests: an import opens a recording where it ends.
    await slider.fill(String(end));
    await expect.poll(() => status(page), { timeout: 20_000 }).toEqual({ branch, position: end });
  });

  test('Export downloads a .vmi that the CLI reads to the same state hash', async () => {
    await expect.poll(() => hash(page)).toMatch(/^[0-9a-f]{32}$/);
    const here = await status(page);
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export', exact: true }).click();
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/\.vmi$/);
    const path = join(dir, 'browser.vmi');
    await file.saveAs(path);
    exported = { path, ...here, hash: await hash(page) };
    const info = cliJson<{ branches: { id: string; name: string }[] }>(['info', path, '--json']);
    const name = info.branches.find((b) => b.id === here.branch)!.name;
    expect(cliState(path, here.position, name).hash).toBe(exported.hash);
  });

  test('importing it in a fresh browser profile gives the same state hash', async () => {
    const p = await freshPage();
    await importFile(p, exported.path);
    await expect
      .poll(() => status(p), { timeout: 20_000 })
      .toEqual({ branch: exported.branch, position: exported.position });
    await expect.poll(() => hash(p)).toBe(exported.hash);
    await expect.poll(async () => (await saved(p))?.entries.length).toBe(2);
    await p.context().close();
  });

  test('a .vmi recorded by the CLI opens in the browser (dropped on the page) with equal hashes', async () => {
    const path = join(dir, 'cli.vmi');
    rewind(['record', guest('default'), '-o', path, '--input-file', expected('default-crash.in')]);
    const info = cliJson<{ branches: { end: number }[] }>(['info', path, '--json']);
    const end = info.branches[0]!.end;
    const p = await freshPage();
    const bytes = [...readFileSync(path)];
    const transfer = await p.evaluateHandle((b) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(b)], 'cli.vmi'));
      return dt;
    }, bytes);
    await p.dispatchEvent('body', 'drop', { dataTransfer: transfer });
    await expect.poll(() => position(p), { timeout: 20_000 }).toBe(end);
    await expect.poll(() => hash(p)).toBe(cliState(path, end).hash);
    await expect.poll(() => consoleText(p)).toContain('THE VAULT OF REWIND');
    // Any other point agrees too.
    await p.getByRole('slider', { name: 'Timeline' }).fill('5000');
    await expect.poll(async () => (await status(p)).position, { timeout: 20_000 }).toBe(5000);
    await expect.poll(() => hash(p)).toBe(cliState(path, 5000).hash);
    await p.context().close();
  });

  test('a long import shows progress and can be cancelled, leaving the machine as it was', async () => {
    // Half a billion instructions, in a file without its console output (as files before it was kept):
    // opening it at its end replays from reset for a while to show the console.
    const path = join(dir, 'bench.vmi');
    rewind(['record', guest('bench'), '-o', path, '--input-file', expected('bench.in')]);
    writeFileSync(path, writeVmi({ ...readVmi(new Uint8Array(readFileSync(path))), console: null }));
    const end = cliJson<{ branches: { end: number }[] }>(['info', path, '--json']).branches[0]!.end;
    const p = await freshPage();
    await importFile(p, path);
    const bar = p.getByRole('status').filter({ hasText: 'Importing' });
    await expect.poll(() => bar.count(), { timeout: 20_000 }).toBe(1);
    expect(await bar.getByRole('progressbar').count()).toBe(1);
    await bar.getByRole('button', { name: 'Cancel' }).click();
    await expect
      .poll(() => p.getByRole('alert').innerText(), { timeout: 20_000 })
      .toMatch(/import cancelled: the machine is as it was/);
    expect(await bar.count()).toBe(0);
    // The running VM may have been saved before the import began; the imported one never came in.
    await expect.poll(() => saved(p)).not.toBeNull();
    expect((await saved(p))!.entries.map((e) => e.name)).not.toContain('bench');
    expect(
      await p.evaluate(
        () => (globalThis as unknown as { rewind: { app: { programName: string } } }).rewind.app.programName,
      ),
    ).toBe('default.elf');

    // Left to finish, it opens where the recording ends, with the CLI's hash.
    await p.getByRole('button', { name: 'Dismiss message' }).click();
    await importFile(p, path);
    await expect.poll(async () => (await status(p)).position, { timeout: 60_000 }).toBe(end);
    await expect.poll(() => hash(p)).toBe(cliState(path, end).hash);
    await p.context().close();
  });

  test('a damaged .vmi is refused with a clear message, and the library and machine are unchanged', async () => {
    const good = readFileSync(exported.path);
    const bad = Uint8Array.from(good);
    bad[Math.floor(bad.length / 2)]! ^= 0xff;
    const path = join(dir, 'damaged.vmi');
    writeFileSync(path, bad);
    await expect.poll(() => saved(page)).not.toBeNull();
    const before = (await saved(page))!;
    const where = await status(page);
    await importFile(page, path);
    const alert = page.getByRole('alert');
    await expect
      .poll(() => alert.innerText(), { timeout: 20_000 })
      .toMatch(/Could not import damaged\.vmi: .*(integrity|corrupt|damaged|hash)/i);
    expect(await alert.innerText()).not.toMatch(/at .*\.(js|ts):\d+/);
    expect(await status(page)).toEqual(where);
    const after = (await saved(page))!;
    expect(after.entries).toEqual(before.entries);
    await page.getByRole('button', { name: 'Dismiss message' }).click();
  });

  test('rename and delete by their accessible names', async () => {
    const list = page.getByRole('list', { name: 'Saved VMs' });
    const name = (await saved(page))!.entries[0]!.name;
    await page.getByRole('button', { name: `Rename ${name}` }).click();
    const input = page.getByRole('textbox', { name: `New name for ${name}` });
    await input.fill('my adventure');
    await input.press('Enter');
    await expect.poll(() => list.innerText()).toContain('my adventure');
    // A second VM, from an ELF through the same Import picker; then delete the first.
    await importFile(page, guest('hello'));
    await expect.poll(async () => (await saved(page))?.entries.length, { timeout: 20_000 }).toBe(2);
    await page.getByRole('button', { name: 'Delete my adventure' }).click();
    // Delete asks first: Keep leaves it, Confirm deletes it.
    await page.getByRole('button', { name: 'Keep my adventure' }).click();
    expect((await saved(page))?.entries).toHaveLength(2);
    await page.getByRole('button', { name: 'Delete my adventure' }).click();
    await page.getByRole('button', { name: 'Confirm delete my adventure' }).click();
    await expect.poll(async () => (await saved(page))?.entries.map((e) => e.name)).toEqual(['hello.elf']);
    expect(app.errors).toEqual([]);
  });

  test('a busy guest left running stays within the budget in IndexedDB, and reopens after a reload', async () => {
    const p = await freshPage();
    // memops writes new contents over the same pages all the time: unthinned, its recording keeps growing.
    await p.evaluate(
      async (bytes) => {
        const { app, library } = (
          globalThis as unknown as {
            rewind: {
              app: { load(b: Uint8Array, n: string, r: boolean): Promise<void> };
              library: { setBudget(n: number): void };
            };
          }
        ).rewind;
        library.setBudget(1 << 20);
        await app.load(Uint8Array.from(bytes), 'memops.elf', false);
      },
      Array.from(readFileSync(guest('memops'))),
    );
    await p.locator('.xterm').click();
    await p.keyboard.type('100000');
    await p.keyboard.press('Enter');
    await p.getByRole('button', { name: 'Run', exact: true }).click();
    await expect.poll(() => status(p).then((s) => s.position), { timeout: 60_000 }).toBeGreaterThan(300_000_000);
    await p.getByRole('button', { name: 'Pause', exact: true }).click();
    await expect.poll(() => state(p)).toMatch(/paused/i);
    const at = await status(p);
    await expect.poll(async () => (await saved(p))?.entries[0]?.position, { timeout: 20_000 }).toBe(at.position);
    const entry = (await saved(p))!.entries[0]!;
    expect(entry.size).toBeLessThanOrEqual(1 << 20);
    await p.reload();
    await expect.poll(() => status(p), { timeout: 20_000 }).toEqual(at);
    await p.context().close();
  });

  test('?record=0 runs without recording: nothing is saved and time travel says why', async () => {
    const p = await freshPage(`${app.url}?record=0`);
    for (const name of ['Step back', 'Run back', 'Fork', 'Export', 'Import']) {
      expect(await p.getByRole('button', { name, exact: true }).isDisabled()).toBe(true);
    }
    await p.waitForTimeout(1000);
    expect((await saved(p))?.entries).toEqual([]);
    await p.context().close();
  });
});
