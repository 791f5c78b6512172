/**
 * Seek, step back, fork and replay against linear runs, on guests driven by
 * input and by interrupts (property tests over random positions).
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { Session, type SessionOptions } from '../../session/session.js';
import { buildMachine, type MachineSpec } from '../../session/spec.js';
import { Checkpointer, bytesToHash, readVmi, writeVmi } from '../../storage/index.js';
import { readManifest } from '../../storage/vmi-common.js';
import { expected, guest } from '../support/cli.js';

interface Case {
  name: string;
  spec: MachineSpec;
  input: Uint8Array;
}

const cases: Case[] = [
  ['default', 'default.in'],
  ['irqecho', 'irqecho.in'],
  ['timer', 'timer.in'],
  ['sv32', 'sv32.in'],
].map(([name, input]) => ({
  name: name!,
  spec: { kind: 'elf', image: new Uint8Array(readFileSync(guest(name!))), ramSize: 8 << 20 },
  input: new Uint8Array(readFileSync(expected(input!))),
}));

/** Records a guest to its end with checkpoints every `interval` steps. */
function record(c: Case, interval = 4000): { session: Session; output: string } {
  const session = Session.create(c.spec, { interval });
  let output = '';
  session.onOutput = (b) => (output += String.fromCharCode(b));
  session.type(c.input);
  for (;;) if (session.run(1_000_000).reason !== 'limit') break;
  session.checkpointHere();
  return { session, output };
}

/** The state hash of a fresh machine run from reset to n with the same input. */
function linear(c: Case, n: number): string {
  const m = buildMachine(c.spec);
  const hasher = new Checkpointer(m);
  m.type(c.input);
  while (m.position < n) if (m.run(n - m.position).reason !== 'limit') break;
  expect(m.position).toBe(n);
  return hasher.stateHash();
}

describe.each(cases)('time travel on $name', (c) => {
  const { session, output } = record(c);
  const end = session.position;

  it('records the same output as a plain run', () => {
    expect(end).toBeGreaterThan(1000);
    expect(output).toBe(readFileSync(expected(`${c.name}.out`), 'latin1'));
  });

  it('seek(N) equals a linear run stopped at N', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: end }), (n) => {
        session.seek({ position: n });
        expect(session.position).toBe(n);
        expect(session.stateHash()).toBe(linear(c, n));
      }),
      { numRuns: 12 },
    );
  });

  it('stepping back k times equals seeking N-k', () => {
    fc.assert(
      fc.property(fc.integer({ min: 20, max: end }), fc.integer({ min: 1, max: 12 }), (n, k) => {
        session.seek({ position: n - k });
        const want = session.stateHash();
        session.seek({ position: n });
        for (let i = 0; i < k; i++) session.stepBack();
        expect(session.position).toBe(n - k);
        expect(session.stateHash()).toBe(want);
      }),
      { numRuns: 8 },
    );
  });

  it('replays from reset to the same checkpoint hashes, also from a .vmi', () => {
    expect(session.replay(session.branch, { verify: true }).mismatch).toBeNull();
    const reopened = Session.open(readVmi(writeVmi(session.toRecording())));
    const r = reopened.replay(reopened.branch, { verify: true });
    expect(r.mismatch).toBeNull();
    expect(r.checked).toBeGreaterThanOrEqual(2);
    reopened.seek({ position: Math.floor(end / 3) });
    session.seek({ position: Math.floor(end / 3) });
    expect(reopened.stateHash()).toBe(session.stateHash());
  });
});

describe('fork', () => {
  it('keeps both branches replayable with their own outputs', () => {
    const c = cases[0]!;
    const { session, output } = record(c);
    const main = session.branch;
    // Fork right after the banner, where the game waits for its first command.
    const at = session.timeline.branch(main).events[0]!.position;
    session.seek({ position: at });
    const fork = session.fork(at, 'other');
    let forkOutput = '';
    session.onOutput = (b) => (forkOutput += String.fromCharCode(b));
    session.type(new TextEncoder().encode('look\nquit\n'));
    for (;;) if (session.run(1_000_000).reason !== 'limit') break;
    expect(session.machine.power?.kind).toBe('pass');

    const replayed = (branch: string) => {
      let out = '';
      const r = session.replay(branch, { onOutput: (b) => (out += String.fromCharCode(b)), verify: true });
      expect(r.mismatch).toBeNull();
      return out;
    };
    const mainOut = replayed(main);
    const forkOut = replayed(fork);
    expect(mainOut).toBe(output);
    expect(forkOut).not.toBe(output);
    // Both share everything before the fork.
    const prefix = output.slice(0, output.length - (output.length - forkOut.length));
    expect(forkOut.startsWith(prefix.slice(0, 40))).toBe(true);
    expect(forkOut.endsWith(forkOutput)).toBe(true);

    // Positions on either branch seek to what a linear run with that branch's input gives.
    session.seek({ branch: 'other', position: session.branchEnd(fork) - 5 });
    const h = session.stateHash();
    session.seek({ branch: 'main', position: 100 });
    session.seek({ branch: 'other', position: session.branchEnd(fork) - 5 });
    expect(session.stateHash()).toBe(h);
  });

  it('typing in the past forks instead of rewriting history', () => {
    const c = cases[0]!;
    const { session } = record(c);
    const main = session.branch;
    const mainEnd = session.branchEnd(main);
    session.seek({ position: 5000 });
    session.type(new TextEncoder().encode('quit\n'));
    expect(session.branch).not.toBe(main);
    expect(session.branchEnd(main)).toBe(mainEnd);
  });
});

describe('reverse execution', () => {
  it('reverse-continue stops at the last breakpoint hit and the last write to a watched range', () => {
    const c = cases[2]!; // timer: a handler runs ten times
    const { session } = record(c);
    const end = session.position;
    // Find the trap handler's address: mtvec after the program set it up.
    session.seek({ position: Math.floor(end / 2) });
    const handler = session.machine.cpu.mtvec & ~3;
    session.seek({ position: end });
    const stop = session.reverseContinue({ breakpoints: [handler] });
    expect(stop).toEqual({ reason: 'breakpoint', steps: 0, pc: handler >>> 0 });
    expect(session.machine.cpu.pcValue).toBe(handler >>> 0);
    const last = session.position;
    // No later hit: running forward from just after it reaches the end without the handler.
    session.seek({ position: last + 1 });
    session.setStops({ breakpoints: [handler] });
    const fwd = session.run(end - last - 1);
    expect(fwd.reason).toBe('limit');
    session.setStops({});

    // Watchpoint: the stack slot the handler wrote last.
    session.seek({ position: last });
    const sp = session.machine.cpu.x[2]! >>> 0;
    session.seek({ position: end });
    const w = session.reverseContinue({ watchpoints: [{ address: (sp - 64) >>> 0, length: 64 }] });
    expect(w?.reason).toBe('watchpoint');
    expect(session.position).toBeLessThan(end);
    expect(session.position).toBeGreaterThan(0);
  });
});

describe('debugger writes', () => {
  it('are recorded events that replay, and in the past they fork', () => {
    const c = cases[0]!;
    const { session } = record(c);
    const main = session.branch;
    const mainEnd = session.branchEnd(main);
    session.seek({ position: 3000 });
    session.writeRegister(10, 0x1234);
    session.writeMemory(0x80200000, new Uint8Array([1, 2, 3, 4]));
    expect(session.branch).not.toBe(main);
    expect(session.branchEnd(main)).toBe(mainEnd);
    expect(session.machine.cpu.x[10]).toBe(0x1234);
    session.run(1000);
    const pos = session.position;
    const hash = session.stateHash();
    expect(session.machine.cpu.readPhysical(0x80200000, 4)).toBe(0x04030201);
    session.seek({ branch: main, position: 100 });
    session.seek({ branch: session.branches().at(-1)!.id, position: pos });
    expect(session.stateHash()).toBe(hash);
    expect(session.replay(session.branch, { verify: true }).mismatch).toBeNull();
  });
});

/** A session of a guest of the suite (guests/suite/) given `input` and run `steps` steps. */
function suiteSession(name: string, input: string, steps: number, options: SessionOptions, ramSize = 8 << 20): Session {
  const spec: MachineSpec = { kind: 'elf', image: new Uint8Array(readFileSync(guest(name))), ramSize };
  const session = Session.create(spec, options);
  session.type(new TextEncoder().encode(input));
  session.run(steps);
  return session;
}

describe('checkpoints that seeks leave', () => {
  it('where the replay changed many pages, are left only where a long seek comes back to (stepping back)', () => {
    // The page-dirtying guest changes thousands of pages in a million steps: each such capture is costly.
    const session = suiteSession('dirty', '4\n', 3_000_000, { interval: 1e9 }, 64 << 20);
    expect(session.position).toBe(3_000_000);
    const positions = () => session.timeline.branch(session.branch).checkpoints.map((c) => c.position);
    expect(positions()).toEqual([0]);
    // Scrubbing: seeks to places far apart leave nothing.
    for (const at of [2_700_000, 1_300_000, 2_200_000]) session.seek({ position: at });
    expect(positions()).toEqual([0]);
    // Stepping back from a long seek: the second seek into the same stretch leaves a checkpoint at its start.
    session.seek({ position: 2_700_000 });
    session.stepBack();
    expect(positions()).toEqual([0, 2_500_000]);
    const want = session.stateHash();
    session.stepBack();
    session.seek({ position: 2_699_999 });
    expect(session.stateHash()).toBe(want);
    expect(positions()).toEqual([0, 2_500_000]);
  });

  it('where the replay changed few pages, one is left by the first seek, out of the timeline: the first step back after it restores it, and puts it there', () => {
    const session = suiteSession('recurse', '12\n', 3_000_000, { interval: 1e9 });
    const positions = () => session.timeline.branch(session.branch).checkpoints.map((c) => c.position);
    const restored: number[] = [];
    const restore = session.checkpoints.restore.bind(session.checkpoints);
    vi.spyOn(session.checkpoints, 'restore').mockImplementation((id) => {
      const cp = restore(id);
      restored.push(cp.position);
      return cp;
    });
    // Scrubbing adds nothing to the recording.
    for (const at of [2_700_000, 1_300_000, 2_200_000, 100_000]) session.seek({ position: at });
    expect(positions()).toEqual([0]);
    // A jump restores the one the last seek left (at 2 000 000, the nearest); the step back after
    // it, the one the jump left.
    restored.length = 0;
    session.seek({ position: 2_700_000 });
    session.stepBack();
    expect(restored).toEqual([2_000_000, 2_500_000]);
    expect(positions()).toEqual([0, 2_500_000]);
    const want = session.stateHash();
    session.seek({ position: 1_300_000 });
    session.seek({ position: 2_699_999 });
    expect(session.stateHash()).toBe(want);
    // A recording written now leaves out the one kept out of the timeline (at 1 000 000)...
    const positionsIn = () =>
      session
        .toRecording()
        .checkpoints.map((c) => c.position)
        .sort((a, b) => a - b);
    expect(positionsIn()).toEqual([0, 2_500_000]);
    // ...unless a checkpoint rests on it: then it joins the timeline. (This seek restores that one
    // and keeps another, at 1 500 000, the next checkpoint's parent.)
    session.seek({ position: 1_800_000 });
    session.checkpointHere();
    expect(positions()).toEqual([0, 1_800_000, 2_500_000]);
    expect(positionsIn()).toEqual([0, 1_500_000, 1_800_000, 2_500_000]);
    expect(positions()).toEqual([0, 1_500_000, 1_800_000, 2_500_000]);
    // The file opens, and every checkpoint in it restores to its state hash.
    const reopened = Session.open(readVmi(writeVmi(session.toRecording())));
    expect(reopened.checkpoints.verifyStored()).toBeNull();
    reopened.seek({ position: 2_699_999 });
    expect(reopened.stateHash()).toBe(want);
  });

  it('are dropped, oldest first, when the pages in memory pass seekMemory', () => {
    const session = suiteSession('memops', '100\n', 4_000_000, { interval: 1e9, seekMemory: 1 });
    const positions = () => session.timeline.branch(session.branch).checkpoints.map((c) => c.position);
    const stored = () => session.checkpoints.pages.storedBytes;
    const states = new Map<number, string>();
    const before = stored();
    const grown: number[] = [];
    for (const at of [1_700_000, 3_200_000, 2_600_000]) {
      session.seek({ position: at });
      session.stepBack();
      states.set(at - 1, session.stateHash());
      grown.push(stored() - before);
      // Only the newest is kept, and the others' pages are gone from memory.
      expect(positions()).toEqual([0, Math.floor((at - 1) / 500_000) * 500_000]);
    }
    expect(grown[0]).toBeGreaterThan(0);
    // About one checkpoint's pages (each of these holds some 110 KB; all three, 200 KB).
    expect(grown[2]).toBeLessThan(1.25 * grown[0]!);
    for (const [at, hash] of states) {
      session.seek({ position: at });
      expect(session.stateHash()).toBe(hash);
    }
  });
});

describe('a seek that meets a damaged page', () => {
  it('names it, and leaves the machine at the start, from where every intact position is reached', () => {
    const recorder = suiteSession('memops', '100\n', 6_000_000, { interval: 1_000_000 });
    recorder.checkpointHere();
    const bytes = writeVmi(recorder.toRecording());
    // Damage a page that only the newest checkpoint names.
    const rec = readVmi(bytes);
    const older = new Set(rec.checkpoints.filter((c) => c.position < 6_000_000).flatMap((c) => [...c.ram.values()]));
    const newest = rec.checkpoints.find((c) => c.position === 6_000_000)!;
    const damaged = [...newest.ram.values()].find((h) => !older.has(h))!;
    const dv = new DataView(bytes.buffer, bytes.byteOffset);
    const u64 = (at: number) => dv.getUint32(at, true) + dv.getUint32(at + 4, true) * 2 ** 32;
    const index = readManifest(bytes.subarray(u64(24), u64(24) + u64(32)), dv.getUint16(10, true), u64(40), 'index');
    const chunks = index['chunks'] as { id: Uint8Array; offset: Uint8Array };
    const n = [...Array(chunks.id.length / 16).keys()].find(
      (i) => bytesToHash(chunks.id.subarray(i * 16, i * 16 + 16)) === damaged,
    )!;
    const bad = bytes.slice();
    bad[new DataView(chunks.offset.buffer, chunks.offset.byteOffset).getUint32(n * 8, true) + 2]! ^= 0x55;

    const session = Session.open(readVmi(bad));
    session.seek({ position: 2_500_000 });
    expect(() => session.seek({ position: 6_000_000 })).toThrow(new RegExp(`page ${damaged} is damaged`));
    // Not a mix of two checkpoints' memory at the old position: the start, whole.
    recorder.seek({ position: 0 });
    expect(session.position).toBe(0);
    expect(session.stateHash()).toBe(recorder.stateHash());
    for (const at of [2_500_000, 4_000_000, 1_000_000]) {
      session.seek({ position: at });
      recorder.seek({ position: at });
      expect(session.stateHash(), `at ${at}`).toBe(recorder.stateHash());
    }
  });
});
