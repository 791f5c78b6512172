/** The CPU saves every field that is machine state; a new field fails here until it is saved or named as a cache. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Cpu } from '../../core/cpu.js';
import { CSR } from '../../core/csr.js';
import { parseElf } from '../../core/loader.js';
import { Machine } from '../../core/machine.js';
import { guest } from '../support/cli.js';

/** Fields that are caches, wiring or debugger settings, rebuilt or set from outside, not machine state. */
const NOT_STATE = new Set([
  'ram',
  'bus',
  'mem8',
  'mem8s',
  'mem16',
  'mem16s',
  'mem32',
  'dirty',
  'ramSize',
  'decoded',
  'codePage',
  'codeExtent',
  'forgetting',
  'scratch',
  'rTag',
  'rOff',
  'wTag',
  'wOff',
  'xTag',
  'xOff',
  'level', // saved as priv
  'tlbs',
  'dataTlbs',
  'tlbBase',
  'dataTlb',
  'pmpRules',
  'noCode',
  'exit',
  'fetchCacheable',
  'firmware',
  'breakpoints',
  'watchpoints',
  'ignoreBreakpointAt',
  'stopReason',
  'watchAddress',
  'bpPages',
  'watchPages',
  'readWatchpoints',
  'readWatchPages',
  'physicalWatchpoints',
  'physicalWatchPages',
  'watchKind',
  'armedTriggers',
]);

function machineAt(steps: number): Machine {
  const m = new Machine({
    program: parseElf(new Uint8Array(readFileSync(guest('sv32'))), 0x80000000, 8 << 20),
    ramSize: 8 << 20,
  });
  m.run(steps);
  return m;
}

describe('Cpu state', () => {
  it('names every field either as saved state or as a cache', () => {
    const cpu = machineAt(1000).cpu;
    // Trigger state is saved once it differs from reset (see the trigger tests below).
    cpu.writeTrigger(CSR.tdata2, 0x80000000);
    const saved = new Set(Object.keys(cpu.saveState()));
    for (const key of Object.keys(cpu)) {
      if (NOT_STATE.has(key)) continue;
      expect(
        saved.has(key) || (key === 'x' && saved.has('x')),
        `Cpu.${key} is neither saved nor listed as a cache`,
      ).toBe(true);
    }
  });

  it('round-trips: a restored CPU runs on exactly as the original', () => {
    const a = machineAt(20_000);
    const b = machineAt(0);
    b.ram.bytes.set(a.ram.bytes);
    b.loadState(a.saveState());
    a.run(5_000);
    b.run(5_000);
    expect(b.cpu.saveState()).toEqual(a.cpu.saveState());
    expect(Buffer.from(b.ram.bytes).equals(Buffer.from(a.ram.bytes))).toBe(true);
  });

  it('saves triggers only when they differ from reset, and loads states without them', () => {
    const a = machineAt(1000);
    const plain = a.cpu.saveState();
    expect(plain).not.toHaveProperty('triggers');
    a.cpu.writeTrigger(CSR.tselect, 1);
    a.cpu.writeTrigger(CSR.tdata2, 0x80001000);
    a.cpu.writeTrigger(CSR.tdata1, 0x6000000b); // mcontrol6, u, store, load
    const armed = a.cpu.saveState();
    expect(armed.triggers).toEqual({
      tselect: 1,
      tcontrol: 0,
      tdata1: [0xf0000000, 0x6000000b],
      tdata2: [0, 0x80001000],
    });
    const b = machineAt(0);
    b.cpu.loadState(armed);
    expect(b.cpu.saveState()).toEqual(armed);
    // A state from before triggers existed loads as triggers at reset.
    b.cpu.loadState(plain);
    expect(b.cpu.saveState()).toEqual(plain);
    expect(b.cpu.triggers.atReset()).toBe(true);
    expect(() => b.cpu.loadState({ ...armed, triggers: { tselect: 0 } })).toThrow(/triggers/);
  });

  it('rejects a malformed state with a clear error', () => {
    const cpu = machineAt(10).cpu;
    const state = cpu.saveState();
    expect(() => cpu.loadState({ ...state, x: [1, 2] })).toThrow(/cpu: x/);
    expect(() => cpu.loadState({ ...state, version: 9 })).toThrow(/version/);
    expect(cpu).toBeInstanceOf(Cpu);
  });
});
