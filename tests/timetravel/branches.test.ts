/**
 * Branches of a session: typing in the past forks instead of rewriting the
 * future; renames and deletions go through the timeline's log, so a .vmi
 * keeps them.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Session } from '../../session/session.js';
import { readVmi, writeVmi } from '../../storage/index.js';
import { guest } from '../support/cli.js';

/** The echo guest polls the UART for input: these runs keep it polling rather than stop as waiting. */
const polling = { whenPolling: 'run' } as const;
const echo = () =>
  Session.create(
    { kind: 'elf', image: new Uint8Array(readFileSync(guest('echo'))), ramSize: 8 << 20 },
    { interval: 50_000 },
  );

describe('session branches', () => {
  it('typing in the past forks a new branch and keeps the old future whole', () => {
    const s = echo();
    s.run(200_000, polling);
    s.type(new TextEncoder().encode('echo one\r'));
    s.run(200_000, polling);
    const end = s.branchEnd();
    s.seek({ position: 100_000 });
    s.type(new TextEncoder().encode('echo two\r'));
    expect(s.branch).not.toBe('b0');
    expect(s.timeline.branch(s.branch)).toMatchObject({ parent: 'b0', forkPosition: 100_000 });
    expect(s.branchEnd('b0')).toBe(end);
    expect(s.timeline.eventsBetween('b0', 0, Infinity).length).toBeGreaterThan(0);
    // Typed at the end of a branch, it stays on that branch.
    const fork = s.branch;
    s.run(1000, polling);
    s.type(new TextEncoder().encode('x'));
    expect(s.branch).toBe(fork);
  });

  it('typing in the past where earlier input is delivered but unread forks at that input: the new input replaces it', () => {
    const s = echo();
    s.run(200_000, polling);
    s.type(new TextEncoder().encode('abc\r'));
    let out = '';
    s.onOutput = (b) => (out += String.fromCharCode(b));
    s.run(400_000, polling);
    expect(out).toContain('abc');
    const first = s.timeline.eventsBetween('b0', 0, Infinity)[0]!.position;
    // Just after the first byte entered the UART: the guest has not read it yet.
    s.seek({ position: first + 1 });
    expect(s.machine.uart.unreadInput).toBe(1);
    s.type(new TextEncoder().encode('xyz\r'));
    expect(s.timeline.branch(s.branch)).toMatchObject({ parent: 'b0', forkPosition: first });
    out = '';
    s.run(400_000, polling);
    // The guest echoes what it reads: the new input alone, nothing of the old branch's.
    expect(out.startsWith('xyz\r\n')).toBe(true);
    // At the input's own position nothing of it has arrived: the fork is right there.
    s.seek({ branch: 'b0', position: first });
    expect(s.machine.uart.unreadInput).toBe(0);
    s.type(new TextEncoder().encode('q'));
    expect(s.timeline.branch(s.branch)).toMatchObject({ parent: 'b0', forkPosition: first });
  });

  it('renames and deletes branches, never the current or the root, and a .vmi keeps the change', () => {
    const s = echo();
    s.run(100_000, polling);
    const a = s.fork(50_000, 'a');
    s.seek({ branch: 'main', position: 100_000 });
    const b = s.fork(60_000, 'b');
    s.renameBranch('a', 'renamed');
    expect(s.timeline.branch(a).name).toBe('renamed');
    expect(() => s.renameBranch(a, '  ')).toThrow(/name/);
    expect(() => s.deleteBranch(b)).toThrow(/switch to another/);
    expect(() => s.deleteBranch('main')).toThrow();
    s.seek({ branch: 'main', position: 100_000 });
    s.deleteBranch(b);
    expect(
      s
        .branches()
        .map((x) => x.id)
        .sort(),
    ).toEqual(['b0', a]);
    const reopened = Session.open(readVmi(writeVmi(s.toRecording())));
    expect(
      reopened
        .branches()
        .map((x) => x.name)
        .sort(),
    ).toEqual(['main', 'renamed']);
  });
});

describe('console history in a .vmi', () => {
  it('a reopened recording shows each branch’s console at any point, with no replay', () => {
    const s = echo();
    s.run(200_000, polling);
    s.type(new TextEncoder().encode('echo one\r'));
    s.run(400_000, polling);
    const fork = s.fork(s.branchEnd(), 'later');
    s.type(new TextEncoder().encode('echo two\r'));
    s.run(400_000, polling);
    const end = s.position;
    const text = (c: { bytes: Uint8Array }) => new TextDecoder().decode(c.bytes);
    const reopened = Session.open(readVmi(writeVmi(s.toRecording())));
    // Nothing has run or replayed on the reopened session: what it shows comes from the file.
    for (const [branch, position] of [
      [fork, end],
      ['b0', s.branchEnd('b0')],
      [fork, 250_000],
    ] as const) {
      expect(reopened.consoleKnown(branch, position)).toBe(true);
      s.seek({ branch, position });
      reopened.seek({ branch, position });
      expect(text(reopened.console())).toBe(text(s.console()));
    }
    reopened.seek({ branch: fork, position: end });
    expect(text(reopened.console())).toMatch(/one[\s\S]*two/);
  });
});
