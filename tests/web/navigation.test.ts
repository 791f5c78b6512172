// The pure logic behind getting around: symbols and the addresses a user
// types, positions with k/M, command lines as marks, the zoomed timeline's
// window; and the worker's side of it on the default guest (the symbols it
// sends, pages of disassembly, command marks from what was typed).
import { describe, expect, test } from 'vitest';
import type { InputEvent } from '../../storage/index.js';
import { commandStarts } from '../../src/web/branches.js';
import type { DisasmLine, WorkerEvent } from '../../src/web/protocol.js';
import { SymbolTable } from '../../src/web/symbols.js';
import { parsePosition, resolveAddress } from '../../ui/format.js';
import { centredWindow, followWindow, MIN_SPAN, zoomStep } from '../../ui/timeline-window.js';
import { engineHarness, guest, recordingHosts } from './support.js';

const table = new SymbolTable([
  ['_start', 0x80000000],
  ['main', 0x80000970],
  ['P', 0x80001a70],
  ['__bss_start', 0x80001a70],
  ['add', 0x80000100],
]);

describe('symbols', () => {
  test('one name per address (the first listed), name+offset near one, nothing far from any', () => {
    expect(table.byAddress.get(0x80001a70)).toBe('P');
    expect(table.describe(0x80000970)).toBe('main');
    expect(table.describe(0x80000984)).toBe('main+0x14');
    expect(table.describe(0x80001a80)).toBe('P+0x10');
    expect(table.describe(0x7fffffff)).toBeUndefined();
    expect(table.describe(0x80001a70 + 0x20000)).toBeUndefined();
    expect(table.names).toEqual(['P', '__bss_start', '_start', 'add', 'main']);
  });

  test('what a user types: a name, name±offset (decimal unless 0x), or hex', () => {
    expect(resolveAddress('main', table)).toBe(0x80000970);
    expect(resolveAddress(' P+16 ', table)).toBe(0x80001a80);
    expect(resolveAddress('P + 0x10', table)).toBe(0x80001a80);
    expect(resolveAddress('main-4', table)).toBe(0x8000096c);
    expect(resolveAddress('80001000', table)).toBe(0x80001000);
    expect(resolveAddress('0x1000_0000', table)).toBe(0x10000000);
    expect(resolveAddress('#4096', table)).toBe(4096);
    // A name wins over hex that spells the same; 0x makes it hex.
    expect(resolveAddress('add', table)).toBe(0x80000100);
    expect(resolveAddress('0xadd', table)).toBe(0xadd);
    expect(resolveAddress('counter', table)).toBeNull();
    expect(resolveAddress('counter+4', table)).toBeNull();
    expect(resolveAddress('', table)).toBeNull();
  });

  test('the worker sends the default guest’s names and labels its code with them, never a mapping symbol or file', () => {
    const h = engineHarness({ defer: () => {} });
    h.engine.handle({ type: 'load', image: guest('default') });
    const loaded = h.last('loaded')!;
    const names = loaded.symbols.map(([n]) => n);
    expect(names).toEqual(expect.arrayContaining(['main', 'P', 'items', 'trap_entry']));
    expect(names.filter((n) => /^[$.]|\.[cS]$/.test(n))).toEqual([]);
    const main = loaded.symbols.find(([n]) => n === 'main')![1];
    const lines = h.reply({ type: 'disassemble', address: main, before: 200, after: 200 }) as DisasmLine[];
    const labels = lines.flatMap((l) => (l.symbol ? [l.symbol] : []));
    expect(labels).toContain('main');
    expect(labels.filter((n) => n.startsWith('$'))).toEqual([]);
  });
});

describe('disassembly pages', () => {
  test('a page above ends where the first line starts; a page below starts after the last; at most 256 a side', () => {
    const h = engineHarness({ defer: () => {} });
    h.engine.handle({ type: 'load', image: guest('default') });
    const main = h.last('loaded')!.symbols.find(([n]) => n === 'main')![1];
    const around = h.reply({ type: 'disassemble', address: main, before: 0, after: 10 }) as DisasmLine[];
    expect(around[0]!.address).toBe(main);
    const up = h.reply({ type: 'disassemble', address: main, before: 32, after: 0 }) as DisasmLine[];
    expect(up).toHaveLength(32);
    const last = up[up.length - 1]!;
    expect(last.address + last.length).toBe(main);
    const end = around[around.length - 1]!;
    const down = h.reply({
      type: 'disassemble',
      address: end.address + end.length,
      before: 0,
      after: 32,
    }) as DisasmLine[];
    expect(down[0]!.address).toBe(end.address + end.length);
    expect(h.reply({ type: 'disassemble', address: main, before: 0, after: 100_000 })).toHaveLength(256);
  });
});

describe('positions', () => {
  test('whole numbers with k and M, spaces and separators; nothing else', () => {
    expect(parsePosition('12345')).toBe(12345);
    expect(parsePosition('12 345')).toBe(12345);
    expect(parsePosition('1_000')).toBe(1000);
    expect(parsePosition('12k')).toBe(12000);
    expect(parsePosition('12K')).toBe(12000);
    expect(parsePosition('1.5M')).toBe(1_500_000);
    expect(parsePosition('1.001k')).toBe(1001);
    expect(parsePosition('0')).toBe(0);
    expect(parsePosition('1.5')).toBeNull();
    expect(parsePosition('-3')).toBeNull();
    expect(parsePosition('k')).toBeNull();
    expect(parsePosition('12x')).toBeNull();
    expect(parsePosition('')).toBeNull();
  });
});

describe('command lines as marks', () => {
  const uart = (position: number, text: string): InputEvent => ({
    position,
    time: 0,
    device: 'uart0',
    payload: new TextEncoder().encode(text),
  });

  test('one mark per line typed, at its first key; an Enter ends it', () => {
    const typed = [...'help\r'].map((c, i) => uart(100 + i * 10, c));
    const more = [...'look\r'].map((c, i) => uart(500 + i * 10, c));
    expect(commandStarts([...typed, ...more])).toEqual([100, 500]);
  });

  test('a paste is one event; Enters alone (an empty line, \\n after \\r) start nothing; a line not yet ended is a mark', () => {
    expect(
      commandStarts([uart(10, 'take bone\r'), uart(20, '\n'), uart(30, '\r'), uart(40, 'in'), uart(50, 'v')]),
    ).toEqual([10, 40]);
    // Other payload forms a recording may hold: a byte, a string.
    expect(
      commandStarts([
        { position: 1, time: 0, device: 'uart0', payload: 104 },
        { position: 2, time: 0, device: 'uart0', payload: '\r' },
        { position: 3, time: 0, device: 'uart0', payload: 'x' },
      ]),
    ).toEqual([1, 3]);
  });

  test('another device’s event is a mark of its own, and does not end a line', () => {
    const csr: InputEvent = { position: 25, time: 0, device: 'csr', payload: [0x300, 8] };
    expect(commandStarts([uart(10, 'ab'), csr, uart(30, 'c\r'), uart(40, 'd')])).toEqual([10, 25, 40]);
  });

  test('typed into the default guest, the timeline marks each command once', () => {
    const queue: (() => void)[] = [];
    let now = 0;
    const h = engineHarness({ defer: (fn) => queue.push(fn), now: () => (now += 1), ...recordingHosts });
    const pump = () => {
      for (let i = 0; i < 400 && queue.length > 0; i++) queue.shift()!();
    };
    h.engine.handle({ type: 'load', image: guest('default'), record: true, run: true });
    pump();
    for (const line of ['help\r', 'look\r', 'score\r'])
      for (const c of line) {
        h.engine.handle({ type: 'type', bytes: new TextEncoder().encode(c) });
        pump();
      }
    h.engine.handle({ type: 'pause' });
    const timeline = (h.events.filter((e) => e.type === 'timeline').pop() as Extract<WorkerEvent, { type: 'timeline' }>)
      .timeline;
    expect(timeline.inputs.length).toBeGreaterThanOrEqual(15);
    expect(timeline.commands).toHaveLength(3);
    expect(timeline.commands).toEqual([timeline.inputs[0], timeline.inputs[5], timeline.inputs[10]]);
  });
});

describe('the zoomed timeline’s window', () => {
  test('halves with each zoom in, down to MIN_SPAN steps; out stops at the whole run', () => {
    expect(zoomStep(1, 1, 10_000)).toBe(2);
    expect(zoomStep(64, 1, 10_000)).toBe(64);
    expect(10_000 / 64).toBeGreaterThanOrEqual(MIN_SPAN);
    expect(zoomStep(2, -1, 10_000)).toBe(1);
    expect(zoomStep(1, -1, 10_000)).toBe(1);
    expect(zoomStep(1, 1, 150)).toBe(1);
  });

  test('stays put while it holds the position, moves to centre it when not, never past the ends', () => {
    expect(followWindow(1000, 1, 700, 0)).toEqual({ from: 0, span: 1000 });
    expect(centredWindow(1000, 4, 500)).toEqual({ from: 375, span: 250 });
    expect(followWindow(1000, 4, 600, 375)).toEqual({ from: 375, span: 250 });
    expect(followWindow(1000, 4, 700, 375)).toEqual({ from: 575, span: 250 });
    expect(followWindow(1000, 4, 990, 375)).toEqual({ from: 750, span: 250 });
    expect(followWindow(1000, 4, 3, 375)).toEqual({ from: 0, span: 250 });
    // As the run grows, a window at the live end stays at the end.
    expect(followWindow(1200, 4, 1200, 750)).toEqual({ from: 900, span: 300 });
  });
});
