#!/usr/bin/env node
// A small static file server for the built web app (dist-web/), with no
// dependencies: `node src/web/serve.js [--port N] [--host H] [--dir D]`.
// Prints the URL it serves on. Port 0 picks a free port. Also importable:
// `const { url, close } = await serve({ dir, port: 0 })`. Also serves the
// built Linux guest under /linux/ (see linux-assets.js).
import { close, constants, createReadStream, fstat, open, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream';
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

/**
 * Sent with every answer (the worker's script too, which runs under its own
 * response's policy). Scripts only from this server, plus 'unsafe-eval' and
 * 'wasm-unsafe-eval' for the JIT, which compiles guest code to WebAssembly
 * modules (and with new Function where it cannot); inline styles for
 * the terminal and the components; connect-src open because ?guest=URL
 * loads a guest from anywhere.
 */
export const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': [
    "default-src 'self'",
    "script-src 'self' 'unsafe-eval' 'wasm-unsafe-eval'",
    "worker-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    'connect-src *',
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'self'",
  ].join('; '),
};

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Answers an error status in plain text, unless the answer has begun (then it can only be cut short). */
function fail(res, status, text) {
  if (res.headersSent) res.destroy();
  else res.writeHead(status, { 'content-type': 'text/plain' }).end(text);
}

/**
 * Sends the regular file `file`, checked on the opened descriptor so that
 * what is sent is what was checked; calls `missing` when there is no such
 * file (or it is a directory or a device). A read error ends the answer,
 * never the server.
 */
function sendFile(file, req, res, missing) {
  // Non-blocking: opening a FIFO must not tie up a thread waiting for a writer.
  open(file, constants.O_RDONLY | constants.O_NONBLOCK, (err, fd) => {
    if (err) {
      if (['ENOENT', 'ENOTDIR', 'EISDIR'].includes(err.code)) missing();
      else fail(res, 500, 'cannot read file');
      return;
    }
    fstat(fd, (err2, st) => {
      if (err2 || !st.isFile()) {
        close(fd, () => undefined);
        if (err2) fail(res, 500, 'cannot read file');
        else missing();
        return;
      }
      res.writeHead(200, {
        'content-type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
        'content-length': st.size,
        'cache-control': 'no-cache',
      });
      if (req.method === 'HEAD' || st.size === 0) {
        close(fd, () => undefined);
        res.end();
        return;
      }
      // No more than content-length, even if the file grows meanwhile.
      pipeline(createReadStream('', { fd, start: 0, end: st.size - 1 }), res, () => undefined);
    });
  });
}

/** Serves `dir` on `host:port`; resolves with the URL once listening. */
export function serve({ dir = join(root, 'dist-web'), port = 5173, host = '127.0.0.1' } = {}) {
  const base = resolve(dir);
  const notFound = (res) => fail(res, 404, 'not found');
  const server = createServer((req, res) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    let path;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      res.writeHead(400).end('bad request');
      return;
    }
    const file = normalize(join(base, path));
    if (file !== base && !file.startsWith(base + sep)) {
      res.writeHead(403).end('forbidden');
      return;
    }
    let target = file;
    try {
      if (statSync(file).isDirectory()) target = join(file, 'index.html');
    } catch {
      // Missing: sendFile finds that out too, and answers it.
    }
    sendFile(target, req, res, () => {
      // The Linux guest, when built, even if this build of the app did not copy it.
      try {
        if (path.startsWith('/linux/') && sendLinuxFile(path.slice('/linux/'.length), req, res)) return;
      } catch {
        fail(res, 500, 'cannot read file');
        return;
      }
      notFound(res);
    });
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
