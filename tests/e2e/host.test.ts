// The host in a real Chromium: several VMs at once, each in its own worker,
// created, paused and resumed from the host view; a VM's CPU cap holds; a
// VM that loops or whose worker crashes leaves the others running; a clone
// goes its own way.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { tempDir } from '../support/cli.js';
import { openApp, skipReason, type OpenApp } from './support.js';

const skip = skipReason();
if (skip) console.warn(skip);

/** A VM as the host holds it. */
interface VmRow {
  key: number;
  name: string;
  state: string;
  position: number;
  library: string | null;
  console: string;
}

describe.skipIf(skip !== null)('the host in Chromium', () => {
  let app: OpenApp;

  beforeAll(async () => {
    app = await openApp('?guest=none');
    await app.page.close();
  });
  afterAll(() => app?.close());

  /** Waits up to 20 s: a VM's worker starts, compiles and loads on a loaded host. */
  const poll = <T>(fn: () => Promise<T>, timeout = 20_000) => expect.poll(fn, { timeout });

  /** A fresh page (its own storage) with an empty VM, its host view open. */
  async function hostPage(): Promise<Page> {
    const page = await app.newProfile(`${app.url}?guest=none`);
    await poll(() => page.getByRole('button', { name: /^Host \(\d+\)$/ }).count()).toBe(1);
    await page.getByRole('button', { name: /^Host \(\d+\)$/ }).click();
    await poll(() => page.getByRole('table', { name: 'Virtual machines' }).count()).toBe(1);
    return page;
  }

  const vms = (page: Page) =>
    page.evaluate(() => {
      type Vm = {
        key: number;
        name: string;
        state: string;
        app: { status: { position: number }; consoleLog: { bytes: Uint8Array } };
        library: { current: { id: string } | null };
      };
      const host = (globalThis as unknown as { rewind: { host: { vms: Vm[] } } }).rewind.host;
      return host.vms.map((v): VmRow => ({
        key: v.key,
        name: v.name,
        state: v.state,
        position: v.app.status.position,
        library: v.library.current?.id ?? null,
        console: new TextDecoder().decode(v.app.consoleLog.bytes),
      }));
    });

  /** Creates a VM from the host view's form. */
  async function create(page: Page, guest: string, capMips: number | null, ramMiB = 64): Promise<void> {
    const before = (await vms(page)).filter((v) => v.state !== 'empty').length;
    const form = page.getByRole('form', { name: 'New VM' });
    await form.getByRole('combobox', { name: 'Guest of the new VM' }).selectOption({ label: guest });
    await form.getByRole('spinbutton', { name: 'RAM of the new VM (MiB)' }).fill(String(ramMiB));
    await form
      .getByRole('textbox', { name: 'CPU cap of the new VM (MIPS)' })
      .fill(capMips === null ? '' : String(capMips));
    await form.getByRole('button', { name: 'Create VM' }).click();
    await poll(async () => (await vms(page)).filter((v) => v.state !== 'empty').length).toBe(before + 1);
  }

  /** Positions of every VM after `ms`, against those before. */
  async function advance(page: Page, ms: number): Promise<{ before: VmRow[]; after: VmRow[] }> {
    const before = await vms(page);
    await page.waitForTimeout(ms);
    return { before, after: await vms(page) };
  }

  /** Types into the focused VM's console. */
  async function typeLine(page: Page, text: string): Promise<void> {
    await page.locator('.xterm').click();
    await page.keyboard.type(text);
    await page.keyboard.press('Enter');
  }

  test('three VMs run at once from the host view; pausing one leaves the other two running', async () => {
    const page = await hostPage();
    for (let i = 0; i < 3; i++) await create(page, 'Benchmark (CPU-bound)', 20);
    await poll(async () => (await vms(page)).map((v) => v.state)).toEqual(['running', 'running', 'running']);
    const table = page.getByRole('table', { name: 'Virtual machines' });
    // F9 hides and shows the host view as its button does.
    await page.keyboard.press('F9');
    await poll(() => table.count()).toBe(0);
    await page.keyboard.press('F9');
    await poll(() => table.count()).toBe(1);
    const [first, second, third] = await vms(page);
    expect(new Set([first!.name, second!.name, third!.name]).size).toBe(3);

    await table.getByRole('button', { name: `Pause ${second!.name}`, exact: true }).click();
    await poll(async () => (await vms(page))[1]!.state).toBe('paused');
    const { before, after } = await advance(page, 2000);
    expect(after[0]!.position).toBeGreaterThan(before[0]!.position);
    expect(after[2]!.position).toBeGreaterThan(before[2]!.position);
    expect(after[1]!.position).toBe(before[1]!.position);
    expect(after.map((v) => v.state)).toEqual(['running', 'paused', 'running']);

    // Resumed, it runs on; a click on its name shows it in the main view.
    await table.getByRole('button', { name: `Resume ${second!.name}`, exact: true }).click();
    await poll(async () => (await vms(page))[1]!.position).toBeGreaterThan(after[1]!.position);
    await table.getByRole('button', { name: second!.name, exact: true }).click();
    await poll(() => page.locator('header .program').innerText()).toBe(second!.name);
    await poll(() => page.getByTestId('run-state').innerText()).toMatch(/running/i);
    // Stopped, its worker is gone and it stays where it was.
    await table.getByRole('button', { name: `Stop ${third!.name}`, exact: true }).click();
    await poll(async () => (await vms(page))[2]!.state).toBe('stopped');
    const stopped = (await vms(page))[2]!.position;
    await page.waitForTimeout(500);
    expect((await vms(page))[2]!.position).toBe(stopped);

    // Paused, a VM takes another RAM size: its program starts again with it.
    await table.getByRole('button', { name: `Pause ${first!.name}`, exact: true }).click();
    await poll(async () => (await vms(page))[0]!.state).toBe('paused');
    await table.getByRole('button', { name: `Resources of ${first!.name}`, exact: true }).click();
    await table.getByRole('spinbutton', { name: `RAM of ${first!.name} (MiB)`, exact: true }).fill('16');
    await table.getByRole('button', { name: `Apply the resources of ${first!.name}`, exact: true }).click();
    await poll(async () => (await vms(page))[0]!.position).toBe(0);
    await poll(() => table.getByRole('row').nth(1).innerText()).toMatch(/16 MiB/);
    expect(app.errors).toEqual([]);
    await page.context().close();
  });

  test('a CPU cap holds within 10 %, for two VMs with different caps running side by side', async () => {
    const page = await hostPage();
    const caps = [5, 15];
    for (const cap of caps) await create(page, 'Benchmark (CPU-bound)', cap);
    await poll(async () => (await vms(page)).map((v) => v.state)).toEqual(['running', 'running']);
    // Past the start (first compilations), then the positions as reported, with the page’s clock, for 12 s (an autosave
    // holds a VM up for a few hundred ms, which it makes up: over a short window that shows as a few per cent either way).
    await page.waitForTimeout(1000);
    const mips = await page.evaluate(async () => {
      type Vm = { app: { status: { position: number } } };
      const host = (globalThis as unknown as { rewind: { host: { vms: Vm[] } } }).rewind.host;
      const seen = host.vms.map(() => [] as { t: number; position: number }[]);
      const end = performance.now() + 12_000;
      while (performance.now() < end) {
        host.vms.forEach((v, i) => {
          const last = seen[i]!.at(-1);
          if (last?.position !== v.app.status.position)
            seen[i]!.push({ t: performance.now(), position: v.app.status.position });
        });
        await new Promise((r) => setTimeout(r, 10));
      }
      return seen.map((s) => (s.at(-1)!.position - s[0]!.position) / (s.at(-1)!.t - s[0]!.t) / 1000);
    });
    console.log(`pace caps ${caps.join(', ')} MIPS: measured ${mips.map((m) => m.toFixed(2)).join(', ')} MIPS`);
    mips.forEach((m, i) => {
      expect(m).toBeGreaterThan(caps[i]! * 0.9);
      expect(m).toBeLessThan(caps[i]! * 1.1);
    });

    // Changed while it runs, the cap holds from then on.
    const table = page.getByRole('table', { name: 'Virtual machines' });
    const [slow] = await vms(page);
    await table.getByRole('button', { name: `Resources of ${slow!.name}`, exact: true }).click();
    await table.getByRole('textbox', { name: `CPU cap of ${slow!.name} (MIPS)`, exact: true }).fill('2');
    await table.getByRole('button', { name: `Apply the resources of ${slow!.name}`, exact: true }).click();
    await page.waitForTimeout(500);
    const { before, after } = await advance(page, 2000);
    const slowMips = (after[0]!.position - before[0]!.position) / 2000 / 1000;
    console.log(`cap 2 MIPS set while running: ${slowMips.toFixed(2)} MIPS (over 2 s, as reported)`);
    expect(slowMips).toBeLessThan(2 * 1.25);
    expect(app.errors).toEqual([]);
    await page.context().close();
  });

  /** Creates a VM and loads a raw program image into it (Load program), uncapped. */
  async function createRaw(page: Page, name: string, bytes: number[]): Promise<void> {
    await create(page, 'Hello', null);
    const file = join(tempDir(), name);
    writeFileSync(file, Uint8Array.from(bytes));
    const chooser = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Load program', exact: true }).click();
    await (await chooser).setFiles(file);
    await poll(async () => (await vms(page)).at(-1)!.name).toBe(name);
  }

  test('VMs in a tight loop, trapping forever or filling their RAM, and a VM whose worker crashes, do not stop another VM’s output', async () => {
    const page = await hostPage();
    await create(page, 'Echo', null);
    await poll(async () => (await vms(page))[0]!.console).toContain('> ');
    // A program that jumps to itself forever (jal x0, 0), and one whose every instruction is illegal (its trap handler too).
    await createRaw(page, 'loop.bin', [0x6f, 0x00, 0x00, 0x00]);
    await createRaw(page, 'trap.bin', [0x00, 0x00, 0x00, 0x00]);
    await poll(async () => (await vms(page)).slice(1).map((v) => v.state)).toEqual(['running', 'running']);
    // One that writes a word into every KiB of its RAM from 0x80001000 up (lui t0; sw t0,0(t0); addi t0,t0,1024;
    // j back): every page dirty, and past the end its store faults, and so does every trap after (mtvec 0).
    await createRaw(
      page,
      'hog.bin',
      [0xb7, 0x12, 0x00, 0x80, 0x23, 0xa0, 0x52, 0x00, 0x93, 0x82, 0x02, 0x40, 0x6f, 0xf0, 0x9f, 0xff],
    );
    await poll(async () => (await vms(page))[3]!.state).toBe('running');
    // 64 MiB of RAM: the end is 3 × 64 k steps away; past it, the traps.
    await poll(async () => (await vms(page))[3]!.position).toBeGreaterThan(1_000_000);

    // A fifth VM, whose worker then fails with an uncaught error.
    await create(page, 'Adventure (default)', null);
    await poll(async () => (await vms(page))[4]!.console).toContain('THE VAULT OF REWIND');
    const key = (await vms(page))[4]!.key;
    const workers = await Promise.all(
      page.workers().map(async (w) => ({ w, name: await w.evaluate(() => self.name) })),
    );
    const doomed = workers.find((x) => x.name === `rewind-vm-${key}`);
    expect(doomed).toBeDefined();
    await doomed!.w.evaluate(() => {
      setTimeout(() => {
        throw new Error('worker failure injected by the test');
      });
    });
    await poll(async () => (await vms(page))[4]!.state).toBe('crashed');
    expect(
      await page
        .getByRole('row')
        .filter({ hasText: (await vms(page))[4]!.name })
        .getByTestId('vm-state')
        .innerText(),
    ).toMatch(/crashed/i);

    // The echo VM answers; the loop, the trap and the RAM hog run on.
    await page
      .getByRole('table', { name: 'Virtual machines' })
      .getByRole('button', { name: (await vms(page))[0]!.name, exact: true })
      .click();
    const { before, after } = await advance(page, 1000);
    for (const i of [1, 2, 3]) expect(after[i]!.position).toBeGreaterThan(before[i]!.position);
    await typeLine(page, 'echo still here');
    await poll(async () => (await vms(page))[0]!.console).toContain('still here\r\n');
    await poll(async () => (await vms(page)).map((v) => v.state)).toEqual([
      'waiting',
      'running',
      'running',
      'running',
      'crashed',
    ]);
    // The page itself took no error: the worker's failure was the host's news.
    expect(app.errors).toEqual([]);
    await page.context().close();
  });

  test('a clone is its own VM: the same past, its own library entry, and a future that diverges; a VM restores to a bookmark', async () => {
    const page = await hostPage();
    await create(page, 'Echo', null);
    await poll(async () => (await vms(page))[0]!.console).toContain('> ');
    await typeLine(page, 'echo before');
    await poll(async () => (await vms(page))[0]!.console).toContain('before\r\n> ');
    const original = (await vms(page))[0]!;

    const table = page.getByRole('table', { name: 'Virtual machines' });
    await table.getByRole('button', { name: `Clone ${original.name}`, exact: true }).click();
    await poll(async () => (await vms(page)).length).toBe(2);
    await poll(async () => (await vms(page))[1]!.library).not.toBeNull();
    const clone = (await vms(page))[1]!;
    expect(clone.library).not.toBe(original.library);
    expect(clone.name).toBe(`${original.name} (clone)`);
    expect(clone.console).toContain('before\r\n> ');

    // The clone is focused: it is given one line, the original another.
    await poll(() => page.locator('header .program').innerText()).toBe(clone.name);
    await typeLine(page, 'echo in the clone');
    await poll(async () => (await vms(page))[1]!.console).toContain('in the clone\r\n');
    await table.getByRole('button', { name: original.name, exact: true }).click();
    await poll(() => page.locator('header .program').innerText()).toBe(original.name);
    await typeLine(page, 'rev original');
    await poll(async () => (await vms(page))[0]!.console).toContain('lanigiro\r\n');
    const [a, b] = await vms(page);
    expect(a!.console).not.toContain('in the clone');
    expect(b!.console).not.toContain('lanigiro');
    // Both are in the library, each its own entry.
    const ids = await page.evaluate(() =>
      (
        globalThis as unknown as { rewind: { library: { library: { list(): Promise<{ id: string }[]> } } } }
      ).rewind.library.library
        .list()
        .then((l) => l.map((m) => m.id)),
    );
    expect(ids).toEqual(expect.arrayContaining([a!.library, b!.library]));

    // Restored to a bookmark from the host view, the original is back where it was marked.
    await page.keyboard.press('Shift+F8');
    const bookmarks = () =>
      page.evaluate(
        () =>
          (globalThis as unknown as { rewind: { app: { timeline: { bookmarks: unknown[] } | null } } }).rewind.app
            .timeline?.bookmarks.length ?? 0,
      );
    await poll(bookmarks).toBe(1);
    const marked = (await vms(page))[0]!.position;
    await typeLine(page, 'echo later');
    await poll(async () => (await vms(page))[0]!.console).toContain('later\r\n');
    const restore = table.getByRole('combobox', { name: `Restore ${original.name} to a saved point`, exact: true });
    const mark = restore.getByRole('option', { name: /^mark 1 / });
    await restore.selectOption((await mark.getAttribute('value'))!);
    await poll(async () => (await vms(page))[0]!.position).toBe(marked);
    expect((await vms(page))[0]!.console).not.toContain('later');
    expect(app.errors).toEqual([]);
    await page.context().close();
  });

  test('a reload brings the host’s VMs back, each from its library entry', async () => {
    const page = await hostPage();
    await create(page, 'Echo', null);
    await create(page, 'Adventure (default)', 12);
    await poll(async () => (await vms(page)).map((v) => v.state)).toEqual(['waiting', 'waiting']);
    const saved = () =>
      page.evaluate(() =>
        (
          globalThis as unknown as { rewind: { library: { library: { list(): Promise<unknown[]> } } } }
        ).rewind.library.library
          .list()
          .then((l) => l.length),
      );
    await poll(saved).toBe(2);
    // Each entry saved where its VM stands (a save at creation comes first): what the reload reopens.
    const savedWhereTheyStand = () =>
      page.evaluate(async () => {
        const { host, library } = (
          globalThis as unknown as {
            rewind: {
              host: { vms: { app: { status: { position: number } }; library: { current: { id: string } | null } }[] };
              library: { library: { list(): Promise<{ id: string; position: number }[]> } };
            };
          }
        ).rewind;
        const entries = await library.library.list();
        return host.vms.every((v) =>
          entries.some((e) => e.id === v.library.current?.id && e.position === v.app.status.position),
        );
      });
    await poll(savedWhereTheyStand).toBe(true);
    const before = (await vms(page)).map((v) => v.library).sort();
    await page.reload();
    await poll(async () => (await vms(page)).map((v) => v.library).sort()).toEqual(before);
    await poll(async () => (await vms(page)).every((v) => v.console.includes('> '))).toBe(true);
    expect(app.errors).toEqual([]);
    await page.context().close();
  });
});
