/**
 * The CLI's contract with bad input: exit status 2 and one line on stderr
 * (`rewind: <what is wrong>`), quickly, never a stack trace, never exit 70,
 * never unbounded memory, nothing lost. A hang or a runaway is caught by the
 * child's timeout: a killed child has no exit status, so the status check fails.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Session } from '../../session/session.js';
import { readVmi } from '../../storage/index.js';
import { alterState, checkpointAt, craftVmi } from '../support/craft.js';
import { guest, tempDir } from '../support/cli.js';
import { ROOT } from '../support/manifest.js';

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI (as `nobody` when `unprivileged` and we are root, so that file permissions apply). */
function cli(args: string[], options: { input?: string; unprivileged?: boolean; cwd?: string } = {}): Result {
  const asNobody = options.unprivileged && process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/rewind.js'), ...args], {
    input: options.input ?? '',
    timeout: 30_000,
    maxBuffer: 16 << 20,
    cwd: options.cwd ?? ROOT,
    ...asNobody,
  });
  return { status: r.status, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
}

/** Exit 2, exactly one `rewind: ` line on stderr matching `message`, no stack trace. */
function expectRefused(r: Result, message: RegExp): void {
  expect(r.stderr).toMatch(message);
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/^rewind: [^\n]*\n$/);
  expect(r.stderr).not.toMatch(/internal error|\bat .*\.js:\d+/);
}

const dir = tempDir();
// Readable and writable by `nobody` too (the read-only disk case runs as nobody when we are root).
chmodSync(dir, 0o777);
const hello = join(dir, 'hello.vmi');
const virtio = join(dir, 'virtio.vmi');
let end = 0;

beforeAll(() => {
  expect(cli(['record', guest('hello'), '-o', hello]).status).toBe(0);
  const disk = join(dir, 'disk.img');
  copyFileSync(join(ROOT, 'guests/virtio/disk.img'), disk);
  expect(cli(['record', guest('virtio'), '--disk', disk, '-o', virtio]).status).toBe(0);
  end = Math.max(...readVmi(new Uint8Array(readFileSync(hello))).checkpoints.map((c) => c.position));
});

describe('1. only regular files are read', () => {
  const fifo = join(dir, 'fifo');
  const fifoVmi = join(dir, 'fifo.vmi');
  const zeroVmi = join(dir, 'zero.vmi');
  const huge = join(dir, 'huge.bin');
  beforeAll(() => {
    execFileSync('mkfifo', [fifo]);
    execFileSync('mkfifo', [fifoVmi]);
    symlinkSync('/dev/zero', zeroVmi);
    // Sparse: 2 GiB + 1 bytes on paper, nothing on disk.
    writeFileSync(huge, '');
    truncateSync(huge, 2 ** 31 + 1);
  });
  const specials = ['/dev/zero', '/dev/urandom', fifo, '/dev/stdin'];
  const roles: [string, (f: string) => string[]][] = [
    ['the program', (f) => ['run', f]],
    ['the .vmi', (f) => ['info', f]],
    ['--disk', (f) => ['run', guest('virtio'), '--disk', f]],
    ['--input-file', (f) => ['run', guest('echo'), '--input-file', f]],
  ];
  for (const [role, args] of roles) {
    it.each(specials)(`refuses %s as ${role}`, (file) => {
      const r = cli(args(file));
      expectRefused(r, /(is a (device|pipe), )?not a regular file/);
      expect(r.stdout).toBe('');
    });
  }

  it('refuses a FIFO or a device named .vmi wherever a recording is read', () => {
    for (const file of [fifoVmi, zeroVmi]) {
      for (const args of [
        ['run', file],
        ['replay', file],
        ['state', file, '--at', '1'],
        ['fork', file, '--at', '1', '-o', join(dir, 'f.vmi')],
        ['gdb', file, '--port', '0'],
      ]) {
        expectRefused(cli(args), /is a (device|pipe), not a regular file/);
      }
    }
  });

  it('refuses a file over the size limit before reading it', () => {
    expectRefused(cli(['run', guest('echo'), '--input-file', huge]), /input file .* is too large \(2147483649 bytes/);
  });
});

describe('2. command and option names that are JavaScript built-ins are unknown', () => {
  it.each(['constructor', 'toString', '__proto__', 'valueOf', 'hasOwnProperty', 'isPrototypeOf'])(
    'rewind %s',
    (name) => {
      expectRefused(cli([name]), new RegExp(`unknown command "${name}"`));
    },
  );
  it.each(['--constructor', '--__proto__', '--toString', '--hasOwnProperty=1'])('rewind run prog %s', (flag) => {
    expectRefused(cli(['run', guest('hello'), flag]), /unknown option --/);
  });
});

describe('3. usage', () => {
  it('with no arguments: a one-line usage on stderr, exit 2', () => {
    const r = cli([]);
    expectRefused(r, /^rewind: usage: rewind <command>.*run, record, replay/);
    expect(r.stdout).toBe('');
  });
  it.each([['--help'], ['help'], ['-h']])('rewind %s: usage on stdout, exit 0', (arg) => {
    const r = cli([arg]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^usage: rewind <command>/);
    expect(r.stdout).toContain('rewind record');
    expect(r.stderr).toBe('');
  });
});

describe('4. a checkpoint that does not match its state hash is refused', () => {
  // Opening a recording does not restore its first checkpoint (the machine is at reset already): diff END 0 seeks back to it.
  const cases: [string, (path: string) => string, string[]][] = [
    [
      'a register changed at the first checkpoint',
      (p) =>
        craftVmi(hello, p, (rec) =>
          alterState(checkpointAt(rec), (s) => {
            (s['cpu'] as { x: Int32Array }).x[10] ^= 1;
          }),
        ),
      ['diff', 'END', '0'],
    ],
    [
      'the pc changed at the last checkpoint',
      (p) =>
        craftVmi(hello, p, (rec) =>
          alterState(checkpointAt(rec, end), (s) => {
            (s['cpu'] as { pc: number }).pc += 4;
          }),
        ),
      ['state', '--at', 'END'],
    ],
    [
      'a RAM page dropped from the first checkpoint',
      (p) =>
        craftVmi(hello, p, (rec) => {
          const cp = checkpointAt(rec);
          cp.ram = new Map([...cp.ram].slice(1));
        }),
      ['diff', 'END', '0'],
    ],
  ];
  it.each(cases)('%s', (_name, craft, args) => {
    const path = craft(join(dir, 'tampered.vmi'));
    const [command, ...rest] = args;
    const r = cli([command!, path, ...rest.map((a) => (a === 'END' ? String(end) : a))]);
    expectRefused(
      r,
      /tampered\.vmi: checkpoint [0-9a-f]{32} at position \d+ does not match its state hash|^rewind: checkpoint [0-9a-f]{32} at position \d+ does not match its state hash/,
    );
    expect(r.stdout).toBe('');
  });

  it('verifyStored finds the bad checkpoint without touching the machine, and passes a good file', () => {
    const good = Session.open(readVmi(new Uint8Array(readFileSync(hello))));
    const calls: number[] = [];
    expect(good.checkpoints.verifyStored((done, total) => void calls.push(done, total))).toBeNull();
    expect(calls).toEqual([1, 2, 2, 2]);
    const path = craftVmi(hello, join(dir, 'late.vmi'), (rec) =>
      alterState(checkpointAt(rec, end), (s) => {
        (s['cpu'] as { pc: number }).pc += 4;
      }),
    );
    const bad = Session.open(readVmi(new Uint8Array(readFileSync(path))));
    const before = bad.machine.cpu.pc;
    const found = bad.checkpoints.verifyStored();
    expect(found?.checkpoint.position).toBe(end);
    expect(found?.error.code).toBe('bad-vmi');
    expect(found?.error.message).toMatch(
      new RegExp(`checkpoint ${found?.checkpoint.id} at position ${end} does not match its state hash`),
    );
    expect(bad.machine.cpu.pc).toBe(before);
    // Stopped by its progress callback after the first: nothing bad seen yet.
    expect(bad.checkpoints.verifyStored(() => false)).toBeNull();
  });
});

describe('5. impossible machines and incomplete checkpoints', () => {
  type Recording = ReturnType<typeof readVmi>;
  const late = (alter: (s: Record<string, unknown>) => void) => (rec: Recording) =>
    alterState(checkpointAt(rec, end), alter);
  const opening = (path: string) => [
    ['info', path],
    ['run', path],
  ];
  // The last checkpoint is restored when a state near the end is asked for.
  const restoring = (path: string) => [['state', path, '--at', String(end)]];
  const cases: [string, string, (rec: Recording) => void, (path: string) => string[][], RegExp][] = [
    [
      'a 16 GiB disk',
      'virtio',
      (rec) => void (rec.config.diskSize = 16 * 2 ** 30),
      opening,
      /disk size is 17179869184, more than the limit/,
    ],
    [
      '1 TiB of RAM',
      'hello',
      (rec) => void (rec.config.ramSize = 2 ** 40),
      opening,
      /RAM size is 1099511627776, more than the limit/,
    ],
    [
      '2 GiB of RAM, which the checkpoints do not describe',
      'hello',
      (rec) => void (rec.config.ramSize = 2 ** 31),
      restoring,
      /does not match its state hash/,
    ],
    ['a checkpoint without CPU state', 'hello', late((s) => delete s['cpu']), opening, /has no CPU state/],
    ['a checkpoint without device state', 'hello', late((s) => delete s['devices']), opening, /has no devices state/],
    [
      'a checkpoint with empty CPU state',
      'hello',
      late((s) => void (s['cpu'] = {})),
      restoring,
      /checkpoint [0-9a-f]{32} at position \d+: .*cpu/,
    ],
  ];
  it.each(cases)('%s', (_name, from, alter, commands, message) => {
    const path = craftVmi(from === 'hello' ? hello : virtio, join(dir, 'crafted.vmi'), alter);
    for (const args of commands(path)) {
      const r = cli(args);
      expectRefused(r, message);
      expect(r.stdout).toBe('');
    }
  });
});

describe('6. names from the file cannot drive the terminal', () => {
  const evil = 'x\x1b]0;owned\x07\x1b]52;c;cm0gLXJmIH4=\x07\x9b31m\x7f\u2028\u202e\\y';
  let path = '';
  beforeAll(() => {
    path = craftVmi(hello, join(dir, 'evil.vmi'), (rec) => {
      const main = Object.values(rec.timeline.branches)[0]!;
      main.name = evil;
      main.bookmarks.push({ name: evil, position: 1 });
      // The patch log would have to fold to the renamed branch; it is optional.
      rec.timelineLog = null;
    });
  });
  // eslint-disable-next-line no-control-regex -- what must not reach the terminal
  const unsafe = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e]/;

  it('info prints them escaped', () => {
    const r = cli(['info', path]);
    expect(r.status).toBe(0);
    expect(r.stdout).not.toMatch(unsafe);
    expect(r.stdout).toContain('x\\x1b]0;owned\\x07\\x1b]52;c;cm0gLXJmIH4=\\x07\\x9b31m\\x7f\\u2028\\u202e\\\\y');
  });

  it('info --json stays JSON with the same names, every control character escaped', () => {
    const r = cli(['info', path, '--json']);
    expect(r.status).toBe(0);
    expect(r.stdout).not.toMatch(unsafe);
    const info = JSON.parse(r.stdout);
    expect(info.branches[0].name).toBe(evil);
    expect(info.branches[0].bookmarks[0].name).toBe(evil);
  });

  it('diff prints them escaped, in text and in JSON', () => {
    const text = cli(['diff', path, '0', String(end)]);
    expect(text.status).toBe(0);
    expect(text.stdout).toContain('x\\x1b]0;owned');
    expect(text.stdout).not.toMatch(unsafe);
    const json = cli(['diff', path, '0', String(end), '--json']);
    expect(json.status).toBe(0);
    expect(json.stdout).not.toMatch(unsafe);
    expect(JSON.parse(json.stdout).a.branch).toBe(evil);
  });

  it('an error message quoting a name from the file stays one escaped line', () => {
    const r = cli(['diff', path, 'nope\x1b]0;x\x07:0', '1']);
    expect(r.stderr).not.toMatch(unsafe);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^rewind: [^\n]*\n$/);
  });
});

describe('8. temporaries of an interrupted write', () => {
  const temps = (d: string) => readdirSync(d).filter((n) => n.endsWith('.tmp'));

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('are removed on %s, and the exit status is %i', async (signal, status) => {
    const d = tempDir();
    const target = join(d, 'out.vmi');
    // Signals itself as soon as its temporary exists, while the write is under way.
    const script = `
      import { readdirSync } from 'node:fs';
      import { writeFileAtomic } from ${JSON.stringify(join(ROOT, 'dist/storage/node.js'))};
      const watch = () => {
        if (readdirSync(${JSON.stringify(d)}).some((n) => n.endsWith('.tmp'))) process.kill(process.pid, '${signal}');
        else setImmediate(watch);
      };
      setImmediate(watch);
      await writeFileAtomic(${JSON.stringify(target)}, new Uint8Array(256 << 20));
      console.log('the write finished before the signal');
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    clearTimeout(timer);
    expect(out).toBe('');
    expect(code).toBe(status);
    expect(temps(d)).toEqual([]);
    expect(existsSync(target)).toBe(false);
  });

  it('stale ones of dead processes are swept by the next write; live ones and others are kept', () => {
    const d = tempDir();
    // A pid that is not alive: beyond pid_max.
    const dead = `.out.vmi.rewind-${2 ** 22 + 1}-0.tmp`;
    const live = `.out.vmi.rewind-${process.pid}-0.tmp`;
    const other = '.notes.txt.123.tmp';
    for (const name of [dead, live, other]) writeFileSync(join(d, name), 'partial');
    expect(cli(['record', guest('hello'), '-o', join(d, 'out.vmi')]).status).toBe(0);
    expect(temps(d).sort()).toEqual([live, other].sort());
  });
});

describe('9. outputs are checked before the guest runs', () => {
  it.each([
    ['record', () => ['record', guest('hello'), '-o', join(dir, 'missing', 'out.vmi')]],
    ['fork', () => ['fork', hello, '--at', '10', '-o', join(dir, 'missing', 'out.vmi')]],
  ])('%s -o into a missing directory', (_name, args) => {
    const r = cli(args());
    expectRefused(r, /cannot write .*missing.*out\.vmi: directory .*missing: no such file/);
    expect(r.stdout).toBe('');
  });

  it('record -o onto a directory', () => {
    mkdirSync(join(dir, 'adir.vmi'), { recursive: true });
    expectRefused(cli(['record', guest('hello'), '-o', join(dir, 'adir.vmi')]), /it is a directory/);
  });

  it('run --write-disk on a read-only disk image', () => {
    const disk = join(dir, 'ro.img');
    copyFileSync(join(ROOT, 'guests/virtio/disk.img'), disk);
    chmodSync(disk, 0o444);
    const before = readFileSync(disk);
    const r = cli(['run', guest('virtio'), '--disk', disk, '--write-disk'], { unprivileged: true });
    expectRefused(r, /cannot write disk image .*ro\.img: permission denied/);
    // The guest never ran: it prints as soon as it starts.
    expect(r.stdout).toBe('');
    expect(readFileSync(disk).equals(before)).toBe(true);
  });
});

describe('10. the static server survives read errors', () => {
  it('answers a directory named index.html, a FIFO and a device with 404, sends nosniff and a CSP, and keeps serving', async () => {
    const site = tempDir();
    mkdirSync(join(site, 'index.html'));
    mkdirSync(join(site, 'sub'));
    writeFileSync(join(site, 'app.js'), 'export {};');
    execFileSync('mkfifo', [join(site, 'pipe')]);
    symlinkSync('/dev/zero', join(site, 'zero'));
    const server = spawn(process.execPath, [join(ROOT, 'src/web/serve.js'), '--dir', site, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const timer = setTimeout(() => server.kill('SIGKILL'), 60_000);
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        server.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          const m = /http:\/\/\S+\//.exec(out);
          if (m) resolve(m[0]);
        });
        server.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
      });
      for (const path of ['', 'index.html', 'sub/', 'pipe', 'zero', 'nothing-here']) {
        const r = await fetch(url + path);
        expect(r.status, path).toBe(404);
        expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      }
      const ok = await fetch(url + 'app.js');
      expect(ok.status).toBe(200);
      expect(await ok.text()).toBe('export {};');
      const csp = ok.headers.get('content-security-policy') ?? '';
      expect(csp).toMatch(/script-src 'self' 'unsafe-eval'/);
      expect(csp).toMatch(/object-src 'none'/);
      expect(server.exitCode).toBeNull();
    } finally {
      clearTimeout(timer);
      server.kill('SIGTERM');
    }
  });
});
