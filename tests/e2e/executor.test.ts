// The executor in a real Chromium: `?executor=jit` boots the default guest
// on the JIT, the header's select changes it, and where a content security
// policy forbids generating code the page says the interpreter runs instead.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openApp, skipReason, type OpenApp } from './support.js';

const skip = skipReason();
if (skip) console.warn(skip);

const consoleText = (page: Page) => page.locator('.xterm-accessibility-tree').innerText();
const executorSelect = (page: Page) => page.getByRole('combobox', { name: 'Executor' });
const selectedLabel = (page: Page) =>
  executorSelect(page).evaluate((s: HTMLSelectElement) => s.selectedOptions[0]?.textContent ?? '');
/** What the worker last reported running on. */
const inUse = (page: Page) =>
  page.evaluate(
    () => (globalThis as unknown as { rewind: { app: { executorInUse: string | null } } }).rewind.app.executorInUse,
  );

async function atPrompt(page: Page): Promise<void> {
  await expect.poll(() => consoleText(page), { timeout: 30_000 }).toContain('THE VAULT OF REWIND');
  await expect.poll(() => consoleText(page), { timeout: 30_000 }).toContain('> ');
}

describe.skipIf(skip !== null)('executor in Chromium', () => {
  let app: OpenApp;

  beforeAll(async () => {
    app = await openApp('?executor=jit');
  });
  afterAll(() => app?.close());

  test('?executor=jit runs the default guest to its prompt on the JIT, and the select shows JIT', async () => {
    await atPrompt(app.page);
    expect(await selectedLabel(app.page)).toBe('JIT');
    expect(await inUse(app.page)).toBe('jit');
    expect(await app.page.getByRole('alert').count()).toBe(0);
    expect(app.errors).toEqual([]);
  });

  test('choosing Interpreter reopens the VM where it stands on it', async () => {
    await executorSelect(app.page).selectOption({ label: 'Interpreter' });
    await expect.poll(() => inUse(app.page)).toBe('interp');
    await atPrompt(app.page);
    expect(app.errors).toEqual([]);
  });

  test('where a content security policy forbids code generation, the guest runs on the interpreter and the page says why', async () => {
    const page = await app.newProfile('about:blank');
    // No 'unsafe-eval': the worker's `new Function` throws, as on a site with a strict policy.
    await page.route('**/*', async (route) => {
      const response = await route.fetch();
      await route.fulfill({
        response,
        headers: { ...response.headers(), 'content-security-policy': "script-src 'self'" },
      });
    });
    await page.goto(`${app.url}?executor=jit`);
    await atPrompt(page);
    await expect
      .poll(() => page.getByRole('alert').innerText())
      .toMatch(/JIT unavailable: code generation is not allowed here \(.+\); using the interpreter/);
    expect(await selectedLabel(page)).toBe('JIT');
    expect(await page.getByTestId('executor-in-use').innerText()).toBe('Interpreter in use');
    expect(await inUse(page)).toBe('interp');
    await page.context().close();
  });
});
