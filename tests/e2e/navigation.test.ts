// Getting around, in a real Chromium on the default guest: go to a symbol in
// the disassembly and scroll it both ways, memory and a watchpoint by symbol
// name (the watchpoint hit by a command), `[` and `]` by command lines and
// stops, go to a typed position, and zoom on the timeline.
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseElf } from '../../core/loader.js';
import { appParts, openApp, skipReason } from './support.js';

const skip = skipReason();
if (skip) console.warn(skip);

const symbols = parseElf(
  new Uint8Array(readFileSync(new URL('../../guests/build/default.elf', import.meta.url))),
  0x80000000,
  64 << 20,
).symbols;
const hex = (a: number) => '0x' + a.toString(16).padStart(8, '0');

describe.skipIf(skip !== null)('navigation in Chromium', () => {
  let page: Page;
  let errors: string[];
  let close: () => Promise<void>;
  const { consoleText, slider, position, button } = appParts(() => page);

  beforeAll(async () => {
    ({ page, errors, close } = await openApp());
  });
  afterAll(() => close?.());

  const state = () => page.getByTestId('run-state').innerText();
  const reason = () => page.getByTestId('stop-reason').innerText();
  const codeBox = () => page.getByTestId('code-scroll');
  const lineAddresses = () =>
    page.locator('li.line-item').evaluateAll((els) => els.map((el) => Number((el as HTMLElement).dataset.address)));
  const labels = () => page.locator('li.sym').allInnerTexts();
  const typeLine = async (text: string) => {
    await page.locator('.xterm').click();
    await page.keyboard.type(text);
    await page.keyboard.press('Enter');
  };
  const goToCode = async (text: string) => {
    await page.getByLabel('Go to address or symbol').fill(text);
    await page.getByLabel('Go to address or symbol').press('Enter');
  };

  test('go to a symbol in the disassembly, scroll it down and up, and back to pc', async () => {
    await expect.poll(consoleText, { timeout: 30_000 }).toContain('> ');
    const main = symbols.get('main')!;
    await goToCode('main');
    await expect.poll(labels).toContain('<main>:');
    const target = page.locator('button.line.target');
    await expect.poll(() => target.getAttribute('aria-label')).toMatch(new RegExp(`^${hex(main)} `));
    expect(await target.isVisible()).toBe(true);

    // Scrolling with the wheel loads more lines below, then above, than the first answer held.
    const first = await lineAddresses();
    await codeBox().hover();
    for (let i = 0; i < 12; i++) await page.mouse.wheel(0, 400);
    await expect.poll(async () => Math.max(...(await lineAddresses()))).toBeGreaterThan(Math.max(...first));
    for (let i = 0; i < 40; i++) await page.mouse.wheel(0, -400);
    await expect.poll(async () => Math.min(...(await lineAddresses()))).toBeLessThan(Math.min(...first));
    const all = await lineAddresses();
    expect(all.length).toBeGreaterThan(first.length + 32);
    // One run of code, in address order, with no gaps where pages meet.
    for (let i = 1; i < all.length; i++) expect(all[i]).toBeGreaterThan(all[i - 1]!);
    // Mapping symbols and local labels never show as functions.
    expect((await labels()).filter((l) => /^<[$.]/.test(l))).toEqual([]);

    // A hex address, and a name the list suggests.
    await goToCode('80000054');
    await expect.poll(labels).toContain('<trap_entry>:');
    const suggested = await page
      .locator('datalist#symbol-names option')
      .evaluateAll((els) => els.map((el) => (el as HTMLOptionElement).value));
    expect(suggested).toEqual(expect.arrayContaining(['main', 'P', 'items']));
    expect(suggested.filter((n) => /^[$.]|\.[cS]$/.test(n))).toEqual([]);
    await goToCode('no_such_thing');
    await expect.poll(() => page.locator('#dis-err').innerText()).toContain('No symbol or hex address');

    await button('Back to pc').click();
    const current = page.locator('button.line[aria-current=step]');
    await expect.poll(() => current.count()).toBe(1);
    expect(await current.isVisible()).toBe(true);
    expect(await page.locator('button.line.target').count()).toBe(0);
    expect(errors).toEqual([]);
  });

  test('memory goes to a symbol; a watchpoint set by name+offset stops the command that writes it', async () => {
    await page.locator('#mem-addr').fill('items');
    await button('Go').click();
    const firstRow = () => page.locator('table[aria-label="Memory bytes"] th').first().innerText();
    await expect.poll(firstRow).toBe(symbols.get('items')!.toString(16));

    // P.moves, 16 bytes into the player: going east is a move.
    const moves = symbols.get('P')! + 16;
    await page.locator('#wp-addr').fill('P+16');
    await page.locator('#wp-len').fill('4');
    await button('Watch').click();
    const watched = page.getByRole('list', { name: 'Watched ranges' });
    await expect.poll(() => watched.innerText()).toContain(`${hex(moves)} – ${hex(moves + 3)} (4 B, P+0x10)`);
    await typeLine('e');
    await expect.poll(state, { timeout: 20_000 }).toMatch(/paused/i);
    expect(await reason()).toBe(`watchpoint ${hex(moves)} (P+0x10): 0 → 1`);
    await page.getByRole('button', { name: `Remove watchpoint at ${hex(moves)}` }).click();
    await button('Run').click();
    await expect.poll(consoleText, { timeout: 20_000 }).toContain('Exits: east west');
    await expect.poll(state, { timeout: 20_000 }).toMatch(/waiting/i);
  });

  test('[ and ] move by command lines and stops, not by keystrokes and echo', async () => {
    await typeLine('help');
    await expect.poll(consoleText, { timeout: 20_000 }).toContain('Commands:');
    await typeLine('score');
    await expect.poll(consoleText, { timeout: 20_000 }).toContain('Score 0 in 1 moves.');
    await button('Pause').click();
    await expect.poll(state).toMatch(/paused/i);
    const stopLabel = await page.getByRole('button', { name: /^Go to watchpoint P\+0x10/ }).getAttribute('aria-label');
    const stopAt = Number(/position (\d+)/.exec(stopLabel!)![1]);

    await slider().focus();
    const press = async (key: string) => {
      const at = await position();
      await page.keyboard.press(key);
      await expect.poll(position, { timeout: 20_000 }).not.toBe(at);
      return position();
    };
    // One press goes back over the whole of `score` (six keys and their echo): the prompt before it.
    const scoreAt = await press('[');
    await expect.poll(consoleText).not.toContain('Score 0');
    expect(await consoleText()).toContain('Commands:');
    // Then over `help`.
    const helpAt = await press('[');
    await expect.poll(consoleText).not.toContain('Commands:');
    expect(await consoleText()).toContain('Exits: east west');
    expect(helpAt).toBeLessThan(scoreAt);
    // Then to the watchpoint's stop inside `e`, then to the start of `e`.
    expect(await press('[')).toBe(stopAt);
    const eAt = await press('[');
    expect(eAt).toBeLessThan(stopAt);
    await expect.poll(consoleText).not.toContain('Troll Bridge');
    // And forward again, stop by stop and line by line.
    expect(await press(']')).toBe(stopAt);
    expect(await press(']')).toBe(helpAt);
    expect(await press(']')).toBe(scoreAt);
    expect(errors).toEqual([]);
  });

  test('go to position takes a number with k or M, and says how far the branch runs', async () => {
    const field = page.getByLabel('Position to go to');
    await field.fill('5k');
    await field.press('Enter');
    await expect.poll(position, { timeout: 20_000 }).toBe(5000);
    await expect.poll(() => page.getByTestId('position').innerText()).toBe('5000');
    await field.fill('999M');
    await field.press('Enter');
    await expect
      .poll(() => page.locator('#position-err').innerText())
      .toMatch(/^This branch runs to position [\d\u2009]+$/);
    expect(await position()).toBe(5000);
  });

  test('zoom: buttons and Ctrl+wheel; the window follows the position and the slider maps onto it', async () => {
    // Unzoomed, the slider spans the whole branch.
    const end = Number(await slider().getAttribute('max'));
    const range = async () => [Number(await slider().getAttribute('min')), Number(await slider().getAttribute('max'))];
    expect(await range()).toEqual([0, end]);
    for (let i = 0; i < 3; i++) await button('Zoom in').click();
    await expect.poll(() => page.getByTestId('zoom').innerText()).toBe('×8');
    const [from, to] = await range();
    expect(to - from).toBe(Math.ceil(end / 8));
    expect(from).toBeLessThanOrEqual(5000);
    expect(to).toBeGreaterThanOrEqual(5000);

    // A value on the zoomed slider is that position.
    await slider().fill(String(from + 10));
    await expect.poll(position, { timeout: 20_000 }).toBe(from + 10);

    // End goes to the end of the branch, and the window follows it there.
    await slider().focus();
    await page.keyboard.press('End');
    await expect.poll(position, { timeout: 20_000 }).toBe(end);
    await expect.poll(async () => (await range())[1]).toBe(end);

    // Ctrl+wheel over the timeline zooms out (and not the page).
    await slider().hover();
    await page.keyboard.down('Control');
    await page.mouse.wheel(0, 100);
    await page.keyboard.up('Control');
    await expect.poll(() => page.getByTestId('zoom').innerText()).toBe('×4');
    expect(await page.evaluate(() => window.visualViewport?.scale ?? 1)).toBe(1);
    await page.keyboard.down('Control');
    await page.mouse.wheel(0, -100);
    await page.keyboard.up('Control');
    await expect.poll(() => page.getByTestId('zoom').innerText()).toBe('×8');
    for (let i = 0; i < 3; i++) await button('Zoom out').click();
    await expect.poll(range).toEqual([0, end]);
    expect(errors).toEqual([]);
  });
});
