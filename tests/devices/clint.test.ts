import { describe, expect, it } from 'vitest';
import { Clint, type VirtualClock } from '../../core/devices/clint.js';
import { expectStateRoundTrip } from './roundtrip.js';

function fakeClock(start = 0): VirtualClock & { t: number } {
  return {
    t: start,
    now() {
      return this.t;
    },
    set(value: number) {
      this.t = value;
    },
  };
}

function make(clock = fakeClock()) {
  const msip: boolean[] = [];
  const clint = new Clint(clock, (level) => msip.push(level));
  return { clint, clock, msip };
}

describe('Clint', () => {
  it('resets mtimecmp to 0, as QEMU, so the timer is pending at time 0', () => {
    const { clint } = make();
    expect(clint.mtimecmp()).toBe(0);
    expect(clint.timerPending()).toBe(true);
  });

  it('reads and writes mtimecmp as two 32-bit halves', () => {
    const { clint } = make();
    clint.write(0x4000, 0x89abcdef, 4);
    clint.write(0x4004, 0x12, 4);
    expect(clint.read(0x4000, 4)).toBe(0x89abcdef);
    expect(clint.read(0x4004, 4)).toBe(0x12);
    expect(clint.mtimecmp()).toBe(0x12_89abcdef);
  });

  it('compares mtime >= mtimecmp for timerPending', () => {
    const { clint, clock } = make(fakeClock(999));
    clint.write(0x4004, 0, 4);
    clint.write(0x4000, 1000, 4);
    expect(clint.timerPending()).toBe(false);
    clock.t = 1000;
    expect(clint.timerPending()).toBe(true);
    clint.write(0x4004, 1, 4);
    expect(clint.timerPending()).toBe(false);
  });

  it('treats an all-ones mtimecmp as never, even at mtime 2^53 - 1', () => {
    const { clint, clock } = make(fakeClock(Number.MAX_SAFE_INTEGER));
    clint.write(0x4000, 0xffffffff, 4);
    clint.write(0x4004, 0xffffffff, 4);
    expect(clint.mtimecmp()).toBe(2 ** 64);
    expect(clock.now()).toBe(2 ** 53 - 1);
    expect(clint.timerPending()).toBe(false);
  });

  it('exposes mtime from the clock in halves and writes each half', () => {
    const { clint, clock } = make(fakeClock(0x1_2345_6789));
    expect(clint.read(0xbff8, 4)).toBe(0x2345_6789);
    expect(clint.read(0xbffc, 4)).toBe(1);
    clint.write(0xbff8, 0xffff_fff0, 4);
    expect(clock.t).toBe(0x1_ffff_fff0);
    clint.write(0xbffc, 0x7, 4);
    expect(clock.t).toBe(0x7_ffff_fff0);
  });

  it('drives MSIP from bit 0 of msip', () => {
    const { clint, msip } = make();
    clint.write(0, 0xff, 4);
    expect(clint.read(0, 4)).toBe(1);
    clint.write(0, 2, 4);
    expect(clint.read(0, 4)).toBe(0);
    expect(msip).toEqual([true, false]);
  });

  it('ignores accesses narrower than 32 bits and unknown offsets', () => {
    const { clint, msip } = make();
    clint.write(0x4000, 5, 2);
    clint.write(0, 1, 1);
    clint.write(0x100, 1, 4);
    expect(msip).toEqual([]);
    expect(clint.read(0x4000, 4)).toBe(0);
    expect(clint.read(0x100, 4)).toBe(0);
  });

  it('round-trips its state (mtime stays with the clock)', () => {
    const clock = fakeClock(5);
    const a = make(clock);
    a.clint.write(0, 1, 4);
    a.clint.write(0x4000, 0xdead, 4);
    a.clint.write(0x4004, 0xbeef, 4);
    expectStateRoundTrip(a.clint, make(clock).clint, ['name', 'clock']);
  });
});
