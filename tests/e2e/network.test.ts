// Network groups in Chromium (#17): from the host view, two Linux VMs on one
// network, each in its own worker; alice pings bob with a command typed into
// her console; the group saves as one .vmg that `rewind group replay
// --verify` passes; the file opens in a fresh page as the same group, paused
// where it was saved, and runs on: bob pings alice back.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { rewind, tempDir } from '../support/cli.js';
import { linuxMissing, PROMPT } from '../linux/linux-run.js';
import { openApp, skipReason, type OpenApp } from './support.js';

const skip = skipReason() ?? linuxMissing();
if (skip) console.warn(skip);

interface VmRow {
  name: string;
  state: string;
  console: string;
}

describe.skipIf(skip !== null)('a network of Linux VMs in Chromium', () => {
  let app: OpenApp;
  const dir = tempDir();
  const file = join(dir, 'alice-bob.vmg');
  /** Linux boots in lockstep, recorded, at no more than real time: tens of seconds on a busy host. */
  const poll = <T>(fn: () => Promise<T>, timeout = 180_000) => expect.poll(fn, { timeout, interval: 500 });

  beforeAll(async () => {
    app = await openApp('?guest=none');
    await app.page.close();
  });
  afterAll(() => app?.close());

  async function hostPage(): Promise<Page> {
    const page = await app.newProfile(`${app.url}?guest=none`);
    await poll(() => page.getByRole('button', { name: /^Host \(\d+\)$/ }).count(), 20_000).toBe(1);
    await page.getByRole('button', { name: /^Host \(\d+\)$/ }).click();
    await poll(() => page.getByRole('table', { name: 'Virtual machines' }).count(), 20_000).toBe(1);
    return page;
  }

  const vms = (page: Page) =>
    page.evaluate(() => {
      type Vm = { name: string; state: string; app: { consoleLog: { bytes: Uint8Array } } };
      const host = (globalThis as unknown as { rewind: { host: { vms: Vm[] } } }).rewind.host;
      return host.vms
        .filter((v) => v.state !== 'empty')
        .map((v): VmRow => ({
          name: v.name,
          state: v.state,
          console: new TextDecoder().decode(v.app.consoleLog.bytes),
        }));
    });
  const consoleOf = async (page: Page, name: string) => (await vms(page)).find((v) => v.name === name)?.console ?? '';

  /** Shows `name` in the main view and types `line` into its console. */
  async function typeInto(page: Page, name: string, line: string): Promise<void> {
    await page.getByRole('table', { name: 'Virtual machines' }).getByRole('button', { name, exact: true }).click();
    await page.locator('.xterm').click();
    await page.keyboard.type(line);
    await page.keyboard.press('Enter');
  }

  test('two Linux VMs boot on one network, alice pings bob, and the group saves as a .vmg that verifies', async () => {
    const page = await hostPage();
    const form = page.getByRole('form', { name: 'New network' });
    await form.getByRole('textbox', { name: "Names of the network's machines" }).fill('alice bob');
    await form.getByRole('button', { name: 'Create network' }).click();
    await poll(async () => (await vms(page)).map((v) => v.name).sort()).toEqual(['alice', 'bob']);
    await poll(() => page.getByTestId('network-state').textContent(), 20_000).toBe('running');
    await poll(async () => (await vms(page)).every((v) => v.console.endsWith(PROMPT))).toBe(true);
    expect(await consoleOf(page, 'alice')).toContain('eth0: 10.0.0.1 netmask 255.255.255.0, MAC 52:54:00:12:34:56');
    expect(await consoleOf(page, 'bob')).toContain('eth0: 10.0.0.2 netmask 255.255.255.0, MAC 52:54:00:12:34:57');

    await typeInto(page, 'alice', 'ping -c 1 10.0.0.2');
    await poll(() => consoleOf(page, 'alice')).toMatch(/1 packets transmitted, 1 received/);
    expect(await consoleOf(page, 'alice')).toMatch(/64 bytes from 10\.0\.0\.2: icmp_seq=1 ttl=64/);

    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Save network alice + bob' }).click();
    const saved = await download;
    expect(saved.suggestedFilename()).toBe('alice-bob.vmg');
    await saved.saveAs(file);
    await poll(() => page.getByTestId('network-state').textContent(), 20_000).toBe('paused');
    expect(app.errors).toEqual([]);

    const r = rewind(['group', 'replay', file, '--verify'], undefined, 300_000);
    expect(r.stderr).toMatch(/verified alice: \d+ checkpoints up to position \d+, alone and together/);
    expect(r.stderr).toMatch(/verified bob: /);
    expect(r.status).toBe(0);
    await page.context().close();
  }, 400_000);

  test('the .vmg opens in a fresh page as the same group, paused where it was saved, and runs on', async () => {
    const page = await hostPage();
    await page.getByLabel('Open a group file (.vmg)').setInputFiles(file);
    await poll(async () => (await vms(page)).map((v) => v.name).sort(), 60_000).toEqual(['alice', 'bob']);
    await poll(() => page.getByTestId('network-state').textContent(), 20_000).toBe('paused');
    await poll(() => consoleOf(page, 'alice'), 60_000).toMatch(/1 packets transmitted, 1 received/);

    await page.getByRole('button', { name: 'Run network alice-bob' }).click();
    await typeInto(page, 'bob', 'ping -c 1 10.0.0.1');
    await poll(() => consoleOf(page, 'bob')).toMatch(/1 packets transmitted, 1 received/);
    expect(app.errors).toEqual([]);
    await page.context().close();
  }, 300_000);
});
