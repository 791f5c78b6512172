// The Linux guest offered to the web app under linux/: the one `npm run
// build:linux` built ($REWIND_LINUX_DIR, else .cache/linux) when there is
// one, else the committed build (guests/linux/build/), so a fresh clone has
// Linux with no build step. Served by the vite dev server and by serve.js,
// and copied into `vite build` output. linux/manifest.json names the files.
// Node only (never bundled).
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The files guests/linux/build.sh leaves, by their role in the manifest. */
const FILES = { kernel: 'Image', initrd: 'initramfs.cpio', disk: 'disk.img' };

/** The committed build of the guest (guests/linux/build/README.md says how it was made). */
export const COMMITTED_LINUX_DIR = join(root, 'guests/linux/build');

/** Where the guest is: a local build when there is one, else the committed files. */
export function linuxDir() {
  const built = process.env.REWIND_LINUX_DIR ?? join(root, '.cache/linux');
  return existsSync(join(built, FILES.kernel)) ? built : COMMITTED_LINUX_DIR;
}

/**
 * The built guest: its manifest and the files it names (served name →
 * path), or null when no kernel has been built.
 */
export function linuxGuest(dir = linuxDir()) {
  if (!existsSync(join(dir, FILES.kernel))) return null;
  const manifest = {};
  const files = new Map();
  for (const [role, name] of Object.entries(FILES)) {
    const path = join(dir, name);
    if (!existsSync(path)) continue;
    manifest[role] = name;
    files.set(name, path);
  }
  return { manifest, files };
}

/**
 * Answers a request for `name` (the part of the URL after linux/) from the
 * built guest; returns false when there is no such file, so the caller
 * answers 404 its own way.
 */
export function sendLinuxFile(name, req, res) {
  const guest = linuxGuest();
  if (!guest) return false;
  const head = req.method === 'HEAD';
  if (name === 'manifest.json') {
    const body = JSON.stringify(guest.manifest);
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-cache',
    });
    res.end(head ? undefined : body);
    return true;
  }
  const path = guest.files.get(name);
  if (!path) return false;
  res.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': statSync(path).size,
    'cache-control': 'no-cache',
  });
  if (head) res.end();
  // A read error (the file removed meanwhile) cuts this answer short, and nothing else.
  else
    createReadStream(path)
      .on('error', () => res.destroy())
      .pipe(res);
  return true;
}

/** Vite plugin: linux/… in the dev and preview servers, and in the build output. */
export function linuxAssets() {
  const middleware = (req, res, next) => {
    const name = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\//, '');
    if (!sendLinuxFile(name, req, res)) next();
  };
  return {
    name: 'rewind-linux-assets',
    configureServer(server) {
      server.middlewares.use('/linux', middleware);
    },
    configurePreviewServer(server) {
      server.middlewares.use('/linux', middleware);
    },
    generateBundle() {
      const guest = linuxGuest();
      if (!guest) return;
      this.emitFile({ type: 'asset', fileName: 'linux/manifest.json', source: JSON.stringify(guest.manifest) });
      for (const [name, path] of guest.files)
        this.emitFile({ type: 'asset', fileName: `linux/${name}`, source: readFileSync(path) });
    },
  };
}
