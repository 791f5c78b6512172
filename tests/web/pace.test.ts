// The pace cap a VM's worker runs under: how long it waits before a slice,
// and how big its slices are, against a hand-turned clock.
import { describe, expect, test } from 'vitest';
import { PaceCap } from '../../src/web/pace.js';

describe('PaceCap', () => {
  test('without a cap nothing waits and slices are not limited', () => {
    const pace = new PaceCap();
    pace.set(null, 0, 0);
    expect(pace.wait(0, 1e9)).toBe(0);
    expect(pace.sliceLimit(12)).toBe(Infinity);
  });

  test('a run ahead of its cap waits until the wall clock catches up', () => {
    const pace = new PaceCap();
    pace.set(10, 1000, 0); // 10 MIPS: 10,000 instructions a millisecond
    expect(pace.sliceLimit(12)).toBe(120_000);
    expect(pace.wait(1000, 120_000)).toBe(12);
    expect(pace.wait(1006, 120_000)).toBe(6);
    expect(pace.wait(1012, 120_000)).toBe(0);
  });

  test('lateness does not add up: a slice that started late is followed by a shorter wait', () => {
    const pace = new PaceCap();
    pace.set(1, 0, 0);
    let now = 0;
    let position = 0;
    for (let i = 0; i < 100; i++) {
      now += pace.wait(now, position) + (i % 3); // the timer fires up to 2 ms late
      position += 1000; // a slice of 1 ms at 1 MIPS
    }
    // 100,000 instructions at 1 MIPS take 100 ms: the timers' lateness is not added to it.
    expect(now).toBeLessThanOrEqual(102);
    expect(position / now / 1000).toBeGreaterThan(0.95);
  });

  test('held up, it makes up at most 500 ms by running ahead; a jump back counts from there', () => {
    const pace = new PaceCap();
    pace.set(1, 0, 0);
    // 5 s late with 1 ms run: only the last 500 ms are made up.
    expect(pace.wait(5000, 1000)).toBe(0);
    expect(pace.wait(5000, 501_000)).toBe(0);
    expect(pace.wait(5000, 502_000)).toBe(1);
    // The machine went back (a seek, a fork in the past): counted from there.
    expect(pace.wait(5001, 10)).toBe(0);
    expect(pace.wait(5001, 1010)).toBe(1);
  });

  test('a non-positive or non-finite cap is none', () => {
    const pace = new PaceCap();
    for (const mips of [0, -3, NaN, Infinity]) {
      pace.set(mips, 0, 0);
      expect(pace.cap).toBeNull();
    }
  });
});
