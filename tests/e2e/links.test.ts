// Deep links, library entries and the I/O box in a real Chromium (issue
// #15): a link to a VM this browser lacks keeps its message and its URL and
// starts nothing; a link past the end or to an unknown branch opens the VM
// where it was saved and says why; picking guests and changing the executor
// never gives two library entries one name; the I/O box's byte counts follow
// time travel.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { appParts, openApp, skipReason, type OpenApp } from './support.js';

const skip = skipReason();
if (skip) console.warn(skip);

describe.skipIf(skip !== null)('deep links, library names and the I/O box in Chromium', () => {
  let app: OpenApp;
  let page: Page;
  const parts = appParts(() => page);

  beforeAll(async () => {
    app = await openApp();
    page = app.page;
  });
  afterAll(() => app?.close());

  const ioBox = () => page.locator('figure.picture svg').innerHTML();
  const ioCount = async (dir: 'out' | 'in') => {
    const m = new RegExp(`>${dir} (\\d+) B`).exec(await ioBox());
    return m ? Number(m[1]) : -1;
  };
  /** The library's entries, once no save is in flight. */
  const entries = (p: Page) =>
    p.evaluate(() => {
      const lib = (
        globalThis as unknown as {
          rewind: { library: { saving: boolean; entries: { id: string; name: string }[]; current: { id: string } } };
        }
      ).rewind.library;
      return lib.saving ? null : { names: lib.entries.map((m) => m.name), current: lib.current?.id ?? null };
    });
  /** The message shown, without its dismiss button. */
  const message = (p: Page) => p.getByRole('alert').evaluate((e) => e.firstChild?.textContent?.trim() ?? '');
  const href = (p: Page) => p.evaluate(() => location.href);
  const runState = (p: Page) =>
    p.evaluate(
      () => (globalThis as unknown as { rewind: { app: { status: { state: string } } } }).rewind.app.status.state,
    );

  test('the I/O box counts the console bytes of the position shown: none at 0, those of the point after a seek', async () => {
    await expect.poll(parts.consoleText, { timeout: 20_000 }).toContain('> ');
    await page.locator('.xterm').click();
    await page.keyboard.type('look\r');
    await expect.poll(parts.consoleText, { timeout: 20_000 }).toMatch(/look[\s\S]*>\s*$/);
    await parts.button('Pause').click();
    await expect.poll(() => ioCount('in'), { timeout: 10_000 }).toBe(5);
    const out = await ioCount('out');
    expect(out).toBeGreaterThan(100);
    const end = await parts.position();
    await parts.slider().focus();
    await page.keyboard.press('Home');
    await expect.poll(parts.position, { timeout: 10_000 }).toBe(0);
    await expect.poll(() => ioCount('out'), { timeout: 10_000 }).toBe(0);
    expect(await ioCount('in')).toBe(0);
    await page.keyboard.press('End');
    await expect.poll(parts.position, { timeout: 10_000 }).toBe(end);
    await expect.poll(() => ioCount('out'), { timeout: 10_000 }).toBe(out);
    expect(await ioCount('in')).toBe(5);
  });

  test('picking guests and changing the executor never gives two library entries one name', async () => {
    const guestPicker = page.getByRole('combobox', { name: 'Guest' });
    const saved = (n: number) =>
      expect.poll(() => entries(page).then((e) => e?.names.length), { timeout: 20_000 }).toBe(n);
    await saved(1);
    await guestPicker.selectOption('hello');
    await expect.poll(parts.consoleText, { timeout: 20_000 }).toContain("Hello from Rewind guest 'hello'");
    await saved(2);
    await guestPicker.selectOption('default');
    await expect.poll(parts.consoleText, { timeout: 20_000 }).toContain('THE VAULT OF REWIND');
    await saved(3);
    await guestPicker.selectOption('hello');
    await expect.poll(parts.consoleText, { timeout: 20_000 }).toContain("Hello from Rewind guest 'hello'");
    await saved(4);
    const current = (await entries(page))!.current;
    // The executor reopens the same VM: no new entry.
    await page.getByRole('combobox', { name: 'Executor' }).selectOption('interp');
    await expect.poll(() => page.getByTestId('executor-in-use').count(), { timeout: 20_000 }).toBe(0);
    await expect.poll(() => entries(page).then((e) => e?.current), { timeout: 20_000 }).toBe(current);
    const { names } = (await entries(page))!;
    expect(names.sort()).toEqual(['default.elf', 'default.elf (2)', 'hello.elf', 'hello.elf (2)']);
  });

  test('a link to a VM this browser lacks keeps its message and its URL, and starts nothing', async () => {
    const link = `${app.url}?vm=nosuchvm&branch=b0&at=12`;
    const p = await app.newProfile(link);
    await expect.poll(() => message(p), { timeout: 10_000 }).toMatch(/no VM "nosuchvm"/);
    // Everything the page fetches at start is in: no guest is on its way.
    await p.waitForLoadState('networkidle');
    expect(await message(p)).toMatch(/no VM "nosuchvm".*Pick a guest/);
    expect(await href(p)).toBe(link);
    expect(await runState(p)).toBe('empty');
    // The page is usable: a guest picked starts.
    await p.getByRole('combobox', { name: 'Guest' }).selectOption('hello');
    await expect.poll(() => p.locator('.xterm-accessibility-tree').innerText(), { timeout: 20_000 }).toContain('Hello');
    await p.close();
  });

  test('a link past the end, or to a branch the VM lacks, opens it where it was saved and says so', async () => {
    // The hello VM of this profile, powered off and saved.
    await expect.poll(() => runState(page), { timeout: 20_000 }).toBe('off');
    await expect.poll(() => new URL(page.url()).searchParams.get('vm'), { timeout: 20_000 }).not.toBeNull();
    await expect.poll(() => entries(page).then((e) => e !== null), { timeout: 20_000 }).toBe(true);
    const url = new URL(await href(page));
    const saved = Number(url.searchParams.get('at'));
    const branch = url.searchParams.get('branch')!;
    url.searchParams.set('at', String(saved + 1_000_000));
    const past = await page.context().newPage();
    await past.goto(url.href);
    await expect
      .poll(() => message(past), { timeout: 20_000 })
      .toBe(
        `"hello.elf (2)" has no position ${saved + 1_000_000} of branch "${branch}" (branch main only runs to position ${saved}): ` +
          `opened where it was saved, position ${saved}.`,
      );
    await expect.poll(() => appParts(() => past).position(), { timeout: 20_000 }).toBe(saved);
    expect(await runState(past)).toBe('off');
    await past.close();

    url.searchParams.set('at', '5');
    url.searchParams.set('branch', 'nosuchbranch');
    const unknown = await page.context().newPage();
    await unknown.goto(url.href);
    await expect
      .poll(() => message(unknown), { timeout: 20_000 })
      .toMatch(
        /^"hello\.elf \(2\)" has no position 5 of branch "nosuchbranch" \(no branch "nosuchbranch" \(branches: main\)\): opened where it was saved/,
      );
    await expect.poll(() => appParts(() => unknown).position(), { timeout: 20_000 }).toBe(saved);
    // Usable: the timeline goes back.
    await appParts(() => unknown)
      .slider()
      .focus();
    await unknown.keyboard.press('Home');
    await expect.poll(() => appParts(() => unknown).position(), { timeout: 20_000 }).toBe(0);
    await unknown.close();
    expect(app.errors).toEqual([]);
  });
});
