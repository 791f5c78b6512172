// @vitest-environment happy-dom
// The guest picker: the bundled guests always, Linux only when the server
// has linux/manifest.json, and picking Linux sends the worker a Linux load.
import { flushSync } from 'svelte';
import Picker from '../../ui/GuestPicker.svelte';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { AppState } from '../../ui/app.svelte.js';
import type { Command } from '../../src/web/protocol.js';
import { FakeClient, render, unmountAll } from './support.js';

const FILES: Record<string, Uint8Array> = {
  'linux/Image': new Uint8Array([1, 2, 3]),
  'linux/initramfs.cpio': new Uint8Array([4, 5]),
  'linux/disk.img': new Uint8Array(512).fill(6),
};

/** A server with (or without) the built Linux guest; everything else answers 404. */
function stubServer(withLinux: boolean): void {
  vi.stubGlobal('fetch', async (url: string) => {
    if (withLinux && url === 'linux/manifest.json')
      return new Response(JSON.stringify({ kernel: 'Image', initrd: 'initramfs.cpio', disk: 'disk.img' }));
    const body = withLinux ? FILES[url] : undefined;
    return body ? new Response(body.slice()) : new Response('not found', { status: 404 });
  });
}

async function renderPicker(): Promise<{ target: HTMLElement; client: FakeClient; app: AppState }> {
  const client = new FakeClient();
  const app = new AppState(client);
  const target = render(Picker, { app });
  await vi.waitFor(() => expect(target.querySelector('select')).not.toBeNull());
  return { target, client, app };
}

const optionLabels = (target: HTMLElement) =>
  [...target.querySelectorAll('option:not([disabled])')].map((o) => o.textContent);

afterEach(() => {
  unmountAll();
  vi.unstubAllGlobals();
});

describe('GuestPicker', () => {
  test('lists the bundled guests and no Linux when it is not built', async () => {
    stubServer(false);
    const { target } = await renderPicker();
    // Let the manifest's 404 arrive before looking.
    await new Promise((r) => setTimeout(r, 20));
    flushSync();
    expect(target.querySelector('label')?.textContent).toContain('Guest');
    expect(optionLabels(target)).toEqual([
      'Adventure (default)',
      'Hello',
      'Echo',
      'Minefield (screen)',
      'Benchmark (CPU-bound)',
    ]);
  });

  test('offers Linux when the manifest is there; picking it loads the kernel, initramfs and disk', async () => {
    stubServer(true);
    const { target, client } = await renderPicker();
    await vi.waitFor(() => expect(optionLabels(target)).toContain('Linux'));
    const select = target.querySelector('select')!;
    select.value = 'linux';
    select.dispatchEvent(new Event('change', { bubbles: true }));
    await vi.waitFor(() => expect(client.sent.some((c) => c.type === 'load')).toBe(true));
    const load = client.sent.find((c) => c.type === 'load') as Extract<Command, { type: 'load' }>;
    expect(load.name).toBe('Linux');
    expect([...load.image]).toEqual([1, 2, 3]);
    expect([...load.linux!.initrd!]).toEqual([4, 5]);
    expect(load.disk!.length).toBe(512);
    expect(load.run).toBe(true);
    expect(load.screen).toBeFalsy();
  });

  test('Linux (screen) loads the same kernel with a screen', async () => {
    stubServer(true);
    const { target, client } = await renderPicker();
    await vi.waitFor(() => expect(optionLabels(target)).toContain('Linux (screen)'));
    const select = target.querySelector('select')!;
    select.value = 'linux-screen';
    select.dispatchEvent(new Event('change', { bubbles: true }));
    await vi.waitFor(() => expect(client.sent.some((c) => c.type === 'load')).toBe(true));
    const load = client.sent.find((c) => c.type === 'load') as Extract<Command, { type: 'load' }>;
    expect(load.name).toBe('Linux (screen)');
    expect([...load.image]).toEqual([1, 2, 3]);
    expect(load.screen).toBe(true);
  });
});
