/** Starting `rewind gdb` as a user would, and talking to it: gdb-multiarch in batch mode or raw bytes. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../support/manifest.js';

/** Whether gdb-multiarch is installed; in CI its absence is a failure, elsewhere a skip. */
export function gdbAvailable(): boolean {
  const r = spawnSync('gdb-multiarch', ['--version'], { encoding: 'utf8' });
  const ok = r.status === 0;
  if (!ok && !process.env['CI']) {
    process.stderr.write(
      'tests/gdb: gdb-multiarch is not installed; skipping the gdb tests (apt-get install gdb-multiarch)\n',
    );
  }
  return ok;
}

export interface Stub {
  port: number;
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Ends the stub (SIGTERM) and resolves with its exit status. */
  stop(): Promise<number | null>;
  /** Resolves with the exit status once the stub exits by itself. */
  exited(): Promise<number | null>;
}

export async function startStub(args: string[]): Promise<Stub> {
  const proc = spawn(process.execPath, [join(ROOT, 'bin/rewind.js'), 'gdb', ...args, '--port', '0'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (b: Buffer) => (out += b.toString('latin1')));
  proc.stderr!.on('data', (b: Buffer) => (err += b.toString('utf8')));
  const exit = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`stub did not start: ${err}`)), 20_000);
    const look = () => {
      const m = /gdb stub listening on 127\.0\.0\.1:(\d+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    proc.stderr!.on('data', look);
    void exit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`stub exited with ${code}: ${err}`));
    });
  });
  return {
    port,
    proc,
    stdout: () => out,
    stderr: () => err,
    stop: async () => {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      return exit;
    },
    exited: () => exit,
  };
}

/**
 * Runs gdb-multiarch in batch mode against the stub with these commands
 * (each as its own -ex, so that one failing command, such as a reverse
 * step at the beginning of history, does not end the script); returns its output.
 */
export function runGdb(port: number, elf: string, commands: string[], timeoutMs = 90_000): string {
  const all = [
    'set architecture riscv:rv32',
    'set pagination off',
    'set confirm off',
    `target remote 127.0.0.1:${port}`,
    ...commands,
  ];
  // stdout and stderr into one file, so that messages stay in order with the echoed markers.
  const file = join(mkdtempSync(join(tmpdir(), 'rewind-gdb-')), 'gdb.out');
  const fd = openSync(file, 'w');
  try {
    const r = spawnSync('gdb-multiarch', ['-batch', '-nx', ...all.flatMap((c) => ['-ex', c]), elf], {
      stdio: ['ignore', fd, fd],
      timeout: timeoutMs,
      cwd: ROOT,
    });
    if (r.error) throw r.error;
  } finally {
    closeSync(fd);
  }
  return readFileSync(file, 'utf8');
}

/** The register values gdb printed with `info registers`: name → value. */
export function parseRegisters(text: string): Map<string, number> {
  const regs = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\w+)\s+0x([0-9a-f]+)\s/.exec(line);
    if (m) regs.set(m[1]!, parseInt(m[2]!, 16));
  }
  return regs;
}

/** The text between two marker lines (printed with `echo`). */
export function between(text: string, from: string, to: string): string {
  const a = text.indexOf(from);
  const b = text.indexOf(to, a + from.length);
  if (a < 0 || b < 0) throw new Error(`markers ${from}..${to} not found in:\n${text}`);
  return text.slice(a + from.length, b);
}

/** A raw protocol client: bytes out, bytes in, with waits that time out instead of hanging. */
export class RawClient {
  private buffer = '';
  private closed = false;
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (b: Buffer) => {
      this.buffer += b.toString('latin1');
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  write(data: string | Uint8Array): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Sends a well-formed packet. */
  send(data: string): void {
    let sum = 0;
    for (let i = 0; i < data.length; i++) sum = (sum + data.charCodeAt(i)) & 0xff;
    this.write(`$${data}#${sum.toString(16).padStart(2, '0')}`);
  }

  /** Waits for the next complete reply packet (skipping acks); returns its data. */
  async reply(timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.buffer = this.buffer.replace(/^[+-]+/, '');
      const m = /^\$([^#]*)#([0-9a-f]{2})/.exec(this.buffer);
      if (m) {
        this.buffer = this.buffer.slice(m[0].length);
        this.write('+');
        return m[1]!;
      }
      if (this.closed) throw new Error('connection closed while waiting for a reply');
      if (Date.now() > deadline)
        throw new Error(`no reply within ${timeoutMs} ms (have ${JSON.stringify(this.buffer)})`);
      await this.wait(deadline - Date.now());
    }
  }

  /** Waits until the raw input starts with `prefix` (e.g. "-" or "+"), consuming it. */
  async expectRaw(prefix: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.buffer.length < prefix.length) {
      if (this.closed || Date.now() > deadline)
        throw new Error(`expected ${JSON.stringify(prefix)}, have ${JSON.stringify(this.buffer)}`);
      await this.wait(deadline - Date.now());
    }
    if (!this.buffer.startsWith(prefix))
      throw new Error(`expected ${JSON.stringify(prefix)}, have ${JSON.stringify(this.buffer)}`);
    this.buffer = this.buffer.slice(prefix.length);
  }

  /** Sends a packet and returns the reply. */
  async ask(data: string, timeoutMs?: number): Promise<string> {
    this.send(data);
    return this.reply(timeoutMs);
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, Math.max(1, ms));
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** The position `monitor where` printed in a stretch of gdb's output. */
export const positionOf = (text: string): number => Number(/position (\d+) of/.exec(text)![1]);
