/**
 * A session splits one run into chunks (slices, checkpoints); a breakpoint
 * that falls exactly on a chunk boundary must still stop the run.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { WatchRange } from '../../core/cpu.js';
import { Session, type Stop } from '../../session/session.js';
import { buildMachine, type MachineSpec } from '../../session/spec.js';
import { stepUntil } from '../support/bounded.js';
import { guest } from '../support/cli.js';

const spec: MachineSpec = { kind: 'elf', image: new Uint8Array(readFileSync(guest('hello'))), ramSize: 8 << 20 };

function symbol(name: string): number {
  const address = buildMachine(spec).config.program.symbols.get(name);
  if (address === undefined) throw new Error(`hello.elf has no ${name}`);
  return address >>> 0;
}

/** Positions where a run, resumed after every stop, stops at a breakpoint or watchpoint (`position` is read at each stop). */
function hits<T>(run: (n: number) => { reason: string }, position: () => T): T[] {
  const out: T[] = [];
  for (let i = 0; i < 10_000; i++) {
    const r = run(10_000_000);
    if (r.reason !== 'breakpoint' && r.reason !== 'watchpoint') break;
    out.push(position());
  }
  return out;
}

type Hit = { position: number; address: number };

/** Where a plain machine run stops at this watchpoint, and the address each stop reports. */
function forwardWatchHits(range: WatchRange): Hit[] {
  const machine = buildMachine(spec);
  machine.cpu.setWatchpoints([range]);
  const forward: Hit[] = [];
  hits(
    (n) => machine.run(n),
    () => forward.push({ position: machine.position, address: machine.cpu.watchAddress >>> 0 }),
  );
  return forward;
}

/** Every stop of reverse-continue over a whole recording (with checkpoints every `interval`), oldest first; `each` sees each stop. */
function backwardWatchHits(
  range: WatchRange,
  interval: number,
  each: (stop: Extract<Stop, { reason: 'watchpoint' }>) => void = () => {},
): Hit[] {
  const session = Session.create(spec, { interval });
  let reason = 'limit';
  stepUntil(
    () => reason !== 'limit',
    () => (reason = session.run(1_000_000).reason),
    'the end of the guest',
  );
  const backward: Hit[] = [];
  for (
    let stop = session.reverseContinue({ watchpoints: [range] });
    stop?.reason === 'watchpoint';
    stop = session.reverseContinue({ watchpoints: [range] })
  ) {
    each(stop);
    backward.push({ position: session.position, address: stop.address });
  }
  return backward.reverse();
}

describe('debugger stops across a session', () => {
  it('stop at the same positions as a plain machine run, also on chunk boundaries', () => {
    const pc = symbol('printf_');
    const machine = buildMachine(spec);
    machine.cpu.setBreakpoints([pc]);
    const expected = hits(
      (n) => machine.run(n),
      () => machine.position,
    );
    expect(expected.length).toBeGreaterThan(5);

    // Checkpoint intervals that put a chunk boundary exactly on a hit.
    for (const interval of [expected[2]!, expected[3]! - expected[2]!]) {
      const session = Session.create(spec, { interval });
      session.setStops({ breakpoints: [pc] });
      expect(
        hits(
          (n) => session.run(n),
          () => session.position,
        ),
      ).toEqual(expected);
    }
  });

  it('a run whose budget ends on a breakpoint stops there when it goes on; a stop there resumes past it', () => {
    const pc = symbol('printf_');
    const machine = buildMachine(spec);
    machine.cpu.setBreakpoints([pc]);
    const first = hits(
      (n) => machine.run(n),
      () => machine.position,
    )[0]!;
    const session = Session.create(spec);
    session.setStops({ breakpoints: [pc] });
    expect(session.run(first)).toEqual({ reason: 'limit', steps: first });
    expect(session.run(1000)).toEqual({ reason: 'breakpoint', steps: 0, pc });
    const next = session.run(1000);
    expect(next.steps).toBeGreaterThan(0);
    expect(session.position).toBeGreaterThan(first);
  });

  it('run back finds every watchpoint store, also one that ends exactly on a checkpoint', () => {
    const range = { address: symbol('__stack_top') - 64, length: 64 };
    const forward = forwardWatchHits(range);
    expect(forward.length).toBeGreaterThan(3);
    expect(backwardWatchHits(range, forward[1]!.position)).toEqual(forward);
  });
});

describe('read and access watchpoints', () => {
  it('stop after each load (read) or load and store (access) of the range, forward and back', () => {
    for (const kind of ['read', 'access'] as const) {
      const range = { address: symbol('__stack_top') - 64, length: 64, kind };
      const forward = forwardWatchHits(range);
      expect(forward.length).toBeGreaterThan(3);
      const writes = buildMachine(spec);
      writes.cpu.setWatchpoints([{ ...range, kind: 'write' }]);
      const stores = hits(
        (n) => writes.run(n),
        () => writes.position,
      );
      // Reads only: no store position; access: every store position among the hits.
      const positions = new Set(forward.map((h) => h.position));
      if (kind === 'read') expect(stores.some((p) => positions.has(p))).toBe(false);
      else expect(stores.every((p) => positions.has(p))).toBe(true);

      const backward = backwardWatchHits(range, forward[1]!.position, (stop) => expect(stop.kind).toBe(kind));
      expect(backward).toEqual(forward);
    }
  });
});

describe('CSR writes from a debugger', () => {
  it('are recorded events: a replay repeats them, and in the past they fork', () => {
    const session = Session.create(spec);
    session.run(500);
    session.writeCsr(0x340, 0x12345678); // mscratch
    expect(session.machine.cpu.mscratch >>> 0).toBe(0x12345678);
    session.run(100);
    const main = session.branch;
    session.seek({ position: 550 });
    expect(session.machine.cpu.mscratch >>> 0).toBe(0x12345678);
    session.seek({ position: 499 });
    expect(session.machine.cpu.mscratch >>> 0).not.toBe(0x12345678);
    session.writeCsr(0x340, 7);
    expect(session.branch).not.toBe(main);
    expect(session.machine.cpu.mscratch).toBe(7);
    expect(() => session.writeCsr(0xc00, 1)).toThrow(/CSR/);
  });
});
