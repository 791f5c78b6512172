import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RewindError } from '../../core/errors.js';
import { Timeline, foldTimelineLog, type InputEvent } from '../../storage/timeline.js';
import { pack, unpack } from '../../storage/codec.js';

const ev = (position: number, b: number): InputEvent => ({
  position,
  time: position,
  device: 'uart0',
  payload: Uint8Array.of(b),
});

describe('Timeline', () => {
  it('folds its log to the live tree', () => {
    const t = Timeline.create();
    const root = t.root().id;
    t.extendTo(root, 1000);
    t.appendEvents(root, [ev(10, 1), ev(10, 2), ev(500, 3)]);
    t.addCheckpoint(root, { id: 'c0', position: 0 });
    t.addCheckpoint(root, { id: 'c400', position: 400 });
    // Out of order: it goes between the two.
    t.addCheckpoint(root, { id: 'c200', position: 200 });
    const kid = t.fork(root, 300, 'try-2');
    t.rename(kid, 'second try');
    t.addBookmark(kid, 'login', 350);
    t.addBookmark(kid, 'login', 360);
    t.extendTo(kid, 800);
    t.appendEvents(kid, [ev(300, 9)]);
    const gone = t.fork(root, 100, 'scratch');
    t.deleteBranch(gone);
    expect(foldTimelineLog(t.log)).toEqual(t.state);
    // and after a round-trip of the log through msgpack (what storage does)
    expect(foldTimelineLog(unpack(pack(t.log)) as never)).toEqual(t.state);
    expect(Timeline.fromLog(t.log).state).toEqual(t.state);
    expect(t.branch(kid).bookmarks).toEqual([{ name: 'login', position: 360 }]);
    expect(t.branch(root).checkpoints.map((c) => c.id)).toEqual(['c0', 'c200', 'c400']);
  });

  it('answers lineage, checkpoint and event queries across forks', () => {
    const t = Timeline.create();
    const root = t.root().id;
    t.extendTo(root, 1000);
    t.appendEvents(root, [ev(50, 1), ev(100, 2), ev(200, 3)]);
    t.addCheckpoint(root, { id: 'r0', position: 0 });
    t.addCheckpoint(root, { id: 'r100', position: 100 });
    t.addCheckpoint(root, { id: 'r150', position: 150 });
    const a = t.fork(root, 100, 'a');
    t.extendTo(a, 400);
    t.appendEvents(a, [ev(100, 20), ev(300, 21)]);
    t.addCheckpoint(a, { id: 'a250', position: 250 });
    const b = t.fork(a, 260, 'b');
    t.extendTo(b, 500);
    t.appendEvents(b, [ev(270, 30)]);

    expect(t.lineage(b)).toEqual([
      { branch: root, from: 0, to: 100 },
      { branch: a, from: 100, to: 260 },
      { branch: b, from: 260, to: Infinity },
    ]);
    // Parent checkpoints at or before the fork are inherited; after it are not.
    expect(t.checkpointAtOrBefore(a, 120)?.id).toBe('r100');
    expect(t.checkpointAtOrBefore(a, 99)?.id).toBe('r0');
    expect(t.checkpointAtOrBefore(b, 1000)?.id).toBe('a250');
    expect(t.checkpointAtOrBefore(root, 1000)?.id).toBe('r150');
    // Events: the parent's at the fork position are not inherited; the child's own are.
    const payloads = (es: InputEvent[]) => es.map((e) => (e.payload as Uint8Array)[0]);
    expect(payloads(t.eventsBetween(a, 0, 1000))).toEqual([1, 20, 21]);
    expect(payloads(t.eventsBetween(b, 0, 1000))).toEqual([1, 20, 30]);
    expect(payloads(t.eventsBetween(b, 100, 271))).toEqual([20, 30]);
    expect(payloads(t.eventsBetween(root, 0, 1000))).toEqual([1, 2, 3]);
    expect(payloads(t.eventsBetween(root, 50, 100))).toEqual([1]);
    expect(t.checkpointAtOrBefore(b, 280)?.id).toBe('a250');
    expect(payloads(t.eventsBetween(b, 250, 280))).toEqual([30]);
  });

  it('forks at a position before the parent began from the ancestor that owns it', () => {
    const t = Timeline.create();
    const root = t.root().id;
    t.extendTo(root, 1000);
    const a = t.fork(root, 500, 'a');
    const c = t.fork(a, 200, 'c');
    expect(t.branch(c).parent).toBe(root);
  });

  it('rejects bad changes with RewindError', () => {
    const t = Timeline.create();
    const root = t.root().id;
    t.extendTo(root, 100);
    expect(() => t.fork(root, 101, 'x')).toThrow(RewindError);
    expect(() => t.deleteBranch(root)).toThrow('cannot delete the root branch');
    const a = t.fork(root, 10, 'a');
    t.fork(a, 10, 'aa');
    expect(() => t.deleteBranch(a)).toThrow(/fork from it/);
    t.appendEvents(root, [ev(50, 1)]);
    expect(() => t.appendEvents(root, [ev(40, 1)])).toThrow(/comes before/);
    expect(() => t.branch('nope')).toThrow(/no branch/);
  });

  it('fold = live tree after random operations (property)', () => {
    const op = fc.oneof(
      fc.record({ k: fc.constant('fork' as const), b: fc.nat(), p: fc.nat(2000) }),
      fc.record({ k: fc.constant('extend' as const), b: fc.nat(), p: fc.nat(3000) }),
      fc.record({ k: fc.constant('event' as const), b: fc.nat(), p: fc.nat(100) }),
      fc.record({ k: fc.constant('bookmark' as const), b: fc.nat(), p: fc.nat(3000) }),
      fc.record({ k: fc.constant('checkpoint' as const), b: fc.nat(), p: fc.nat(100) }),
      fc.record({ k: fc.constant('rename' as const), b: fc.nat(), p: fc.nat() }),
      fc.record({ k: fc.constant('delete' as const), b: fc.nat(), p: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const t = Timeline.create();
        for (const o of ops) {
          const all = t.branches();
          const b = all[o.b % all.length]!;
          try {
            switch (o.k) {
              case 'fork':
                t.fork(b.id, o.p, `f${o.p}`);
                break;
              case 'extend':
                t.extendTo(b.id, o.p);
                break;
              case 'event': {
                const last = b.events.at(-1)?.position ?? b.forkPosition;
                t.appendEvents(b.id, [ev(last + o.p, o.p & 255)]);
                break;
              }
              case 'bookmark':
                t.addBookmark(b.id, `m${o.p % 3}`, o.p);
                break;
              case 'checkpoint':
                t.addCheckpoint(b.id, { id: `c${b.id}-${o.p}`, position: b.forkPosition + o.p });
                break;
              case 'rename':
                t.rename(b.id, `n${o.p}`);
                break;
              case 'delete':
                t.deleteBranch(b.id);
                break;
            }
          } catch (e) {
            if (!(e instanceof RewindError)) throw e;
          }
        }
        expect(foldTimelineLog(t.log)).toEqual(t.state);
        for (const br of t.branches()) {
          const cps = br.checkpoints.map((c) => c.position);
          expect(cps).toEqual([...cps].sort((x, y) => x - y));
        }
      }),
      { numRuns: 100 },
    );
  });
});

describe('the log of a long run', () => {
  it('keeps one entry for a run of extensions, and still folds to the tree', () => {
    const t = Timeline.create('main');
    const root = t.root().id;
    const before = t.log.length;
    for (let i = 1; i <= 1000; i++) t.extendTo(root, i * 1000);
    t.addBookmark(root, 'here', 5000);
    for (let i = 1001; i <= 2000; i++) t.extendTo(root, i * 1000);
    expect(t.log.length).toBe(before + 3);
    expect(foldTimelineLog(t.log)).toEqual(t.state);
    expect(t.branch(root).length).toBe(2_000_000);
  });
});

describe('events appended in place', () => {
  it('fold to the same tree, stay out of the log entries written before them, and out of a snapshot', () => {
    const t = Timeline.create('main');
    const root = t.root().id;
    t.appendEvents(root, [ev(5, 1)]);
    t.extendTo(root, 10);
    const kid = t.fork(root, 10, 'kid');
    const before = t.log.length;
    const early = foldTimelineLog(t.log);
    const snap = t.snapshot();
    for (let i = 0; i < 500; i++) t.appendEvents(i % 2 ? root : kid, [ev(10 + i, i & 255)]);
    // The log written before the appends still folds to the tree as it was then.
    expect(foldTimelineLog(t.log.slice(0, before))).toEqual(early);
    expect(snap.branches[kid]!.events).toEqual([]);
    expect(snap.branches[root]!.events).toEqual([ev(5, 1)]);
    expect(foldTimelineLog(t.log)).toEqual(t.state);
    expect(foldTimelineLog(unpack(pack(t.log)) as never)).toEqual(t.state);
    expect(t.branch(kid).events).toHaveLength(250);
    expect(t.eventsBetween(kid, 0, Infinity).map((e) => e.position)).toEqual([
      5,
      ...Array.from({ length: 250 }, (_, i) => 10 + 2 * i),
    ]);
  });
});
