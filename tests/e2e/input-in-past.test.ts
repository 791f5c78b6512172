// Typing in the past at an input mark, as a new user does it (issue: the
// guest answered "I don't understand 'tw'"): play two commands, go back
// with `[` until the console ends with a bare prompt, type another command.
// The guest gets the new command alone, and answers with no press of Run.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { appParts, openApp, skipReason } from './support.js';

const skip = skipReason();
if (skip) console.warn(skip);

describe.skipIf(skip !== null)('typing in the past in Chromium', () => {
  let page: Page;
  let errors: string[];
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ page, errors, close } = await openApp('?record=1'));
  });
  afterAll(() => close?.());

  const { consoleText, slider, position, branch, button } = appParts(() => page);
  const typeLine = async (text: string) => {
    await page.locator('.xterm').click();
    await page.keyboard.type(text);
    await page.keyboard.press('Enter');
  };
  const lastLines = async (n: number) => (await consoleText()).trimEnd().split('\n').slice(-n).join('\n');

  test('the guest gets the new input alone', async () => {
    await expect.poll(consoleText, { timeout: 30_000 }).toContain('> ');
    await typeLine('e');
    await expect.poll(consoleText, { timeout: 20_000 }).toContain('Exits: east west');
    await typeLine('take bone');
    await expect.poll(consoleText, { timeout: 20_000 }).toContain('Taken: bone.');
    await button('Pause').click();
    const main = await branch();

    // Back mark by mark until the console ends with the prompt under the troll bridge's exits.
    await slider().focus();
    const barePrompt = /Exits: east west\s*\n>\s*$/;
    for (let i = 0; i < 60; i++) {
      const at = await position();
      await page.keyboard.press('[');
      await expect.poll(position, { timeout: 20_000 }).toBeLessThan(at);
      // The console follows the seek a moment later.
      const found = await expect
        .poll(() => lastLines(2), { timeout: 1500 })
        .toMatch(barePrompt)
        .then(
          () => true,
          () => false,
        );
      if (found) break;
    }
    expect(await lastLines(2)).toMatch(barePrompt);
    expect(await consoleText()).not.toContain('Taken: bone.');

    await typeLine('w');
    await expect.poll(branch, { timeout: 20_000 }).not.toBe(main);
    await expect.poll(() => lastLines(3), { timeout: 20_000 }).toContain('Exits: north east west');
    const answer = (await consoleText()).split('== Troll Bridge ==').pop()!;
    expect(answer).not.toContain("don't understand");
    expect(answer).toMatch(/>\s*w\s*\n\s*== Gate Hall ==/);
    expect(errors).toEqual([]);
  });
});
