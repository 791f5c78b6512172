// Time travel in a real Chromium, recording on (?record=1): scrub back and
// see the console, registers and memory as they were; step back; type in
// the past to fork, keep both branches and switch between them; diff two
// points; Ctrl+click a console character to go to the instruction that
// wrote it; and the keyboard alone around the page.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { appParts, openApp, skipReason } from './support.js';

const skip = skipReason();
if (skip) console.warn(skip);

describe.skipIf(skip !== null)('time travel and branches in Chromium', () => {
  let page: Page;
  let errors: string[];
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ page, errors, close } = await openApp('?record=1'));
  });
  afterAll(() => close?.());

  const { consoleText, slider, position, branch, button } = appParts(() => page);
  const pc = () => page.locator('[data-reg=pc] .val').innerText();
  const state = () => page.getByTestId('run-state').innerText();
  const pause = async () => {
    await button('Pause').click();
    await expect.poll(state).toMatch(/paused/i);
  };
  /** The byte at `address` in the memory view (which shows 256 bytes from where it was sent). */
  const memoryByte = (address: number) =>
    page.evaluate((address) => {
      for (const row of document.querySelectorAll('table[aria-label="Memory bytes"] tr')) {
        const start = parseInt(row.querySelector('th')!.textContent!, 16);
        if (address >= start && address < start + 16)
          return row.querySelectorAll('td.bytes span')[address - start]!.textContent;
      }
      return null;
    }, address);

  let p0 = 0;
  let p1 = 0;
  let pc0 = '';
  let mainBranch = '';

  test('scrub back: the console, registers and memory are as they were there', async () => {
    await expect.poll(consoleText, { timeout: 30_000 }).toContain('> ');
    await expect.poll(() => button('Step back').isDisabled()).toBe(false);
    await pause();
    p0 = await position();
    pc0 = await pc();
    mainBranch = await branch();
    await button('Run').click();
    await page.locator('.xterm').click();
    await page.keyboard.type('help');
    await page.keyboard.press('Enter');
    await expect.poll(consoleText, { timeout: 20_000 }).toContain('Commands:');
    await pause();
    p1 = await position();
    expect(p1).toBeGreaterThan(p0);

    // A diff of the two points names a RAM page that changed, with its bytes on each side.
    await page.getByLabel('Point A position').fill(String(p0));
    await button('Mark B').click();
    await button('Compare').click();
    const result = page.getByTestId('diff-result');
    await expect.poll(() => result.innerText(), { timeout: 20_000 }).toContain('different states');
    const firstPage = result.locator('ul.pages > li').first();
    const pageAddress = parseInt((await firstPage.locator('.addr').first().innerText()).slice(2), 16);
    const run = (await firstPage.locator('ul li').first().innerText()).trim();
    const [, offset, before, after] = /^\+([0-9a-f]+)\s+([0-9a-f]{2})[^→]*→\s+([0-9a-f]{2})/.exec(run)!;
    const address = pageAddress + parseInt(offset!, 16);
    // The diff left the machine where it was.
    expect(await position()).toBe(p1);

    await page.getByLabel('Address', { exact: true }).first().fill(address.toString(16));
    await button('Go').click();
    await expect.poll(() => memoryByte(address)).toBe(after);

    await slider().fill(String(p0));
    await expect.poll(position, { timeout: 20_000 }).toBe(p0);
    await expect.poll(consoleText, { timeout: 5000 }).not.toContain('Commands:');
    await expect.poll(consoleText, { timeout: 5000 }).toContain('THE VAULT OF REWIND');
    await expect.poll(pc, { timeout: 5000 }).toBe(pc0);
    await expect.poll(() => memoryByte(address), { timeout: 5000 }).toBe(before);

    // And forward again: the later console comes back.
    await slider().fill(String(p1));
    await expect.poll(position, { timeout: 20_000 }).toBe(p1);
    await expect.poll(consoleText).toContain('Commands:');
  });

  test('step back goes one instruction back', async () => {
    await slider().fill(String(p0));
    await expect.poll(position, { timeout: 20_000 }).toBe(p0);
    await button('Step back').click();
    await expect.poll(position, { timeout: 20_000 }).toBe(p0 - 1);
    await button('Step').click();
    await expect.poll(position, { timeout: 20_000 }).toBe(p0);
    await expect.poll(pc).toBe(pc0);
  });

  test('typing in the past forks: both branches are kept and switchable', async () => {
    await page.locator('.xterm').click();
    await page.keyboard.type('e');
    await page.keyboard.press('Enter');
    await expect.poll(branch, { timeout: 20_000 }).not.toBe(mainBranch);
    // The fork runs on by itself, as at the live end: the answer comes with no press of Run.
    await expect.poll(consoleText, { timeout: 20_000 }).toContain('Troll Bridge');
    await pause();
    expect(await consoleText()).not.toContain('Commands:');

    const tree = page.getByRole('region', { name: 'Branches' });
    await expect.poll(() => tree.locator('li[data-branch]').count()).toBe(2);
    // The status shows the new branch's id until the branch list reaches the page, then its name.
    const current = () => tree.locator('li[aria-current=true] .name').innerText();
    await expect.poll(async () => (await current()) === (await branch())).toBe(true);
    const fork = await branch();
    expect(fork).not.toBe(mainBranch);

    // A switch replays from the nearest checkpoint: give it time on a busy machine.
    const long = { timeout: 20_000 };
    await button(`Switch to ${mainBranch}`).click();
    await expect.poll(branch, long).toBe(mainBranch);
    await expect.poll(consoleText, long).toContain('Commands:');
    expect(await consoleText()).not.toContain('Troll Bridge');
    expect(await position()).toBe(p1);

    await button(`Switch to ${fork}`).click();
    await expect.poll(branch, long).toBe(fork);
    await expect.poll(consoleText, long).toContain('Troll Bridge');

    // Renamed, it keeps its place in the tree.
    await button(`Rename ${fork}`).click();
    await page.getByLabel(`New name for ${fork}`).fill('east');
    await page.keyboard.press('Enter');
    await expect.poll(branch, { timeout: 5000 }).toBe('east');
  });

  test('Ctrl+click on a console character goes to the instruction that wrote it', async () => {
    // Where the terminal draws the T of the last "Troll Bridge", and which byte of the log it is.
    const target = await page.evaluate(() => {
      const rows = [...document.querySelectorAll('.xterm-rows > div')];
      const row = rows.filter((r) => r.textContent!.includes('Troll Bridge')).pop()!;
      const walker = document.createTreeWalker(row, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const i = n.textContent!.indexOf('Troll');
        if (i < 0) continue;
        const range = document.createRange();
        range.setStart(n, i);
        range.setEnd(n, i + 1);
        const r = range.getBoundingClientRect();
        const app = (
          globalThis as unknown as {
            rewind: { app: { consoleLog: { bytes: Uint8Array; positionOf(i: number): number } } };
          }
        ).rewind.app;
        const text = new TextDecoder().decode(app.consoleLog.bytes);
        const index = new TextEncoder().encode(text.slice(0, text.lastIndexOf('Troll Bridge'))).length;
        return { x: r.left + r.width / 2, y: r.top + r.height / 2, position: app.consoleLog.positionOf(index) };
      }
      return null;
    });
    expect(target).not.toBeNull();
    await page.mouse.move(target!.x, target!.y);
    await page.keyboard.down('Control');
    await page.mouse.click(target!.x, target!.y);
    await page.keyboard.up('Control');
    await expect.poll(position, { timeout: 20_000 }).toBe(target!.position);
    // The machine stands at the store that writes the T: it is not on the console yet.
    await expect.poll(consoleText, { timeout: 5000 }).not.toContain('Troll Bridge');
  });

  test('the keyboard alone: F2 reaches the timeline, arrows step, F8 forks', async () => {
    const at = await position();
    let focused = '';
    for (let i = 0; i < 8 && focused !== 'Timeline'; i++) {
      await page.keyboard.press('F2');
      focused = await page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? '');
    }
    expect(focused).toBe('Timeline');
    await page.keyboard.press('ArrowLeft');
    await expect.poll(position, { timeout: 20_000 }).toBe(at - 1);
    const before = await page.getByRole('region', { name: 'Branches' }).locator('li[data-branch]').count();
    await page.keyboard.press('F8');
    await expect
      .poll(() => page.getByRole('region', { name: 'Branches' }).locator('li[data-branch]').count(), {
        timeout: 20_000,
      })
      .toBe(before + 1);
    expect(errors).toEqual([]);
  });
});
