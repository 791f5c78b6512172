/**
 * gdb-multiarch against `rewind gdb`, in batch mode: forwards and backwards
 * through bundled guests, with registers checked against `rewind state`.
 * Skipped (with a message) when gdb-multiarch is missing, unless CI is set:
 * then its absence fails.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { guest, rewind, tempDir } from '../support/cli.js';
import { ROOT } from '../support/manifest.js';
import { readVmi } from '../../storage/index.js';
import { ABI_NAMES } from '../../src/gdb/registers.js';
import { between, gdbAvailable, positionOf, parseRegisters, runGdb, startStub, type Stub } from './support.js';

const HAVE_GDB = gdbAvailable();

function inputFile(text: string): string {
  const f = join(tempDir(), 'input.txt');
  writeFileSync(f, text);
  return f;
}

/** `rewind state` at a position, as registers by gdb's names. */
function stateAt(elf: string, input: string, position: number): Map<string, number> {
  const r = rewind(['state', elf, '--at', String(position), '--input-file', input]);
  expect(r.status, r.stderr).toBe(0);
  const s = JSON.parse(r.stdout) as { x: number[]; pc: number };
  const regs = new Map<string, number>(ABI_NAMES.map((n, i) => [n, s.x[i]!]));
  regs.set('pc', s.pc);
  return regs;
}

describe.skipIf(!HAVE_GDB && !process.env['CI'])('gdb-multiarch against rewind gdb', () => {
  let stub: Stub | null = null;
  afterEach(async () => {
    await stub?.stop();
    stub = null;
  });

  it('is installed (CI requires it)', () => {
    expect(HAVE_GDB, 'gdb-multiarch is required in CI (apt-get install gdb-multiarch)').toBe(true);
  });

  it('breaks in a function, steps, and reverse-steps back to identical registers that match rewind state', async () => {
    const elf = guest('default');
    const input = inputFile('e\nw\ne\nw\n');
    stub = await startStub([elf, '--input-file', input]);
    const out = runGdb(stub.port, elf, [
      'break go',
      'continue',
      'echo @@A\\n',
      'info registers',
      'monitor where',
      'echo @@B\\n',
      'stepi 7',
      'echo @@C\\n',
      'info registers',
      'monitor where',
      'echo @@D\\n',
      'reverse-stepi 7',
      'echo @@E\\n',
      'info registers',
      'monitor where',
      'echo @@F\\n',
    ]);
    expect(out).toMatch(/Breakpoint 1(\.1)?, go \(d=2\)/);
    const a = between(out, '@@A', '@@B');
    const c = between(out, '@@C', '@@D');
    const e = between(out, '@@E', '@@F');
    const regsA = parseRegisters(a);
    const regsE = parseRegisters(e);
    expect(regsA.size).toBeGreaterThanOrEqual(32); // ra..t6 and pc (gdb does not list zero)
    expect(regsE).toEqual(regsA);
    expect(positionOf(c)).toBe(positionOf(a) + 7);
    expect(positionOf(e)).toBe(positionOf(a));
    // What gdb shows is what `rewind state` says for that position.
    const state = stateAt(elf, input, positionOf(e));
    for (const [name, value] of regsE) expect(value, name).toBe(state.get(name));
    const stateC = stateAt(elf, input, positionOf(c));
    const regsC = parseRegisters(c);
    expect(regsC.size).toBeGreaterThanOrEqual(32);
    for (const [name, value] of regsC) expect(value, name).toBe(stateC.get(name));
  });

  it('reverse-continues to a breakpoint and to the store that last wrote a watched variable, and reverse-finishes', async () => {
    const elf = guest('default');
    stub = await startStub([elf, '--input-file', inputFile('e\nw\ne\nw\n')]);
    const out = runGdb(stub.port, elf, [
      'break go',
      'continue',
      'echo @@first\\n',
      'monitor where',
      'echo @@x\\n',
      'continue',
      'continue',
      'echo @@third\\n',
      'monitor where',
      'print P.moves',
      'echo @@y\\n',
      'reverse-continue',
      'echo @@back\\n',
      'monitor where',
      'echo @@z\\n',
      'continue',
      'watch P.moves',
      'reverse-continue',
      'echo @@watch\\n',
      'print P.moves',
      'x/i $pc',
      'monitor where',
      'echo @@w\\n',
      'delete',
      'break go',
      'continue',
      'reverse-finish',
      'echo @@finish\\n',
      'bt 1',
      'echo @@f\\n',
    ]);
    // Calls of go: e (d=2), w (d=3), e (d=2), w (d=3).
    const first = positionOf(between(out, '@@first', '@@x'));
    const third = between(out, '@@third', '@@y');
    expect(third).toContain('$1 = 2');
    // reverse-continue: back to the second call (d=3), not the first.
    const back = between(out, '@@back', '@@z');
    expect(out).toMatch(/Breakpoint 1(\.1)?, go \(d=3\)/);
    expect(positionOf(back)).toBeGreaterThan(first);
    expect(positionOf(back)).toBeLessThan(positionOf(third));
    // The watchpoint: from the third call back to the store of P.moves++ in the second, which wrote 2.
    expect(out).toMatch(/Hardware watchpoint 2: P\.moves\s+Old value = 2\s+New value = 1/);
    const watch = between(out, '@@watch', '@@w');
    expect(watch).toContain('$2 = 1');
    expect(watch).toMatch(/=> 0x[0-9a-f]+ <go\+\d+>:\s+sw\s/);
    expect(positionOf(watch)).toBeGreaterThan(positionOf(back));
    // reverse-finish goes back to the call in main.
    expect(between(out, '@@finish', '@@f')).toMatch(/#0\s+0x[0-9a-f]+ in main \(\)/);
  });

  it('reports the beginning of history, and forks when a register changes in the past', async () => {
    const elf = guest('hello');
    const dir = tempDir();
    const saved = join(dir, 'hello.vmi');
    stub = await startStub([elf, '--input-file', inputFile(''), '--save', saved]);
    const out = runGdb(stub.port, elf, [
      'reverse-stepi',
      'echo @@start\\n',
      'monitor where',
      'echo @@s\\n',
      'stepi 20',
      'monitor bookmark twenty',
      'reverse-stepi 10',
      'set $a5 = 0x1234',
      'echo @@fork\\n',
      'monitor where',
      'print/x $a5',
      'echo @@k\\n',
      'stepi 3',
      'monitor fork other',
      'monitor branches',
      `monitor save ${saved}`,
    ]);
    expect(out).toContain('No more reverse-execution history.');
    expect(between(out, '@@start', '@@s')).toMatch(/position 0 of 0/);
    const fork = between(out, '@@fork', '@@k');
    expect(fork).toMatch(/branch fork@10 \(b1\), position 10 of 10/);
    expect(fork).toContain('0x1234');
    expect(out).toMatch(/main \(b0\) from 0 to 20\s+bookmarks: twenty@20/);
    expect(out).toMatch(/\* other \(b2\) from 13 to 13/);
    expect(out).toMatch(/saved .*hello\.vmi/);
    const info = JSON.parse(rewind(['info', saved, '--json']).stdout) as { branches: { name: string; end: number }[] };
    expect(info.branches.map((b) => b.name)).toEqual(['main', 'fork@10', 'other']);
  });

  it('stops when the guest waits for input, and takes input typed with monitor type', async () => {
    const elf = guest('default');
    stub = await startStub([elf]);
    const out = runGdb(stub.port, elf, [
      'break go',
      'continue',
      'echo @@idle\\n',
      'monitor where',
      'echo @@i\\n',
      'monitor type e\\n',
      'continue',
      'echo @@go\\n',
      'monitor where',
      'echo @@g\\n',
    ]);
    expect(out).toMatch(/the guest is (waiting|polling) for input/);
    expect(out).toMatch(/Breakpoint 1(\.1)?, go \(d=2\)/);
    expect(positionOf(between(out, '@@go', '@@g'))).toBeGreaterThan(positionOf(between(out, '@@idle', '@@i')));
    await stub.stop();
    expect(stub.stdout()).toContain('THE VAULT OF REWIND');
    // Output is printed once, however often a seek replays it.
    expect(stub.stdout().split('THE VAULT OF REWIND').length).toBe(2);
  });

  it('an input event at N: a seek to N is before it, and a fork at N takes new input alone (docs/determinism.md)', async () => {
    const dir = tempDir();
    const vmi = join(dir, 'echo.vmi');
    expect(rewind(['record', guest('echo'), '-o', vmi, '--input-file', inputFile('one\nquit\n')]).status).toBe(0);
    const mark = readVmi(new Uint8Array(readFileSync(vmi))).timeline.branches['b0']!.events[0]!.position;
    const saved = join(dir, 'forked.vmi');
    stub = await startStub([vmi]);
    const out = runGdb(stub.port, guest('echo'), [
      `monitor seek ${mark}`,
      'monitor fork xyz',
      'monitor type xyz\\nquit\\n',
      'continue',
      `monitor save ${saved}`,
    ]);
    expect(out).toMatch(/powered off/);
    await stub.stop();
    // The stub prints the guest's new output: what it echoed of the new input, nothing of the old.
    expect(stub.stdout()).toContain('xyz');
    expect(stub.stdout()).not.toContain('one');
    const state = (branch: string, at: number) =>
      JSON.parse(rewind(['state', saved, '--branch', branch, '--at', String(at)]).stdout).hash;
    expect(state('xyz', mark)).toBe(state('main', mark));
    expect(state('xyz', mark + 1)).not.toBe(state('main', mark + 1));
  });

  it('debugs a recording: replays it backwards and forwards, and runs live past its end', async () => {
    const elf = guest('default');
    const vmi = join(tempDir(), 'two-moves.vmi');
    // Record through the stub: run until the guest waits for more input, then save.
    stub = await startStub([elf, '--input-file', inputFile('e\nw\n')]);
    const rec = runGdb(stub.port, elf, ['continue', `monitor save ${vmi}`]);
    expect(rec).toMatch(/saved .*two-moves\.vmi/);
    await stub.stop();
    const info = rewind(['info', vmi, '--json']);
    expect(info.status, info.stderr).toBe(0);
    const end = (JSON.parse(info.stdout) as { branches: { end: number }[] }).branches[0]!.end;
    stub = await startStub([vmi, '--input-file', inputFile('e\n')]);
    const out = runGdb(stub.port, elf, [
      'break go',
      'continue',
      'continue',
      'echo @@two\\n',
      'monitor where',
      'echo @@t\\n',
      'continue',
      'echo @@three\\n',
      'monitor where',
      'echo @@h\\n',
      'reverse-continue',
      'reverse-continue',
      'echo @@one\\n',
      'monitor where',
      'echo @@o\\n',
    ]);
    expect(out).toMatch(/Breakpoint 1(\.1)?, go \(d=3\)/);
    const two = positionOf(between(out, '@@two', '@@t'));
    expect(two).toBeLessThan(end);
    // The third call happens live, with the new input, past the recording's end.
    const three = positionOf(between(out, '@@three', '@@h'));
    expect(three).toBeGreaterThan(end);
    const one = positionOf(between(out, '@@one', '@@o'));
    expect(one).toBeLessThan(two);
    expect(out.match(/go \(d=2\)/g)!.length).toBe(3);
  });
});

const CC = 'riscv64-unknown-elf-gcc';
const HAVE_CC = spawnSync(CC, ['--version']).status === 0;
if (!HAVE_CC) process.stderr.write(`tests/gdb: ${CC} is not installed; skipping the user-built guest test\n`);

describe.skipIf(!HAVE_GDB || !HAVE_CC)('gdb-multiarch on a user-built guest', () => {
  it('debugs a guest built as the README says, forwards and backwards', async () => {
    const dir = tempDir();
    const src = join(dir, 'fib.c');
    writeFileSync(
      src,
      `#include "rt.h"
volatile unsigned last;
__attribute__((noinline)) unsigned fib(unsigned n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
int main(void) {
    for (unsigned i = 0; i < 12; i++) { last = fib(i); printf("fib(%u) = %u\\n", i, last); }
    return 0;
}
`,
    );
    const elf = join(dir, 'fib.elf');
    const common = join(ROOT, 'guests/common');
    const libgcc = spawnSync(CC, ['-march=rv32imac', '-mabi=ilp32', '-print-libgcc-file-name'], {
      encoding: 'utf8',
    }).stdout.trim();
    const cc = spawnSync(
      CC,
      [
        '-march=rv32imac_zicsr_zifencei',
        '-mabi=ilp32',
        '-mcmodel=medany',
        '-nostdlib',
        '-ffreestanding',
        '-fno-builtin',
        '-O1',
        '-g',
        `-I${common}`,
        '-T',
        join(common, 'link.ld'),
        '-Wl,--no-warn-rwx-segments',
        '-o',
        elf,
        join(common, 'crt0.S'),
        join(common, 'rt.c'),
        src,
        libgcc,
      ],
      { encoding: 'utf8' },
    );
    expect(cc.status, cc.stderr).toBe(0);
    const stub = await startStub([elf]);
    try {
      const out = runGdb(stub.port, elf, [
        'break main',
        'continue',
        'watch last',
        'continue',
        'continue',
        'continue',
        'echo @@fwd\\n',
        'print last',
        'echo @@f\\n',
        'reverse-continue',
        'echo @@rev\\n',
        'print last',
        'x/i $pc',
        'echo @@r\\n',
        'delete',
        'break fib',
        'reverse-continue',
        'echo @@fib\\n',
        'bt 2',
        'echo @@b\\n',
      ]);
      expect(out).toMatch(/Hardware watchpoint 2: last/);
      // gdb stops only when the value changes: 0 -> 1, (1), 2, 3.
      expect(between(out, '@@fwd', '@@f')).toContain('= 3');
      // Backwards: at the store that wrote 3, with the old value back.
      expect(out).toMatch(/Old value = 3\s+New value = 2/);
      const rev = between(out, '@@rev', '@@r');
      expect(rev).toContain('= 2');
      expect(out).not.toMatch(/Old value = 3\s+New value = 1/);
      expect(rev).toMatch(/=> 0x[0-9a-f]+ <main\+\d+>:\s+sw\s/);
      expect(between(out, '@@fib', '@@b')).toMatch(/#0\s+fib \(n=/);
    } finally {
      await stub.stop();
    }
  });
});
