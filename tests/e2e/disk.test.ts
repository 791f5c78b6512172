// A disk in the web app, in a real Chromium (issue #15): the virtio guest
// loaded alone finds no block device; a disk attached in the page (picked, or
// dropped on the disk bar) is read by it, its writes show as activity, the
// disk downloads as it is at the position shown (time travel included), and
// the disk is part of the machine: a reload reopens it, and the exported
// .vmi replays on the CLI to the page's state hash.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Download, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { guest, rewind, tempDir } from '../support/cli.js';
import { appParts, openApp, savedHere, skipReason, type OpenApp } from './support.js';

const skip = skipReason();
if (skip) console.warn(skip);

const dir = tempDir();
const diskPath = join(process.cwd(), 'guests/virtio/disk.img');
const WROTE = 'REWIND WROTE THIS';

describe.skipIf(skip !== null)('a disk in the web app', () => {
  let app: OpenApp;
  let page: Page;
  const parts = appParts(() => page);

  beforeAll(async () => {
    app = await openApp('?guest=none');
    page = app.page;
  });
  afterAll(() => app?.close());

  const runState = () =>
    page.evaluate(
      () => (globalThis as unknown as { rewind: { app: { status: { state: string } } } }).rewind.app.status.state,
    );
  const diskBar = () => page.getByTestId('disk');
  async function downloaded(): Promise<{ name: string; bytes: Uint8Array }> {
    const download: Promise<Download> = page.waitForEvent('download');
    await diskBar().getByRole('button', { name: 'Download disk' }).click();
    const file = await download;
    const path = join(dir, file.suggestedFilename());
    await file.saveAs(path);
    return { name: file.suggestedFilename(), bytes: new Uint8Array(readFileSync(path)) };
  }
  const at = (bytes: Uint8Array, offset: number, length: number) =>
    new TextDecoder().decode(bytes.subarray(offset, offset + length));

  test('the virtio guest alone finds no disk', async () => {
    const chooser = page.waitForEvent('filechooser');
    await parts.button('Load program').click();
    await (await chooser).setFiles(guest('virtio'));
    await expect.poll(parts.consoleText, { timeout: 20_000 }).toContain('FAIL: no virtio block device found');
    expect(await diskBar().innerText()).toContain('No disk');
  });

  test('a disk attached in the page is read by the virtio guest, and its writes show', async () => {
    const chooser = page.waitForEvent('filechooser');
    await diskBar().getByRole('button', { name: 'Attach disk' }).click();
    await (await chooser).setFiles(diskPath);
    await expect.poll(parts.consoleText, { timeout: 20_000 }).toContain('|Hello from the R|');
    expect(await parts.consoleText()).not.toContain('FAIL');
    await expect.poll(runState, { timeout: 20_000 }).toBe('off');
    expect(await page.locator('.program').innerText()).toBe('virtio.elf + disk.img');
    await expect.poll(() => page.getByTestId('disk-activity').innerText()).toMatch(/^[1-9]\d* blocks written/);
  });

  test('the disk downloads as it is at the position shown', async () => {
    const image = new Uint8Array(readFileSync(diskPath));
    const end = await parts.position();
    const last = await downloaded();
    expect(last.name).toBe(`virtio.elf_disk.img-disk-at-${end}.img`);
    expect(last.bytes.length).toBe(image.length);
    expect(at(last.bytes, 1024, WROTE.length)).toBe(WROTE);
    await parts.slider().focus();
    await page.keyboard.press('Home');
    await expect.poll(parts.position, { timeout: 10_000 }).toBe(0);
    const first = await downloaded();
    expect(first.name).toMatch(/-disk-at-0\.img$/);
    expect(first.bytes).toEqual(image);
    await parts.slider().focus();
    await page.keyboard.press('End');
    await expect.poll(parts.position, { timeout: 10_000 }).toBe(end);
  });

  test('the disk is part of the VM: a reload reopens it, and the exported .vmi replays on the CLI to the same state', async () => {
    const end = await parts.position();
    // The hash shown is of where the machine stands: until the seek to the end arrives, of the start.
    await expect.poll(parts.machinePosition, { timeout: 10_000 }).toBe(end);
    await expect.poll(() => page.getByTestId('state-hash').innerText(), { timeout: 10_000 }).toMatch(/^[0-9a-f]{32}$/);
    const hash = await page.getByTestId('state-hash').innerText();
    const download = page.waitForEvent('download');
    await parts.button('Export').click();
    const vmi = join(dir, 'disk.vmi');
    await (await download).saveAs(vmi);
    const r = rewind(['state', vmi, '--at', String(end)]);
    expect(r.stderr).toBe('');
    expect((JSON.parse(r.stdout) as { hash: string }).hash).toBe(hash);

    await expect.poll(() => new URL(page.url()).searchParams.get('at'), { timeout: 10_000 }).toBe(String(end));
    await expect.poll(() => savedHere(page), { timeout: 20_000 }).toBe(true);
    await page.reload();
    await expect.poll(parts.position, { timeout: 20_000 }).toBe(end);
    await expect.poll(parts.consoleText, { timeout: 20_000 }).toContain('|Hello from the R|');
    expect(await diskBar().innerText()).toContain('Disk 64 KiB');
    expect(at((await downloaded()).bytes, 1024, WROTE.length)).toBe(WROTE);
  });

  test('a disk dropped on the disk bar is attached (not opened as a VM)', async () => {
    const image = new Uint8Array(readFileSync(diskPath));
    const own = image.slice();
    own.set(new TextEncoder().encode('A disk dropped on the page!'), 0);
    const transfer = await page.evaluateHandle(
      (bytes) => {
        const dt = new DataTransfer();
        dt.items.add(new File([new Uint8Array(bytes)], 'dropped.img'));
        return dt;
      },
      [...own],
    );
    await diskBar().dispatchEvent('dragover', { dataTransfer: transfer });
    await diskBar().dispatchEvent('drop', { dataTransfer: transfer });
    await expect.poll(() => page.locator('.program').innerText(), { timeout: 20_000 }).toBe('virtio.elf + dropped.img');
    await expect.poll(parts.consoleText, { timeout: 20_000 }).toContain('|A disk dropped o|');
    expect(app.errors).toEqual([]);
  });
});
