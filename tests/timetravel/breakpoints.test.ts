/**
 * A session splits one run into chunks (slices, checkpoints); a breakpoint
 * that falls exactly on a chunk boundary must still stop the run.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Session } from '../../session/session.js';
import { buildMachine, type MachineSpec } from '../../session/spec.js';
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
    const machine = buildMachine(spec);
    machine.cpu.setWatchpoints([range]);
    const forward: { position: number; address: number }[] = [];
    hits(
      (n) => machine.run(n),
      () => forward.push({ position: machine.position, address: machine.cpu.watchAddress >>> 0 }),
    );
    expect(forward.length).toBeGreaterThan(3);

    const session = Session.create(spec, { interval: forward[1]!.position });
    while (session.run(1_000_000).reason === 'limit');
    const backward: { position: number; address: number }[] = [];
    for (
      let stop = session.reverseContinue({ watchpoints: [range] });
      stop?.reason === 'watchpoint';
      stop = session.reverseContinue({ watchpoints: [range] })
    ) {
      backward.push({ position: session.position, address: stop.address });
    }
    expect(backward.reverse()).toEqual(forward);
  });
});
