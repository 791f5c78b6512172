/**
 * Recordings under a budget: the session thins its checkpoints (dense near
 * the present, sparse in the past) and forgets the pages nothing names; no
 * input event is dropped, so every position is still reached exactly.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Session } from '../../session/session.js';
import { writeVmi } from '../../storage/index.js';
import { guest } from '../support/cli.js';

const polling = { whenPolling: 'run' } as const;
/** The suite's `memops` guest: copies and fills over 128 KiB, new contents in the same pages all the time. */
const memops = (budget: number) => {
  const s = Session.create(
    { kind: 'elf', image: new Uint8Array(readFileSync(guest('memops'))), ramSize: 64 << 20 },
    { interval: 1_000_000, budget },
  );
  s.type(new TextEncoder().encode('1000\n'));
  return s;
};

/** The state hash at `position` by a linear run from reset with the same input. */
function linear(position: number): string {
  const s = memops(Infinity);
  s.run(position, polling);
  expect(s.position).toBe(position);
  return s.stateHash();
}

describe('a recording kept within its budget', () => {
  const budget = 1 << 20;
  const s = memops(budget);
  s.run(60_000_000, polling);
  const end = s.position;
  const cps = s.timeline.branch(s.branch).checkpoints.map((c) => c.position);

  it('stays within the budget by dropping checkpoints, sparser the older they are', () => {
    expect(s.checkpoints.pages.bytes).toBeLessThanOrEqual(budget);
    expect(cps.length).toBeLessThan(end / 1_000_000 / 2);
    expect(cps[0]).toBe(0);
    const gaps = cps.slice(1).map((p, i) => p - cps[i]!);
    const firstHalf = gaps.slice(0, Math.floor(gaps.length / 2));
    const secondHalf = gaps.slice(Math.floor(gaps.length / 2));
    expect(Math.max(...firstHalf)).toBeGreaterThan(Math.max(...secondHalf));
    // Every dropped checkpoint's input is still in the log.
    expect(s.timeline.eventsBetween(s.branch, 0, Infinity).length).toBeGreaterThan(0);
  });

  it('seek(N) equals a linear run, in the thinned past and near the present', () => {
    for (const at of [3_333_333, Math.floor(end / 2) + 17, end - 5]) {
      s.seek({ position: at });
      expect(s.stateHash(), `at ${at}`).toBe(linear(at));
    }
  });

  it('k step-backs equal seek(N-k), and a fork keeps both branches', () => {
    const at = Math.floor(end * 0.3);
    s.seek({ position: at });
    for (let i = 0; i < 3; i++) s.stepBack();
    const back = s.stateHash();
    s.seek({ position: at - 3 });
    expect(s.stateHash()).toBe(back);
    const main = s.branch;
    const fork = s.fork(at - 3, 'other');
    s.type(new TextEncoder().encode('x'));
    s.run(2_000_000, polling);
    s.seek({ branch: main, position: end - 5 });
    expect(s.stateHash()).toBe(linear(end - 5));
    s.seek({ branch: fork, position: at - 3 });
    expect(s.stateHash()).toBe(back);
  });

  it('replay --verify holds: every kept checkpoint matches its stored pages', () => {
    expect(s.checkpoints.verifyStored()).toBeNull();
  });

  it('counts the whole file in the budget: its index and boot image, not the pages alone', () => {
    const t = memops(Infinity);
    t.run(30_000_000, polling);
    const pages = t.checkpoints.pages.bytes;
    const before = t.timeline.branch(t.branch).checkpoints.length;
    // Room for the pages, not for the file around them.
    const tight = pages + 1;
    t.setBudget(tight);
    t.keepWithinBudget();
    expect(t.timeline.branch(t.branch).checkpoints.length).toBeLessThan(before);
    expect(writeVmi(t.toRecording()).length).toBeLessThanOrEqual(tight);
  });
});

describe('periodic checkpoints of a guest that rewrites its memory', () => {
  /**
   * The suite's `dirty` guest (random words over 48 MiB: every page changes in an interval of a
   * million steps), on a clock that runs the machine at `mips` million steps a second.
   */
  const checkpointsAt = (guestName: string, mips: number, steps: number) => {
    let s: Session | null = null;
    const clock = () => (s === null ? 0 : s.position / (mips * 1e3));
    s = Session.create(
      { kind: 'elf', image: new Uint8Array(readFileSync(guest(guestName))), ramSize: 64 << 20 },
      { interval: 1_000_000, clock },
    );
    s.type(new TextEncoder().encode('100000\n'));
    s.run(steps, polling);
    return { s, cps: s.timeline.branch(s.branch).checkpoints.map((c) => c.position) };
  };

  it('go as far apart as 150 ms of its run allows, in tenths of an interval, up to 8 intervals', () => {
    // 10 ms an interval: 15 would fit, 8 is the most.
    const fast = checkpointsAt('dirty', 100, 20_000_000).cps;
    expect(fast).toEqual([0, 1_000_000, 9_000_000, 17_000_000]);
    // 50 ms an interval: 3.
    expect(checkpointsAt('dirty', 20, 8_000_000).cps).toEqual([0, 1_000_000, 4_000_000, 7_000_000]);
    // 33⅓ ms an interval: 4.5 (whole intervals would leave 133 ms between them, not 150).
    expect(checkpointsAt('dirty', 30, 10_000_000).cps).toEqual([0, 1_000_000, 5_500_000, 10_000_000]);
    // 100 ms an interval: 1.5.
    expect(checkpointsAt('dirty', 10, 5_000_000).cps).toEqual([0, 1_000_000, 2_500_000, 4_000_000]);
  });

  it('stay every interval where the run between two is over 150 ms already', () => {
    expect(checkpointsAt('dirty', 5, 4_000_000).cps).toEqual([0, 1_000_000, 2_000_000, 3_000_000, 4_000_000]);
  });

  it('stay every interval for a guest that changes a few pages, however fast it runs', () => {
    const { cps } = checkpointsAt('memops', 100, 5_000_000);
    expect(cps).toEqual([0, 1_000_000, 2_000_000, 3_000_000, 4_000_000, 5_000_000]);
  });

  it("leave the end's checkpoint out where the last is no more than 150 ms of run behind", () => {
    // 50 ms an interval: checkpoints 3 apart. The end 1.5 intervals (75 ms) past the last.
    const near = checkpointsAt('dirty', 20, 5_500_000);
    expect(near.s.checkpointAtEnd()).toBeNull();
    expect(near.s.timeline.branch(near.s.branch).checkpoints.map((c) => c.position)).toEqual(near.cps);
    near.s.seek({ position: 0 });
    near.s.seek({ position: 5_500_000 });
    expect(near.s.stateHash()).toBe(checkpointsAt('dirty', 5, 5_500_000).s.stateHash());
    // 200 ms an interval: the end 0.9 of one (180 ms) past the last.
    const far = checkpointsAt('dirty', 5, 4_900_000);
    expect(far.s.checkpointAtEnd()?.position).toBe(4_900_000);
    // A quiet guest's end costs little: it is checkpointed however near the last one is.
    const quiet = checkpointsAt('memops', 100, 2_500_000);
    expect(quiet.s.checkpointAtEnd()?.position).toBe(2_500_000);
  });

  it('leave the periodic checkpoint at a planned end to the end', () => {
    let s: Session | null = null;
    const clock = () => (s === null ? 0 : s.position / 20e3);
    s = Session.create(
      { kind: 'elf', image: new Uint8Array(readFileSync(guest('dirty'))), ramSize: 64 << 20 },
      { interval: 1_000_000, clock },
    );
    s.plannedEnd = 7_000_000;
    s.type(new TextEncoder().encode('100000\n'));
    s.run(7_000_000, polling);
    // 0, 1 and 4 million periodic; 7 million would be, 150 ms after 4.
    expect(s.timeline.branch(s.branch).checkpoints.map((c) => c.position)).toEqual([0, 1_000_000, 4_000_000]);
    expect(s.checkpointAtEnd()).toBeNull();
  });

  it('tell the page store how many pages are dirty at every slice before the first periodic checkpoint, and every eighth of an interval after', () => {
    const s = Session.create(
      { kind: 'elf', image: new Uint8Array(readFileSync(guest('dirty'))), ramSize: 64 << 20 },
      { interval: 40_000_000 },
    );
    const looks: number[] = [];
    const expectPages = s.checkpoints.pages.expect.bind(s.checkpoints.pages);
    s.checkpoints.pages.expect = (pages, more) => {
      looks.push(s.position);
      expectPages(pages, more);
    };
    s.type(new TextEncoder().encode('100000\n'));
    s.run(50_000_000, polling);
    // A slice is 2 million steps: the thread that readies the store's memory is up before the first checkpoint.
    expect(looks.slice(0, 3)).toEqual([2_000_000, 4_000_000, 6_000_000]);
    expect(looks.filter((p) => p < 40_000_000)).toHaveLength(19);
    expect(looks.filter((p) => p >= 40_000_000)).toEqual([40_000_000, 42_000_000, 48_000_000]);
  });

  it('put one off while the page store readies memory for its pages, 100 ms of run at most', () => {
    const at = (ready: (position: number) => boolean) => {
      let s: Session | null = null;
      const clock = () => (s === null ? 0 : s.position / 20e3);
      s = Session.create(
        { kind: 'elf', image: new Uint8Array(readFileSync(guest('dirty'))), ramSize: 64 << 20 },
        { interval: 1_000_000, clock },
      );
      const session = s;
      session.checkpoints.pages.readyFor = () => ready(session.position);
      session.type(new TextEncoder().encode('100000\n'));
      session.run(8_000_000, polling);
      return session.timeline.branch(session.branch).checkpoints.map((c) => c.position);
    };
    // 50 ms an interval: 3 between them once busy.
    expect(at(() => true)).toEqual([0, 1_000_000, 4_000_000, 7_000_000]);
    // Ready from 2.5 million steps on: put off a slice (2 million) at a time, from 1 million to 3.
    expect(at((p) => p >= 2_500_000)).toEqual([0, 3_000_000, 6_000_000]);
    // Never ready: each put off by 100 ms of run (2 million steps), then taken all the same.
    expect(at(() => false)).toEqual([0, 3_000_000, 8_000_000]);
  });

  it('seek(N) there equals a linear run', () => {
    const { s, cps } = checkpointsAt('dirty', 100, 12_000_000);
    expect(cps).toEqual([0, 1_000_000, 9_000_000]);
    const at = 6_543_210;
    s.seek({ position: at });
    const again = checkpointsAt('dirty', 5, at).s;
    expect(again.position).toBe(at);
    expect(s.stateHash()).toBe(again.stateHash());
  });
});
