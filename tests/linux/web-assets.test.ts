/**
 * The web app finds the Linux guest under linux/: serve.js answers from the
 * build directory (a local build, else the committed guests/linux/build/)
 * even when the app's build has no copy, and the vite plugin copies the
 * files into a build.
 */
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { linuxFile, linuxMissing } from './linux-run.js';

// @ts-expect-error: plain JS modules without type declarations
const { serve } = (await import('../../src/web/serve.js')) as {
  serve: (o: { dir: string; port: number }) => Promise<{ url: string; close: () => Promise<void> }>;
};
// @ts-expect-error: plain JS modules without type declarations
const { linuxAssets } = (await import('../../src/web/linux-assets.js')) as {
  linuxAssets: () => { generateBundle(this: { emitFile: (f: { fileName: string; source: unknown }) => void }): void };
};

const missing = linuxMissing();
const emptyDir = () => mkdtempSync(join(tmpdir(), 'rewind-web-'));

/** Runs `fn` with REWIND_LINUX_DIR set to `dir`, as the server and the plugin read it on every use. */
async function withLinuxDir<T>(dir: string, fn: () => Promise<T> | T): Promise<T> {
  const saved = process.env.REWIND_LINUX_DIR;
  process.env.REWIND_LINUX_DIR = dir;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env.REWIND_LINUX_DIR;
    else process.env.REWIND_LINUX_DIR = saved;
  }
}

function emitted(): Map<string, unknown> {
  const files = new Map<string, unknown>();
  linuxAssets().generateBundle.call({ emitFile: (f) => files.set(f.fileName, f.source) });
  return files;
}

describe('Linux files for the web app', () => {
  let close: (() => Promise<void>) | null = null;
  afterEach(async () => {
    await close?.();
    close = null;
  });

  it('without a local build: the committed guest (guests/linux/build/) is served and copied', async () => {
    await withLinuxDir(emptyDir(), async () => {
      const server = await serve({ dir: emptyDir(), port: 0 });
      close = server.close;
      const res = await fetch(`${server.url}linux/manifest.json`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ kernel: 'Image', initrd: 'initramfs.cpio', disk: 'disk.img' });
      const image = await fetch(`${server.url}linux/Image`);
      const committed = readFileSync(new URL('../../guests/linux/build/Image', import.meta.url));
      expect(Buffer.from(await image.arrayBuffer()).equals(committed)).toBe(true);
      expect([...emitted().keys()]).toContain('linux/Image');
    });
  });

  it.skipIf(missing !== null)(
    `with the built guest: served under linux/ and copied into a build${missing ? ` (skipped: ${missing})` : ''}`,
    async () => {
      const server = await serve({ dir: emptyDir(), port: 0 });
      close = server.close;
      const manifest = await (await fetch(`${server.url}linux/manifest.json`)).json();
      expect(manifest).toEqual({ kernel: 'Image', initrd: 'initramfs.cpio', disk: 'disk.img' });
      const image = await fetch(`${server.url}linux/${manifest.kernel}`);
      expect(image.status).toBe(200);
      expect(Buffer.from(await image.arrayBuffer()).equals(readFileSync(linuxFile('Image')))).toBe(true);
      // Only the guest's own files: nothing else of its directory, and no way out of it.
      expect((await fetch(`${server.url}linux/initramfs.list`)).status).toBe(404);
      expect((await fetch(`${server.url}linux/..%2Fpackage.json`)).status).toBe(404);

      const files = emitted();
      expect([...files.keys()].sort()).toEqual([
        'linux/Image',
        'linux/disk.img',
        'linux/initramfs.cpio',
        'linux/manifest.json',
      ]);
      expect((files.get('linux/disk.img') as Uint8Array).length).toBe(statSync(linuxFile('disk.img')).size);
      expect(JSON.parse(files.get('linux/manifest.json') as string)).toEqual(manifest);
    },
  );
});
