/** The time-travel commands as a user runs them, and hostile .vmi files. */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readVmi, writeVmi } from '../../storage/index.js';
import { ROOT } from '../support/manifest.js';
import { expected, guest, rewind, tempDir } from '../support/cli.js';

const dir = tempDir();
const vmi = join(dir, 'crash.vmi');
const crashOut = readFileSync(expected('default-crash.out'), 'latin1');

describe('record, replay, state, fork, diff, info', () => {
  it('record prints what run prints, exits the same, and writes a .vmi', () => {
    const r = rewind(['record', guest('default'), '-o', vmi, '--input-file', expected('default-crash.in')]);
    expect(r.status).toBe(3);
    expect(r.stdout).toBe(crashOut);
  });

  it('replay (in another process) prints the same output again and verifies', () => {
    const r = rewind(['replay', vmi, '--verify']);
    expect(r.stdout).toBe(crashOut);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/verified \d+ checkpoints/);
  });

  it('run accepts a .vmi', () => {
    const r = rewind(['run', vmi]);
    expect(r.stdout).toBe(crashOut);
    expect(r.status).toBe(3);
  });

  it('state of the ELF and of the .vmi agree at any position', () => {
    for (const at of [0, 1, 777, 5000, 9999]) {
      const a = JSON.parse(
        rewind(['state', guest('default'), '--at', String(at), '--input-file', expected('default-crash.in')]).stdout,
      );
      const b = JSON.parse(rewind(['state', vmi, '--at', String(at)]).stdout);
      expect(b).toEqual(a);
      expect(a.position).toBe(at);
      expect(a.x).toHaveLength(32);
      expect(typeof a.pc).toBe('number');
      expect(typeof a.csr.mstatus).toBe('number');
      expect(a.hash).toMatch(/^[0-9a-f]{32}$/);
    }
  });

  it('an input event at N: the state at N is before it, and a fork at N has none of it (docs/determinism.md)', () => {
    const echoVmi = join(dir, 'echo.vmi');
    const input = join(dir, 'one.in');
    writeFileSync(input, 'one\nquit\n');
    expect(rewind(['record', guest('echo'), '-o', echoVmi, '--input-file', input]).status).toBe(0);
    const events = readVmi(new Uint8Array(readFileSync(echoVmi))).timeline.branches['b0']!.events;
    const mark = events[0]!.position;
    const other = join(dir, 'xyz.in');
    writeFileSync(other, 'xyz\nquit\n');
    const forked = join(dir, 'echo-fork.vmi');
    const f = rewind(['fork', echoVmi, '--at', String(mark), '--input-file', other, '--name', 'xyz', '-o', forked]);
    expect(f.status).toBe(0);
    // The guest echoes what it reads: the new input alone.
    expect(f.stdout.startsWith('xyz')).toBe(true);
    expect(f.stdout).not.toContain('one');
    const state = (branch: string, at: number) =>
      JSON.parse(rewind(['state', forked, '--branch', branch, '--at', String(at)]).stdout);
    expect(state('xyz', mark).hash).toBe(state('main', mark).hash);
    expect(state('xyz', mark + 1).hash).not.toBe(state('main', mark + 1).hash);
    expect(rewind(['diff', forked, `main:${mark}`, `xyz:${mark}`]).stdout).toContain('identical');
  });

  it('fork of a guest that waits for input it never gets ends at once with 125, as run does', () => {
    const waiting = join(dir, 'waiting.vmi');
    expect(rewind(['record', guest('echo'), '-o', waiting]).status).toBe(125);
    const f = rewind(['fork', waiting, '--at', '1000', '-o', join(dir, 'waiting-fork.vmi')], '', 30_000);
    expect(f.status).toBe(125);
    expect(f.stderr).toMatch(/waiting for input/);
  });

  it('fork adds a branch and keeps the original; info lists both; diff compares them', () => {
    const info0 = JSON.parse(rewind(['info', vmi, '--json']).stdout);
    const firstEvent = 2000;
    const input = join(dir, 'other.in');
    writeFileSync(input, 'look\nquit\n');
    const forked = join(dir, 'forked.vmi');
    const f = rewind([
      'fork',
      vmi,
      '--at',
      String(firstEvent),
      '--input-file',
      input,
      '--name',
      'polite',
      '-o',
      forked,
    ]);
    expect(f.status).toBe(0);
    const info = JSON.parse(rewind(['info', forked, '--json']).stdout);
    expect(info.branches).toHaveLength(2);
    const polite = info.branches.find((b: { name: string }) => b.name === 'polite');
    expect(polite).toMatchObject({ parent: 'main', forkPosition: firstEvent });
    expect(polite.length).toBeGreaterThan(0);
    const main = info.branches.find((b: { name: string }) => b.name === 'main');
    expect(main.length).toBe(info0.branches[0].length);
    expect(rewind(['replay', forked, '--branch', 'main']).stdout).toBe(crashOut);
    const politeOut = rewind(['replay', forked, '--branch', 'polite', '--verify']);
    expect(politeOut.status).toBe(0);
    expect(politeOut.stdout).not.toBe(crashOut);

    const d = JSON.parse(
      rewind(['diff', forked, `main:${firstEvent + 3000}`, `polite:${firstEvent + 3000}`, '--json']).stdout,
    );
    expect(d.a.hash).not.toBe(d.b.hash);
    expect(d.ram.length + d.registers.length).toBeGreaterThan(0);
    const same = rewind(['diff', forked, `main:${firstEvent}`, `polite:${firstEvent}`]);
    expect(same.stdout).toContain('identical');
  });

  it('a tampered recording makes --verify name the first bad checkpoint', () => {
    const rec = readVmi(new Uint8Array(readFileSync(vmi)));
    const cps = [...rec.checkpoints].sort((a, b) => a.position - b.position);
    const bad = cps[cps.length - 1]!;
    bad.stateHash = '0'.repeat(32);
    const tampered = join(dir, 'tampered.vmi');
    writeFileSync(tampered, writeVmi(rec));
    const r = rewind(['replay', tampered, '--verify']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`position ${bad.position}`);
  });
});

describe('damaged or hostile .vmi files end in one clear line', () => {
  const variants: [string, (b: Buffer) => Buffer][] = [
    [
      'flipped byte in a chunk',
      (b) => {
        const c = Buffer.from(b);
        c[100]! ^= 0x40; // the first chunk: the header is 80 bytes
        return c;
      },
    ],
    [
      'flipped byte in the index',
      (b) => {
        const c = Buffer.from(b);
        c[c.length - 10]! ^= 0x40;
        return c;
      },
    ],
    ['truncated', (b) => b.subarray(0, b.length - 100)],
    [
      'wrong magic',
      (b) => {
        const c = Buffer.from(b);
        c.write('NOTAVMI!', 0);
        return c;
      },
    ],
    [
      'version 999',
      (b) => {
        const c = Buffer.from(b);
        c.writeUInt16LE(999, 8);
        return c;
      },
    ],
    ['empty', () => Buffer.alloc(0)],
    ['random bytes', () => Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 2654435761) >>> 24))],
  ];
  it.each(variants)('%s', (name, damage) => {
    const path = join(dir, 'damaged.vmi');
    writeFileSync(path, damage(readFileSync(vmi)));
    if (name === 'flipped byte in a chunk') {
      // info reads the header and index alone; a bad chunk shows when it is read, and --verify reads them all.
      expect(rewind(['info', path]).status).toBe(0);
      const r = rewind(['replay', path, '--verify']);
      expect(r.status).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/damaged\.vmi: page [0-9a-f]{32}/);
      return;
    }
    for (const args of [
      ['info', path],
      ['replay', path],
      ['state', path, '--at', '10'],
    ]) {
      // Never a hang: a command killed by the timeout has no exit status.
      const r = rewind(args, undefined, 20_000);
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/damaged\.vmi/);
      expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
    }
  });
});

describe('writing a .vmi', () => {
  it('killing the writer mid-write leaves the previous file whole', async () => {
    const target = join(dir, 'atomic.vmi');
    writeFileSync(target, readFileSync(vmi));
    const script = `
      import { writeFileAtomic } from ${JSON.stringify(join(ROOT, 'dist/storage/node.js'))};
      const big = new Uint8Array(64 << 20).fill(7);
      process.stdout.write('go\\n');
      for (;;) await writeFileAtomic(${JSON.stringify(target)}, big);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    await new Promise((r) => setTimeout(r, 150));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const now = readFileSync(target);
    // Either the old recording, still valid, or a complete new file: never a mix.
    if (now.length !== 64 << 20) expect(() => readVmi(new Uint8Array(now))).not.toThrow();
    else expect(now.length === 64 << 20 && now.every((b) => b === 7)).toBe(true);
  });
});

describe('version 1 files, written before the index', () => {
  const v1 = (name: string) => join(ROOT, 'tests/fixtures/vmi-v1', name);
  // State hashes that Rewind computed from these files when it wrote version 1.
  it.each([
    ['bench-25m.vmi', 'main', 22_000_000, 'c9650e3e3554b3569db94bcfd88f785e'],
    ['echo-fork.vmi', 'other', 250_000, 'd293bb6a1c8be54129e068b01f318b7e'],
    ['echo-fork.vmi', 'main', 150_000, 'bc92187f6d8a1642bbf6c1b59f484c5b'],
    ['virtio-disk.vmi', 'main', 5_000, '94f680440fefe3ac7b1b4ec70d917f53'],
  ])('%s seeks to %s:%i as it did', (name, branch, at, hash) => {
    const r = rewind(['state', v1(name), '--branch', branch, '--at', String(at)]);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).hash).toBe(hash);
  });

  it('info, replay --verify, and a fork saved in the current version', () => {
    expect(JSON.parse(rewind(['info', v1('echo-fork.vmi'), '--json']).stdout).branches).toHaveLength(2);
    expect(rewind(['replay', v1('bench-25m.vmi'), '--verify']).stderr).toMatch(/verified 4 checkpoints/);
    const out = join(dir, 'from-v1.vmi');
    const f = rewind(['fork', v1('echo-fork.vmi'), '--at', '60000', '--name', 'third', '-o', out], 'sum 2 3\n');
    expect(f.status).toBe(125);
    expect(readFileSync(out).readUInt16LE(8)).toBe(3);
    const again = rewind(['state', out, '--branch', 'other', '--at', '250000']);
    expect(JSON.parse(again.stdout).hash).toBe('d293bb6a1c8be54129e068b01f318b7e');
  });
});

describe('record under a budget', () => {
  it('keeps the file within --budget, leaves no store behind, and info says what a seek costs', () => {
    const out = join(dir, 'budget.vmi');
    const free = join(dir, 'no-budget.vmi');
    const record = (path: string, ...budget: string[]) =>
      rewind(['record', guest('memops'), '-o', path, '--max-instructions', '200000000', ...budget], '2000\n', 120_000);
    expect(record(free).status).toBe(124);
    expect(record(out, '--budget', '128K').status).toBe(124);
    expect(readFileSync(free).length).toBeGreaterThan(128 << 10);
    expect(readFileSync(out).length).toBeLessThanOrEqual(128 << 10);
    expect(readdirSync(dir).filter((n) => n.includes('.rewind-'))).toEqual([]);
    const info = JSON.parse(rewind(['info', out, '--json']).stdout);
    const main = info.branches[0];
    expect(main.checkpoints).toBeLessThan(JSON.parse(rewind(['info', free, '--json']).stdout).branches[0].checkpoints);
    // Dense near the end, sparse before: a seek near the end replays less than one far back.
    const costs = main.seekCost as { within: number; replay: number }[];
    expect(costs[0]!.within).toBe(1e8 > main.end ? main.end : 1e8);
    expect(costs.at(-1)!.replay).toBeGreaterThanOrEqual(costs[0]!.replay);
    expect(rewind(['info', out]).stdout).toMatch(/a seek replays at most: [0-9.]+[kMG]? instructions/);
    expect(rewind(['replay', out, '--verify']).status).toBe(0);
  });

  it('records from a process started with flags its page store’s thread must not take (`node --input-type=module -e`)', () => {
    const out = join(dir, 'from-eval.vmi');
    const input = join(dir, 'two');
    // Two rounds of the page-dirtying guest store some 12,000 pages: the page store starts its thread.
    writeFileSync(input, '2\n');
    const main = JSON.stringify(join(ROOT, 'dist/cli/rewind.js'));
    const r = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { main } = await import(${main}); process.exitCode = await main(process.argv.slice(1));`,
        'record',
        guest('dirty'),
        '--input-file',
        input,
        '-o',
        out,
      ],
      { encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(rewind(['replay', out, '--verify']).stderr).toMatch(/verified 2 checkpoints/);
  });

  it('says when a budget is below what the recording must keep', () => {
    const out = join(dir, 'tiny-budget.vmi');
    const r = rewind(['record', guest('hello'), '-o', out, '--budget', '1K']);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/the recording takes [0-9.]+ KiB, over the --budget of 1.0 KiB/);
    expect(rewind(['replay', out, '--verify']).status).toBe(0);
    const roomy = rewind(['record', guest('hello'), '-o', out, '--budget', '64M']);
    expect(roomy.stderr).not.toMatch(/budget/);
  });

  it('refuses a budget that is not a size', () => {
    const r = rewind(['record', guest('hello'), '-o', join(dir, 'x.vmi'), '--budget', 'lots']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--budget needs a size such as 512M or 2G, got "lots"/);
  });
});
