// The worker's engine, run in Node without a Worker: the protocol's commands
// and events against real guests.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { Request } from '../../src/web/client.js';
import type { Registers, Status } from '../../src/web/protocol.js';
import { nextSlice } from '../../src/web/engine.js';
import { engineHarness, guest, recordingHosts } from './support.js';

/** An engine with a recorded event list and a hand-cranked scheduler. */
function harness(recording = false) {
  const queue: (() => void)[] = [];
  let now = 0;
  const h = engineHarness({
    defer: (fn) => queue.push(fn),
    now: () => (now += 1),
    ...(recording ? recordingHosts : {}),
  });
  return {
    ...h,
    /** Runs queued slices until nothing is queued or `max` ticks passed. */
    pump(max = 1000) {
      for (let i = 0; i < max && queue.length > 0; i++) queue.shift()!();
    },
    output: () =>
      new TextDecoder().decode(Uint8Array.from(h.events.flatMap((e) => (e.type === 'output' ? [...e.bytes] : [])))),
  };
}

describe('engine', () => {
  test('loads a program paused at position 0 and announces it', () => {
    const h = harness();
    h.engine.handle({ type: 'load', image: guest('hello'), name: 'hello.elf' });
    expect(h.events.some((e) => e.type === 'ready' && e.capabilities.timeTravel === false)).toBe(true);
    const loaded = h.events.find((e) => e.type === 'loaded');
    expect(loaded && loaded.type === 'loaded' && loaded.name).toBe('hello.elf');
    expect(h.lastStatus()).toMatchObject({ state: 'paused', position: 0, end: 0, cause: 'load', branch: 'b0' });
    expect(h.events.some((e) => e.type === 'registers')).toBe(true);
    expect(h.events.some((e) => e.type === 'stats')).toBe(true);
  });

  test('runs to power-off in slices and reports the output', () => {
    const h = harness();
    h.engine.handle({ type: 'load', image: guest('hello'), run: true });
    expect(h.lastStatus().state).toBe('running');
    h.pump();
    expect(h.output()).toContain("Hello from Rewind guest 'hello'!");
    expect(h.lastStatus()).toMatchObject({ state: 'off', cause: 'power', power: { kind: 'pass', code: 0 } });
    // Running a machine that is off stays off.
    h.engine.handle({ type: 'run' });
    expect(h.lastStatus().state).toBe('off');
  });

  test('step advances exactly one position; step N by N', () => {
    const h = harness();
    h.engine.handle({ type: 'load', image: guest('default') });
    const s1 = h.reply({ type: 'step' }) as Status;
    expect(s1.position).toBe(1);
    expect(s1.state).toBe('paused');
    const s2 = h.reply({ type: 'step', count: 100 }) as Status;
    expect(s2.position).toBe(101);
    expect(h.lastStatus()).toMatchObject({ position: 101, cause: 'step' });
  });

  test('pause stops the position advancing; typed input gets the guest’s answer', () => {
    const h = harness();
    h.engine.handle({ type: 'load', image: guest('default'), run: true });
    for (let i = 0; i < 200 && !h.output().includes('> '); i++) h.pump(1);
    expect(h.output()).toContain('THE VAULT OF REWIND');
    h.engine.handle({ type: 'type', bytes: new TextEncoder().encode('help\r') });
    for (let i = 0; i < 400 && !h.output().includes('Commands:'); i++) h.pump(1);
    expect(h.output()).toContain('Commands:');
    h.engine.handle({ type: 'pause' });
    const at = h.lastStatus();
    expect(at).toMatchObject({ state: 'paused', cause: 'user' });
    h.pump();
    expect(h.engine.status().position).toBe(at.position);
  });

  test('a breakpoint stops the run before the instruction; a watchpoint after the store', () => {
    const h = harness();
    const image = guest('default');
    h.engine.handle({ type: 'load', image });
    const loaded = h.events.find((e) => e.type === 'loaded');
    if (loaded?.type !== 'loaded') throw new Error('not loaded');
    const main = loaded.symbols.find(([n]) => n === 'main');
    expect(main).toBeDefined();
    h.engine.handle({ type: 'setBreakpoints', addresses: [main![1]] });
    h.engine.handle({ type: 'run' });
    h.pump();
    expect(h.lastStatus()).toMatchObject({ state: 'paused', cause: 'breakpoint', pc: main![1] });
    // Running on resumes past the breakpoint it stands on.
    const regs = h.reply({ type: 'getRegisters' }) as Registers;
    const sp = regs.x[2]!;
    h.engine.handle({ type: 'setBreakpoints', addresses: [] });
    h.engine.handle({ type: 'setWatchpoints', ranges: [{ address: sp - 64, length: 64 }] });
    h.engine.handle({ type: 'run' });
    h.pump();
    const st = h.lastStatus();
    expect(st.cause).toBe('watchpoint');
    expect(st.watchAddress).toBeGreaterThanOrEqual(sp - 64);
    expect(st.watchAddress).toBeLessThan(sp);
  });

  test('reads memory without side effects, marking what cannot be read', () => {
    const h = harness();
    h.engine.handle({ type: 'load', image: guest('hello') });
    const block = h.reply({ type: 'readMemory', address: 0x80000000 - 2, length: 6 }) as {
      bytes: Uint8Array;
      readable: Uint8Array;
    };
    expect([...block.readable]).toEqual([0, 0, 1, 1, 1, 1]);
    // The entry instruction's bytes are those of the ELF's first segment.
    const uart = h.reply({ type: 'readMemory', address: 0x10000000, length: 8 }) as { readable: Uint8Array };
    expect([...uart.readable].every((b) => b === 0)).toBe(true);
  });

  test('disassembles around pc, the pc line included', () => {
    const h = harness();
    h.engine.handle({ type: 'load', image: guest('default') });
    h.reply({ type: 'step', count: 50 });
    const pc = h.engine.status().pc;
    const lines = h.reply({ type: 'disassemble', before: 4, after: 6 }) as {
      address: number;
      text: string;
      length: number;
    }[];
    const at = lines.findIndex((l) => l.address === pc);
    expect(at).toBeGreaterThanOrEqual(1);
    expect(lines.length - at).toBe(6);
    for (let i = 1; i < lines.length; i++) expect(lines[i]!.address).toBe(lines[i - 1]!.address + lines[i - 1]!.length);
    expect(lines[at]!.text).toMatch(/^[a-z]/);
  });

  test('time-travel commands answer no-time-travel until the host records', () => {
    const h = harness();
    h.engine.handle({ type: 'load', image: guest('hello') });
    for (const cmd of [
      { type: 'seek', position: 0 },
      { type: 'stepBack' },
      { type: 'reverseContinue' },
      { type: 'fork' },
      { type: 'exportVmi' },
    ] as Request[]) {
      expect(() => h.reply(cmd)).toThrow(expect.objectContaining({ code: 'no-time-travel' }));
    }
    // Importing opens a recording in place of the machine: the file is checked like any other.
    expect(() => h.reply({ type: 'importVmi', bytes: new Uint8Array(4) })).toThrow(
      expect.objectContaining({ code: 'bad-vmi' }),
    );
  });

  test('a guest asleep waiting for input goes to waiting and wakes on typing', () => {
    const h = harness();
    h.engine.handle({ type: 'load', image: guest('irqecho'), run: true });
    h.pump();
    expect(h.lastStatus().state).toBe('waiting');
    const before = h.output().length;
    h.engine.handle({ type: 'type', bytes: new TextEncoder().encode('x') });
    expect(h.engine.status().state).toBe('running');
    for (let i = 0; i < 50 && h.output().length === before; i++) h.pump(1);
    expect(h.output().length).toBeGreaterThan(before);
  });

  test('a guest polling the UART for input goes to waiting, so the timeline stops growing, and wakes on typing', () => {
    const h = harness(true);
    h.engine.handle({ type: 'load', image: guest('echo'), run: true, record: true });
    h.pump();
    expect(h.lastStatus().state).toBe('waiting');
    const end = h.lastStatus().end;
    h.pump();
    expect(h.engine.status().end).toBe(end);
    h.engine.handle({ type: 'type', bytes: new TextEncoder().encode('echo hi\r') });
    expect(h.engine.status().state).toBe('running');
    h.pump();
    expect(h.output()).toMatch(/\nhi\r?\n/);
    expect(h.lastStatus().state).toBe('waiting');
  });

  test('slices: a busy guest gets ~12 ms of wall time; a mostly idle one ~12 ms of virtual time and a wait for the clock', () => {
    // Busy: 100k steps took 6 ms → the slice doubles; took 24 ms → it halves.
    expect(nextSlice(100_000, 100_000, true, 0, 6)).toEqual({ slice: 200_000, pauseMs: 0 });
    expect(nextSlice(100_000, 100_000, true, 0, 24)).toEqual({ slice: 50_000, pauseMs: 0 });
    // Idle OS: 20k steps and 980k ticks asleep = 100 ms of virtual time (10 MHz) in 2 ms of wall time.
    expect(nextSlice(100_000, 20_000, false, 980_000, 2)).toEqual({ slice: 2_400, pauseMs: 98 });
    // Far ahead: the wait is capped so that commands are still handled.
    expect(nextSlice(100_000, 20_000, false, 100_000_000, 2).pauseMs).toBe(100);
  });

  test('stats carry page bitmaps and console counters; dirty flags are left alone', () => {
    const h = harness();
    h.engine.handle({ type: 'load', image: guest('hello'), run: true });
    h.pump();
    const stats = h.events.filter((e) => e.type === 'stats').pop();
    if (stats?.type !== 'stats') throw new Error('no stats');
    const s = stats.stats;
    expect(s.ramPages).toBe(16384);
    expect(s.ramTouched.length).toBe(2048);
    expect(s.ramTouched.some((b) => b !== 0)).toBe(true);
    expect(s.uartOut).toBeGreaterThan(50);
    expect(h.engine.host!.machine.ram.dirty.some((b) => b !== 0)).toBe(true);
  });

  test('bench runs a fresh machine and measures it', () => {
    const h = harness();
    const r = h.reply({ type: 'bench', image: guest('hello') }) as { steps: number; output: string };
    expect(r.steps).toBeGreaterThan(1000);
    expect(r.output).toContain('Hello from Rewind');
  });

  test('a pace cap keeps slices to its size and holds the next one back until the wall clock catches up', () => {
    const h = harness();
    h.engine.handle({ type: 'setPace', mips: 1 });
    h.engine.handle({ type: 'load', image: guest('bench'), run: true });
    // The hand-cranked clock advances 1 ms per look: at 1 MIPS a slice of 12 ms is 12,000 instructions, then it waits on a timer.
    h.pump();
    expect(h.engine.status().position).toBeGreaterThan(0);
    expect(h.engine.status().position).toBeLessThanOrEqual(12_000);
    h.engine.handle({ type: 'pause' });
  });

  test('setRam rebuilds the machine with that RAM, paused at reset; a size that is not whole MiB is refused', () => {
    const h = harness();
    h.engine.handle({ type: 'load', image: guest('hello'), run: true });
    h.pump();
    h.reply({ type: 'setRam', ramSize: 16 * 2 ** 20 });
    expect(h.last('loaded')).toMatchObject({ name: 'program', ramSize: 16 * 2 ** 20 });
    expect(h.lastStatus()).toMatchObject({ state: 'paused', position: 0 });
    expect(() => h.reply({ type: 'setRam', ramSize: 1000 })).toThrow(expect.objectContaining({ code: 'bad-argument' }));
    expect(() => h.reply({ type: 'setRam', ramSize: 4096 * 2 ** 20 })).toThrow(/from 1 to 2048/);
  });

  test('a bad program is an error with a message a user can act on', () => {
    const h = harness();
    expect(() => h.reply({ type: 'load', image: new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2]) })).toThrow(/ELF/);
    expect(() => h.reply({ type: 'run' })).toThrow(expect.objectContaining({ code: 'no-machine' }));
  });
});

describe('engine with a recording host (time travel)', () => {
  test('reports time travel; steps back, seeks, runs back to a breakpoint, forks', () => {
    const h = harness(true);
    h.engine.handle({ type: 'load', image: guest('default'), record: true });
    expect(h.events.filter((e) => e.type === 'ready').pop()).toMatchObject({ capabilities: { timeTravel: true } });
    h.reply({ type: 'step', count: 1000 });
    const pcAt999 = (() => {
      h.reply({ type: 'stepBack' });
      return h.engine.status();
    })();
    expect(pcAt999).toMatchObject({ position: 999, end: 1000, state: 'paused' });
    h.reply({ type: 'seek', position: 10 });
    expect(h.engine.status()).toMatchObject({ position: 10, end: 1000, cause: 'seek' });
    // A breakpoint at the pc of position 500: run back from 1000 finds its last hit.
    h.reply({ type: 'seek', position: 500 });
    const pc500 = h.engine.status().pc;
    h.reply({ type: 'seek', position: 1000 });
    h.engine.handle({ type: 'setBreakpoints', addresses: [pc500] });
    expect(h.reply({ type: 'reverseContinue' })).toBe('breakpoint');
    const back = h.engine.status();
    expect(back.pc).toBe(pc500);
    expect(back.position).toBeGreaterThanOrEqual(500);
    expect(back.position).toBeLessThan(1000);
    // The engine's breakpoints survive the search: running on from before the hit stops at it again.
    h.reply({ type: 'seek', position: back.position - 1 });
    h.reply({ type: 'run' });
    h.pump();
    expect(h.engine.status()).toMatchObject({ position: back.position, cause: 'breakpoint', pc: pc500 });
    const id = h.reply({ type: 'fork', name: 'other' }) as string;
    expect(h.engine.status().branch).toBe(id);
  });

  test('typing in the past at an input mark gives the guest the new input alone, and runs on at once', () => {
    const h = harness(true);
    const typeAndWait = (text: string, until: string) => {
      const from = h.output().length;
      h.engine.handle({ type: 'type', bytes: new TextEncoder().encode(text) });
      for (let i = 0; i < 400 && !h.output().slice(from).includes(until); i++) h.pump(1);
    };
    h.engine.handle({ type: 'load', image: guest('default'), record: true, run: true });
    for (let i = 0; i < 400 && !h.output().includes('> '); i++) h.pump(1);
    typeAndWait('e\r', 'Exits: east west\r\n> ');
    typeAndWait('take bone\r', 'Taken: bone.\r\n> ');
    h.engine.handle({ type: 'pause' });
    const main = h.engine.status().branch;
    const timeline = h.last('timeline')!.timeline;
    const t = timeline.inputs.at(-10)!;
    const echo = timeline.output.find((p) => p > t)!;
    // At `t`'s own position; one step later, with `t` unread in the UART; as the guest is about to echo it, `t` read:
    // each time the console ends with a bare prompt.
    for (const at of [t, t + 1, echo]) {
      h.reply({ type: 'seek', branch: main, position: at });
      const shown = h.last('console')!;
      expect(new TextDecoder().decode(shown.bytes)).toMatch(/Exits: east west\r\n> $/);
      const from = h.output().length;
      // Key by key, as the page sends them.
      h.engine.handle({ type: 'type', bytes: new TextEncoder().encode('w') });
      // The fork runs on by itself, as at the live end.
      expect(h.engine.status().state).toBe('running');
      expect(h.engine.status().branch).not.toBe(main);
      h.pump(3);
      h.engine.handle({ type: 'type', bytes: new TextEncoder().encode('\r') });
      for (let i = 0; i < 400 && !h.output().slice(from).includes('> '); i++) h.pump(1);
      const answer = h.output().slice(from);
      expect(answer).toMatch(/^w\r\n== Gate Hall ==/);
      expect(answer).not.toContain('understand');
      h.engine.handle({ type: 'pause' });
    }
  });

  test("the console's byte counts follow time travel: none at position 0, those of the point after a seek", () => {
    const h = harness(true);
    const stats = () => h.last('stats')!.stats;
    h.engine.handle({ type: 'load', image: guest('default'), record: true, run: true });
    for (let i = 0; i < 400 && !h.output().includes('> '); i++) h.pump(1);
    const before = h.output().length;
    h.engine.handle({ type: 'type', bytes: new TextEncoder().encode('e\r') });
    for (let i = 0; i < 400 && !h.output().slice(before).includes('> '); i++) h.pump(1);
    h.engine.handle({ type: 'pause' });
    const end = h.engine.status().position;
    const live = stats();
    expect(live).toMatchObject({ uartOut: h.output().length, uartIn: 2 });
    h.reply({ type: 'seek', position: 0 });
    expect(stats()).toMatchObject({ position: 0, uartOut: 0, uartIn: 0 });
    // Where the prompt was shown, before anything was typed.
    const prompt = h.last('timeline')!.timeline.inputs[0]!;
    h.reply({ type: 'seek', position: prompt });
    expect(stats()).toMatchObject({ uartOut: before, uartIn: 0 });
    h.reply({ type: 'seek', position: end });
    expect(stats()).toMatchObject({ uartOut: live.uartOut, uartIn: 2 });
  });

  test('a disk attached restarts the program with it; the disk is read as it is at any position, and kept by the .vmi', () => {
    const h = harness(true);
    h.engine.handle({ type: 'load', image: guest('virtio'), name: 'virtio.elf', record: true, run: true });
    h.pump();
    expect(h.output()).toContain('FAIL: no virtio block device found');
    expect(h.last('loaded')).toMatchObject({ diskSize: null });
    expect(() => h.reply({ type: 'readDisk' })).toThrow('no disk is attached to this machine');
    expect(() => h.reply({ type: 'attachDisk', disk: new Uint8Array(0) })).toThrow('the disk image is empty');

    const image = new Uint8Array(readFileSync(join(process.cwd(), 'guests/virtio/disk.img')));
    h.reply({ type: 'attachDisk', disk: image.slice(), name: 'virtio.elf + disk.img' });
    expect(h.last('loaded')).toMatchObject({ name: 'virtio.elf + disk.img', diskSize: image.length });
    expect(h.engine.status()).toMatchObject({ state: 'running', position: 0 });
    h.pump();
    expect(h.output()).toContain('|Hello from the R|');
    expect(h.lastStatus()).toMatchObject({ state: 'off', power: { kind: 'pass' } });
    const end = h.engine.status().position;
    const text = (bytes: Uint8Array, at: number) => new TextDecoder().decode(bytes.subarray(at, at + 17));
    const atEnd = h.reply({ type: 'readDisk' }) as { bytes: Uint8Array; position: number };
    expect(atEnd.position).toBe(end);
    expect(atEnd.bytes.length).toBe(image.length);
    expect(text(atEnd.bytes, 1024)).toBe('REWIND WROTE THIS');
    // Time travel: at position 0 the disk is as attached.
    h.reply({ type: 'seek', position: 0 });
    expect((h.reply({ type: 'readDisk' }) as { bytes: Uint8Array }).bytes).toEqual(image);
    // The .vmi keeps the disk: opened again, it is the same at both ends.
    const file = h.reply({ type: 'exportVmi' }) as { bytes: Uint8Array };
    h.reply({ type: 'importVmi', bytes: file.bytes });
    expect(h.last('loaded')).toMatchObject({ diskSize: image.length });
    expect(text((h.reply({ type: 'readDisk' }) as { bytes: Uint8Array }).bytes, 1024)).toBe('REWIND WROTE THIS');
    h.reply({ type: 'seek', position: 0 });
    expect((h.reply({ type: 'readDisk' }) as { bytes: Uint8Array }).bytes).toEqual(image);
  });

  test('exports a .vmi and imports it again', () => {
    const h = harness(true);
    h.engine.handle({ type: 'load', image: guest('hello'), record: true, run: true });
    h.pump();
    const end = h.engine.status().position;
    expect(h.engine.status().state).toBe('off');
    const file = h.reply({ type: 'exportVmi' }) as { bytes: Uint8Array; name: string };
    expect(file.bytes.length).toBeGreaterThan(100);
    // An import opens where the recording ends.
    expect(h.reply({ type: 'importVmi', bytes: file.bytes, name: 'x.vmi' })).toEqual({ branch: 'b0', position: end });
    expect(h.engine.status()).toMatchObject({ position: end, end });
    expect(() => h.reply({ type: 'importVmi', bytes: new Uint8Array(64) })).toThrow();
  });
});

describe('a budget for recordings', () => {
  test('a recording run past the budget the page set keeps its pages within it, and its .vmi says so', () => {
    const h = harness(true);
    h.engine.handle({ type: 'setBudget', bytes: 1 << 20 });
    h.engine.handle({ type: 'load', image: guest('memops'), record: true });
    h.engine.handle({ type: 'type', bytes: new TextEncoder().encode('5000\n') });
    h.engine.handle({ type: 'run' });
    h.pump(100_000);
    const status = h.lastStatus();
    expect(status.position).toBeGreaterThan(200_000_000);
    const file = h.reply({ type: 'exportVmi' }) as { bytes: Uint8Array };
    expect(file.bytes.length).toBeLessThanOrEqual(1 << 20);
    const timeline = h.events.filter((e) => e.type === 'timeline').at(-1);
    expect(timeline?.type === 'timeline' && timeline.timeline.checkpoints.length).toBeLessThan(
      status.position / 10_000_000,
    );
  });
});
