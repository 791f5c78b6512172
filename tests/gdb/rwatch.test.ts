/**
 * gdb-multiarch's read and access watchpoints (`rwatch`, `awatch`) against
 * `rewind gdb`: Z3/Z4, stops at the load or store that touched the
 * variable, forwards and in reverse.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { guest, tempDir } from '../support/cli.js';
import { between, gdbAvailable, positionOf, runGdb, startStub, type Stub } from './support.js';

const HAVE_GDB = gdbAvailable();

describe.skipIf(!HAVE_GDB && !process.env['CI'])('gdb-multiarch rwatch and awatch', () => {
  let stub: Stub | null = null;
  afterEach(async () => {
    await stub?.stop();
    stub = null;
  });

  it('stops at reads, then at reads and writes, forwards and in reverse', async () => {
    const elf = guest('default');
    const input = join(tempDir(), 'input.txt');
    // Moves: e (P.moves 0 -> 1), w (1 -> 2); `score` only reads it.
    writeFileSync(input, 'e\nw\nscore\n');
    stub = await startStub([elf, '--input-file', input]);
    const out = runGdb(stub.port, elf, [
      'rwatch P.moves',
      'continue',
      'echo @@r1\\n',
      'monitor where',
      'echo @@a\\n',
      'continue',
      'echo @@r2\\n',
      'monitor where',
      'echo @@b\\n',
      'continue',
      'echo @@r3\\n',
      'monitor where',
      'echo @@c\\n',
      'reverse-continue',
      'echo @@back1\\n',
      'x/i $pc',
      'monitor where',
      'echo @@d\\n',
      'reverse-continue',
      'echo @@back2\\n',
      'x/i $pc',
      'monitor where',
      'echo @@e\\n',
      'delete',
      'awatch P.moves',
      'continue',
      'echo @@aw1\\n',
      'monitor where',
      'echo @@f\\n',
      'continue',
      'echo @@aw2\\n',
      'monitor where',
      'echo @@g\\n',
      'reverse-continue',
      'echo @@aw3\\n',
      'x/i $pc',
      'monitor where',
      'echo @@h\\n',
    ]);
    const at = (from: string, to: string) => positionOf(between(out, from, to));
    // Forwards: a read watchpoint stops just after each load of P.moves (gdb's convention for
    // continuable watchpoints), with the value read: in go for e and w, then in main for score.
    expect(out).toMatch(/Hardware read watchpoint 1: P\.moves\s+Value = 0\s+0x[0-9a-f]+ in go \(d=2\)/);
    expect(out).toMatch(/Hardware read watchpoint 1: P\.moves\s+Value = 1\s+0x[0-9a-f]+ in go \(d=3\)/);
    expect(out).toMatch(/Hardware read watchpoint 1: P\.moves\s+Value = 2\s+0x[0-9a-f]+ in main \(\)/);
    const r1 = at('@@r1', '@@a');
    const r2 = at('@@r2', '@@b');
    const r3 = at('@@r3', '@@c');
    expect(r1).toBeLessThan(r2);
    expect(r2).toBeLessThan(r3);
    // Backwards: each reverse-continue stops on a load of P.moves, before it runs: first the
    // load just crossed (score's), then the one in go for w, one step before r2.
    const back1 = between(out, '@@back1', '@@d');
    expect(back1).toMatch(/=> 0x[0-9a-f]+ <main\+\d+>:\s+lw\s/);
    expect(positionOf(back1)).toBe(r3 - 1);
    const back2 = between(out, '@@back2', '@@e');
    expect(back2).toMatch(/=> 0x[0-9a-f]+ <go\+\d+>:\s+lw\s/);
    expect(positionOf(back2)).toBe(r2 - 1);
    // An access watchpoint from there: the read again, then the write of P.moves++ (1 -> 2),
    // and in reverse the store itself with the old value back.
    expect(at('@@aw1', '@@f')).toBe(r2);
    expect(out).toMatch(/Hardware access \(read\/write\) watchpoint 2: P\.moves\s+Old value = 1\s+New value = 2/);
    const aw2 = at('@@aw2', '@@g');
    expect(aw2).toBeGreaterThan(r2);
    expect(aw2).toBeLessThan(r3);
    expect(out).toMatch(/Hardware access \(read\/write\) watchpoint 2: P\.moves\s+Old value = 2\s+New value = 1/);
    const aw3 = between(out, '@@aw3', '@@h');
    expect(aw3).toMatch(/=> 0x[0-9a-f]+ <go\+\d+>:\s+sw\s/);
    expect(positionOf(aw3)).toBe(aw2 - 1);
  });
});
