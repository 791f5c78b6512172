// The screen through the worker's engine: frames go out when the screen
// changes (and at every stop), keys and the pointer reach the guest, and a
// seek back shows that moment's frame; the page's key and pointer mapping.
import { describe, expect, test, vi } from 'vitest';
import type { ScreenFrame, WorkerEvent } from '../../src/web/protocol.js';
import { filmstripPositions } from '../../ui/filmstrip.js';
import { keyEvents, pointerEvents } from '../../ui/screen-input.js';
import { engineHarness, guest, recordingHosts } from './support.js';

function harness() {
  const queue: (() => void)[] = [];
  let now = 0;
  const h = engineHarness({ defer: (fn) => queue.push(fn), now: () => (now += 1), ...recordingHosts });
  return {
    ...h,
    pump(max = 2000) {
      for (let i = 0; i < max && queue.length > 0; i++) queue.shift()!();
    },
    frames: () => h.events.flatMap((e: WorkerEvent) => (e.type === 'screen' ? [e.frame] : [])),
  };
}

const hex = (f: ScreenFrame | null | undefined) => (f ? Buffer.from(f.rgba).toString('hex') : null);

/** A key pressed and released on the canvas, and the guest run until it waits again. */
function press(h: ReturnType<typeof harness>, code: string) {
  h.engine.handle({ type: 'input', device: 'keyboard', events: keyEvents(code, true)! });
  h.engine.handle({ type: 'input', device: 'keyboard', events: keyEvents(code, false)! });
  h.pump();
}

/** Minefield recorded until it waits for input (at `at`), then a key pressed there. */
function minefieldAfter(code: string) {
  const h = harness();
  h.engine.handle({ type: 'load', image: guest('minefield'), run: true, record: true, screen: true });
  h.pump();
  const at = h.lastStatus().position;
  press(h, code);
  return { h, at };
}

describe('the screen in the engine', () => {
  test('sends minefield frames when they change; keys move the cursor; a seek shows the frame of then', () => {
    const h = harness();
    h.engine.handle({
      type: 'load',
      image: guest('minefield'),
      name: 'minefield.elf',
      run: true,
      record: true,
      screen: true,
    });
    h.pump();
    expect(h.lastStatus().state).toBe('waiting');
    const start = h.frames().at(-1)!;
    expect([start.width, start.height]).toEqual([240, 264]);
    const at = h.lastStatus().position;
    const sent = h.frames().length;

    h.engine.handle({ type: 'input', device: 'keyboard', events: keyEvents('ArrowRight', true)! });
    h.engine.handle({ type: 'input', device: 'keyboard', events: keyEvents('ArrowRight', false)! });
    h.pump();
    const moved = h.frames().at(-1)!;
    expect(h.frames().length).toBeGreaterThan(sent);
    expect(hex(moved)).not.toBe(hex(start));

    h.engine.handle({ type: 'seek', position: at });
    h.pump();
    expect(hex(h.frames().at(-1))).toBe(hex(start));

    // A pixel the move redrew: its last writer is a store of the move's frame, after the key.
    const end = h.lastStatus().end;
    h.engine.handle({ type: 'seek', position: end });
    const i = moved.rgba.findIndex((v, k) => v !== start.rgba[k]) >> 2;
    const writer = h.reply({ type: 'pixelWriter', x: i % 240, y: Math.floor(i / 240) }) as number;
    expect(writer).toBeGreaterThan(at);
    expect(writer).toBeLessThan(end);
    expect(h.lastStatus().position).toBe(writer);
    // A pixel outside the screen has no memory behind it: the machine stays put.
    expect(h.reply({ type: 'pixelWriter', x: 5000, y: 0 })).toBeNull();
    expect(h.lastStatus().position).toBe(writer);
  });

  test('a key in the past forks, and every status the page gets names a branch of the tree it was sent before', () => {
    const { h, at } = minefieldAfter('ArrowDown');
    h.engine.handle({ type: 'seek', position: at });
    const from = h.events.length;
    press(h, 'ArrowLeft');
    expect(h.lastStatus().branch).not.toBe('b0');
    // The page names the current branch from the tree it has: a status before its tree would show a bare id.
    let known = new Set<string>(['b0']);
    for (const e of h.events.slice(from)) {
      if (e.type === 'timeline') known = new Set(e.timeline.branches.map((b) => b.id));
      if (e.type === 'status') expect(known).toContain(e.status.branch);
    }
  });

  test('while a key is held the guest runs at real time, so a busy guest sees it held as long as it was', () => {
    vi.useFakeTimers();
    try {
      const queue: (() => void)[] = [];
      let clock = 0;
      const h = engineHarness({ defer: (fn) => queue.push(fn), now: () => clock, ...recordingHosts });
      const pump = (max = 1000) => {
        for (let i = 0; i < max && queue.length > 0; i++) queue.shift()!();
      };
      // A busy guest with a keyboard: it would run hundreds of ms of its time in a few ms of ours.
      h.engine.handle({ type: 'load', image: guest('bench'), name: 'bench.elf', record: true, screen: true });
      const from = h.lastStatus().position;
      h.engine.handle({ type: 'input', device: 'keyboard', events: keyEvents('KeyB', true)! });
      h.engine.handle({ type: 'run' });
      pump();
      // The wall clock stands still: one real-time slice (12 ms of the 10 MHz timebase), then it waits.
      const held = () => h.engine.status().position - from;
      expect(held()).toBeGreaterThan(0);
      expect(held()).toBeLessThanOrEqual(120_000);
      clock += 100;
      vi.advanceTimersByTime(100);
      pump();
      expect(held()).toBeGreaterThan(900_000);
      expect(held()).toBeLessThanOrEqual(1_120_000);
      // Released, it runs as fast as it can again.
      h.engine.handle({ type: 'input', device: 'keyboard', events: keyEvents('KeyB', false)! });
      vi.advanceTimersByTime(20);
      pump(50);
      expect(held()).toBeGreaterThan(5_000_000);
      h.engine.handle({ type: 'pause' });
    } finally {
      vi.useRealTimers();
    }
  });

  test('thumbnails: the screen at positions of the branch, shrunk; the machine stays where it was', () => {
    const { h, at } = minefieldAfter('ArrowDown');
    h.engine.handle({ type: 'pause' });
    const end = h.lastStatus().position;
    const thumbs = h.reply({ type: 'thumbnails', positions: [1, at, end], width: 60 }) as ScreenFrame[];
    // Nothing on the screen at 1: left out.
    expect(thumbs.map((t) => t.position)).toEqual([at, end]);
    expect([thumbs[0]!.width, thumbs[0]!.height]).toEqual([60, 66]);
    expect(hex(thumbs[0])).not.toBe(hex(thumbs[1]));
    expect(h.lastStatus().position).toBe(end);
  });

  test('the filmstrip spreads its moments over the run, the end among them', () => {
    const timeline = {
      branch: 'b0',
      branches: [],
      checkpoints: [0, 100, 200, 300],
      inputs: [150, 151, 152, 153, 154, 155],
      commands: [],
      output: [],
      bookmarks: [{ name: 'x', position: 250 }],
    };
    expect(filmstripPositions(timeline, 400, 20)).toEqual([100, 150, 151, 152, 153, 154, 155, 200, 250, 300, 400]);
    const few = filmstripPositions(timeline, 400, 4);
    expect(few).toHaveLength(4);
    expect(few[0]).toBe(100);
    expect(few.at(-1)).toBe(400);
  });

  test('a machine without a screen sends no frame but "none"', () => {
    const h = harness();
    h.engine.handle({ type: 'load', image: guest('hello'), run: true });
    h.pump();
    expect(h.frames()).toEqual([null]);
  });

  test('keys by their place and the pointer on the tablet axes', () => {
    expect(keyEvents('KeyA', true)).toEqual([
      { type: 1, code: 30, value: 1 },
      { type: 0, code: 0, value: 0 },
    ]);
    expect(keyEvents('ArrowUp', false)![0]).toEqual({ type: 1, code: 103, value: 0 });
    expect(keyEvents('NoSuchKey', true)).toBeNull();
    expect(pointerEvents(0, 1, { index: 2, down: true })).toEqual([
      { type: 3, code: 0, value: 0 },
      { type: 3, code: 1, value: 0x7fff },
      { type: 1, code: 0x111, value: 1 },
      { type: 0, code: 0, value: 0 },
    ]);
    expect(pointerEvents(2, -1)[0]!.value).toBe(0x7fff);
  });
});
