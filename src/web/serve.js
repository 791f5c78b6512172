#!/usr/bin/env node
// A small static file server for the built web app (dist-web/), with no
// dependencies: `node src/web/serve.js [--port N] [--host H] [--dir D]`.
// Prints the URL it serves on. Port 0 picks a free port. Also importable:
// `const { url, close } = await serve({ dir, port: 0 })`. Also serves the
// built Linux guest under /linux/ (see linux-assets.js).
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sendLinuxFile } from './linux-assets.js';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Serves `dir` on `host:port`; resolves with the URL once listening. */
export function serve({ dir = join(root, 'dist-web'), port = 5173, host = '127.0.0.1' } = {}) {
  const base = resolve(dir);
  const server = createServer((req, res) => {
    let path;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      res.writeHead(400).end('bad request');
      return;
    }
    let file = normalize(join(base, path));
    if (file !== base && !file.startsWith(base + sep)) {
      res.writeHead(403).end('forbidden');
      return;
    }
    let st;
    try {
      st = statSync(file);
      if (st.isDirectory()) {
        file = join(file, 'index.html');
        st = statSync(file);
      }
    } catch {
      // The Linux guest, when built, even if this build of the app did not copy it.
      if (path.startsWith('/linux/') && sendLinuxFile(path.slice('/linux/'.length), req, res)) return;
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'content-length': st.size,
      'cache-control': 'no-cache',
    });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const addr = server.address();
      const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
      resolvePromise({
        url: `http://${shown}:${addr.port}/`,
        port: addr.port,
        close: () => new Promise((r) => server.close(() => r(undefined))),
      });
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (name, fallback) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
  };
  const dir = resolve(opt('dir', join(root, 'dist-web')));
  try {
    statSync(join(dir, 'index.html'));
  } catch {
    console.error(`error: ${dir}/index.html not found; build the app first (npx vite build)`);
    process.exit(1);
  }
  serve({ dir, port: Number(opt('port', process.env.PORT ?? 5173)), host: opt('host', '127.0.0.1') }).then(
    ({ url }) => console.log(`Rewind is running at ${url}  (Ctrl-C to stop)`),
    (e) => {
      console.error(`error: ${e.message}`);
      process.exit(1);
    },
  );
}
