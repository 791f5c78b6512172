// Why the machine stopped (status.stop), in the worker's engine run in Node
// against real guests: breakpoint at ADDR (symbol), watchpoint ADDR old → new,
// power-off pass/fail with the exit code and the trap before it, waiting for
// input; the stops marked on the timeline; a powered-off recording reopened OFF.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { StopDetail, TimelineInfo } from '../../src/web/protocol.js';
import { describeStop } from '../../src/web/stops.js';
import { engineHarness, guest, recordingHosts } from './support.js';

function harness() {
  const queue: (() => void)[] = [];
  let now = 0;
  const h = engineHarness({ defer: (fn) => queue.push(fn), now: () => (now += 1), ...recordingHosts });
  const output = () =>
    new TextDecoder().decode(Uint8Array.from(h.events.flatMap((e) => (e.type === 'output' ? [...e.bytes] : []))));
  return {
    ...h,
    output,
    pump(max = 2000) {
      for (let i = 0; i < max && queue.length > 0; i++) queue.shift()!();
    },
    /** Pumps until the status settles out of running. */
    settle() {
      for (let i = 0; i < 5000 && queue.length > 0; i++) queue.shift()!();
    },
    timeline: () => h.last('timeline')?.timeline as TimelineInfo,
    symbol(name: string): number {
      const loaded = h.events.find((e) => e.type === 'loaded');
      if (loaded?.type !== 'loaded') throw new Error('not loaded');
      return loaded.symbols.find(([n]) => n === name)![1];
    },
  };
}

const crashInput = readFileSync(join(process.cwd(), 'guests/expected/default-crash.in'));

describe('stop reasons', () => {
  test('a breakpoint stop says where, with the symbol, and is marked on the timeline', () => {
    const h = harness();
    h.engine.handle({ type: 'load', image: guest('default'), record: true });
    const main = h.symbol('main');
    h.engine.handle({ type: 'setBreakpoints', addresses: [main] });
    h.engine.handle({ type: 'run' });
    h.settle();
    const st = h.lastStatus();
    expect(st.stop).toEqual({ kind: 'breakpoint', pc: main, symbol: 'main' });
    expect(describeStop(st.stop!)).toBe(`breakpoint at 0x${main.toString(16).padStart(8, '0')} (main)`);
    expect(h.timeline().stops).toEqual([{ position: st.position, kind: 'breakpoint', label: 'breakpoint main' }]);
    // Running clears the reason.
    h.engine.handle({ type: 'setBreakpoints', addresses: [] });
    h.engine.handle({ type: 'run' });
    expect(h.lastStatus().stop).toBeUndefined();
  });

  test('a watchpoint stop shows the address, the variable and old → new value', () => {
    const h = harness();
    h.engine.handle({ type: 'load', image: guest('default'), record: true, run: true });
    for (let i = 0; i < 400 && !h.output().includes('> '); i++) h.pump(1);
    const P = h.symbol('P');
    h.engine.handle({ type: 'setWatchpoints', ranges: [{ address: P, length: 64 }] });
    h.engine.handle({ type: 'type', bytes: new TextEncoder().encode('e\r') });
    h.settle();
    const st = h.lastStatus();
    expect(st.cause).toBe('watchpoint');
    const stop = st.stop as Extract<StopDetail, { kind: 'watchpoint' }>;
    expect(stop.kind).toBe('watchpoint');
    expect(stop.address).toBe(st.watchAddress);
    expect(stop.symbol).toMatch(/^P(\+0x[0-9a-f]+)?$/);
    expect(stop.value).toHaveLength(4);
    expect(stop.old).toHaveLength(4);
    expect(stop.old).not.toEqual(stop.value);
    expect(describeStop(stop)).toMatch(
      /^watchpoint 0x8000[0-9a-f]{4} \(P(\+0x[0-9a-f]+)?\): \d+( \(0x[0-9a-f]+\))? → \d+/,
    );
  });

  test('the default guest’s crash: OFF, fail with exit code 3 after a load access fault, marked with go to; reopened OFF', () => {
    const h = harness();
    h.engine.handle({ type: 'load', image: guest('default'), record: true, run: true });
    h.engine.handle({ type: 'type', bytes: new Uint8Array(crashInput) });
    h.settle();
    const st = h.lastStatus();
    expect(h.output()).toContain('*** crash: mcause=0x00000005 mepc=0x80000dd6');
    expect(st).toMatchObject({ state: 'off', power: { kind: 'fail', code: 3 } });
    expect(st.stop).toMatchObject({
      kind: 'power',
      power: 'fail',
      code: 3,
      trap: { cause: 5, epc: 0x80000dd6, tval: 0 },
    });
    expect(describeStop(st.stop!)).toMatch(
      /^powered off: fail, exit code 3, after a trap: load access fault at pc 0x80000dd6 \(\w+\+0x[0-9a-f]+\), mtval 0x00000000$/,
    );
    expect(h.timeline().stops).toEqual([{ position: st.position, kind: 'power', label: 'power-off (fail 3)' }]);

    // Going back: no longer off; the mark stays, so the page can go to it.
    h.reply({ type: 'stepBack', count: 1 });
    expect(h.lastStatus()).toMatchObject({ state: 'paused' });
    expect(h.lastStatus().stop).toBeUndefined();
    expect(h.timeline().stops).toHaveLength(1);
    h.reply({ type: 'seek', position: st.position });
    expect(h.lastStatus()).toMatchObject({ state: 'off', power: { kind: 'fail', code: 3 } });

    // Reopened from its .vmi (as the library does): OFF with the code, marked.
    const file = h.reply({ type: 'exportVmi' }) as { bytes: Uint8Array };
    const g = harness();
    g.reply({ type: 'importVmi', bytes: file.bytes, name: 'crash.vmi' });
    expect(g.lastStatus()).toMatchObject({ state: 'off', position: st.position, power: { kind: 'fail', code: 3 } });
    expect(g.lastStatus().stop).toMatchObject({ kind: 'power', code: 3, trap: { cause: 5 } });
    expect(g.timeline().stops).toEqual([{ position: st.position, kind: 'power', label: 'power-off (fail 3)' }]);
    g.engine.handle({ type: 'run' });
    expect(g.lastStatus().state).toBe('off');
  });

  test('a clean power-off is pass with exit code 0; waiting for input says so', () => {
    const h = harness();
    h.engine.handle({ type: 'load', image: guest('hello'), record: true, run: true });
    h.settle();
    expect(h.lastStatus().stop).toEqual({ kind: 'power', power: 'pass', code: 0 });
    expect(describeStop(h.lastStatus().stop!)).toBe('powered off: pass (exit code 0)');
    const d = harness();
    d.engine.handle({ type: 'load', image: guest('default'), record: true, run: true });
    d.settle();
    expect(d.lastStatus()).toMatchObject({ state: 'waiting', stop: { kind: 'waiting' } });
    expect(describeStop(d.lastStatus().stop!)).toBe('waiting for input');
  });
});
