// @vitest-environment happy-dom
// The app's components against a fake worker client: accessible names,
// what each control sends, and how worker events show.
import { flushSync } from 'svelte';
import { afterEach, describe, expect, test } from 'vitest';
import Controls from '../../ui/Controls.svelte';
import Disassembly from '../../ui/Disassembly.svelte';
import Help from '../../ui/Help.svelte';
import MachinePicture from '../../ui/MachinePicture.svelte';
import MemoryView from '../../ui/MemoryView.svelte';
import Registers from '../../ui/Registers.svelte';
import Csrs from '../../ui/Csrs.svelte';
import Timeline from '../../ui/Timeline.svelte';
import Watchpoints from '../../ui/Watchpoints.svelte';
import { AppState, NEEDS_RECORDING } from '../../ui/app.svelte.js';
import { parseAddress } from '../../ui/format.js';
import type { Command, Registers as Regs, Status, WorkerEvent } from '../../src/web/protocol.js';
import { FakeClient, render, shortcutOfKey, unmountAll } from './support.js';

const status = (s: Partial<Status>): WorkerEvent => ({
  type: 'status',
  status: { state: 'paused', position: 0, end: 0, branch: 'main', pc: 0x80000000, priv: 3, ...s },
});
const regs = (r: Partial<Regs>): WorkerEvent => ({
  type: 'registers',
  registers: { position: 0, pc: 0x80000000, priv: 3, x: new Array(32).fill(0), csr: { mstatus: 0, mepc: 0 }, ...r },
});

const LOADED: Extract<WorkerEvent, { type: 'loaded' }> = {
  type: 'loaded',
  name: 'guest.elf',
  entry: 0x80000000,
  symbols: [],
  ramSize: 64 << 20,
  executor: 'jit',
  executorNote: null,
  diskSize: null,
};

afterEach(unmountAll);

/** The accessible name of an element: aria-label, else its text without aria-hidden parts. */
function nameOf(el: Element): string {
  const label = el.getAttribute('aria-label');
  if (label) return label;
  const parts: string[] = [];
  const walk = (n: Node) => {
    if (n.nodeType === 3) parts.push(n.textContent ?? '');
    else if (n instanceof Element && n.getAttribute('aria-hidden') !== 'true') n.childNodes.forEach(walk);
  };
  el.childNodes.forEach(walk);
  return parts.join('').replace(/\s+/g, ' ').trim();
}
function button(root: Element, name: string): HTMLButtonElement {
  const hit = [...root.querySelectorAll('button')].find((b) => nameOf(b) === name);
  if (!hit)
    throw new Error(`no button named ${name}; have ${[...root.querySelectorAll('button')].map(nameOf).join(', ')}`);
  return hit;
}

function setup() {
  // Unanswered requests fail as a worker without recording fails them.
  const client = new FakeClient(() =>
    Promise.reject(Object.assign(new Error('this needs a recording'), { code: 'no-time-travel' })),
  );
  const app = new AppState(client);
  return { client, app };
}

describe('Controls', () => {
  test('has the named buttons; time travel ones are disabled with a reason until the worker can record', () => {
    const { client, app } = setup();
    const root = render(Controls, { app });
    client.emit({ type: 'ready', capabilities: { timeTravel: false } });
    client.emit(status({ state: 'paused', cause: 'load' }));
    for (const name of ['Run', 'Pause', 'Step', 'Step back', 'Run back', 'Fork', 'Export', 'Import'])
      expect(button(root, name)).toBeTruthy();
    for (const name of ['Step back', 'Run back', 'Fork', 'Export', 'Import']) {
      expect(button(root, name).disabled).toBe(true);
      expect(button(root, name).title).toBe(NEEDS_RECORDING);
    }
    expect(button(root, 'Pause').disabled).toBe(true);
    client.emit({ type: 'ready', capabilities: { timeTravel: true } });
    for (const name of ['Step back', 'Run back', 'Fork', 'Export', 'Import'])
      expect(button(root, name).disabled).toBe(false);
  });

  test('Run, Pause and Step send their commands', () => {
    const { client, app } = setup();
    const root = render(Controls, { app });
    client.emit(status({ state: 'paused', cause: 'load' }));
    button(root, 'Run').click();
    expect(client.sent.pop()).toEqual({ type: 'run' });
    client.emit(status({ state: 'running' }));
    expect(button(root, 'Run').disabled).toBe(true);
    button(root, 'Pause').click();
    expect(client.sent.pop()).toEqual({ type: 'pause' });
    client.emit(status({ state: 'paused', cause: 'user' }));
    button(root, 'Step').click();
    expect(client.sent.pop()).toEqual({ type: 'step', count: 1 });
  });

  test('time travel buttons send the protocol’s commands once enabled', () => {
    const { client, app } = setup();
    const root = render(Controls, { app });
    client.emit({ type: 'ready', capabilities: { timeTravel: true } });
    client.emit(status({ state: 'paused', position: 42, end: 100, cause: 'user' }));
    button(root, 'Step back').click();
    button(root, 'Run back').click();
    button(root, 'Fork').click();
    const travel = client.sent.filter((c) => ['stepBack', 'reverseContinue', 'fork'].includes(c.type));
    expect(travel.map((c) => c.type)).toEqual(['stepBack', 'reverseContinue', 'fork']);
    expect(travel[2]).toMatchObject({ position: 42 });
  });
});

describe('Timeline', () => {
  test('is a slider named Timeline whose value is the position', () => {
    const { client, app } = setup();
    const root = render(Timeline, { app });
    client.emit(status({ state: 'running', position: 1234, end: 1234 }));
    const slider = root.querySelector('input[type=range]')!;
    expect(slider.getAttribute('aria-label')).toBe('Timeline');
    expect(slider.getAttribute('aria-valuenow')).toBe('1234');
    expect(slider.getAttribute('aria-valuetext')).toContain('of');
    expect((slider as HTMLInputElement).disabled).toBe(true);
    expect(root.textContent).toContain('1234');
  });

  test('seeks when time travel is available', async () => {
    const { client, app } = setup();
    client.answers.seek = () => undefined;
    const root = render(Timeline, { app });
    client.emit({ type: 'ready', capabilities: { timeTravel: true } });
    client.emit(status({ state: 'paused', position: 500, end: 1000, branch: 'b1' }));
    const slider = root.querySelector('input[type=range]') as HTMLInputElement;
    expect(slider.disabled).toBe(false);
    slider.value = '250';
    slider.dispatchEvent(new Event('input', { bubbles: true }));
    slider.dispatchEvent(new Event('change', { bubbles: true }));
    await Promise.resolve();
    expect(client.sent).toContainEqual({ type: 'seek', branch: 'b1', position: 250 });
  });
});

describe('Registers and CSRs', () => {
  test('show ABI names and highlight what changed since the last stop', () => {
    const { client, app } = setup();
    const root = render(Registers, { app });
    const csrs = render(Csrs, { app });
    client.emit(status({ state: 'paused', cause: 'load' }));
    client.emit(regs({}));
    expect(root.textContent).toContain('ra');
    expect(root.textContent).toContain('x31');
    expect(root.querySelectorAll('.changed').length).toBe(0);
    const x = new Array(32).fill(0);
    x[10] = 0xdead;
    client.emit(status({ state: 'paused', cause: 'step', position: 1 }));
    client.emit(regs({ x, pc: 0x80000004, csr: { mstatus: 8, mepc: 0 } }));
    const changed = [...root.querySelectorAll('.changed')].map((e) => e.getAttribute('data-reg'));
    expect(changed.sort()).toEqual(['pc', 'x10']);
    expect(root.querySelector('[data-reg=x10]')!.textContent).toContain('0x0000dead');
    expect([...csrs.querySelectorAll('.changed')].map((e) => e.getAttribute('data-csr'))).toEqual(['mstatus']);
    // The next stop compares with this one.
    client.emit(status({ state: 'paused', cause: 'step', position: 2 }));
    client.emit(regs({ x, pc: 0x80000008, csr: { mstatus: 8, mepc: 0 } }));
    expect([...root.querySelectorAll('.changed')].map((e) => e.getAttribute('data-reg'))).toEqual(['pc']);
  });
});

describe('Disassembly', () => {
  test('marks pc and toggles a breakpoint on click', async () => {
    const { client, app } = setup();
    client.answers.disassemble = () => [
      { address: 0x80000000, bits: 0x00000513, length: 4, text: 'addi a0, zero, 0', symbol: '_start' },
      { address: 0x80000004, bits: 0x4581, length: 2, text: 'addi a1, zero, 0' },
    ];
    client.answers.readMemory = () => ({
      address: 0x80000000,
      bytes: new Uint8Array(256),
      readable: new Uint8Array(256).fill(1),
    });
    const root = render(Disassembly, { app });
    client.emit(status({ state: 'paused', cause: 'load', pc: 0x80000004 }));
    await new Promise((r) => setTimeout(r, 0));
    flushSync();
    const lines = [...root.querySelectorAll('button.line')];
    expect(lines.length).toBe(2);
    expect(lines[1]!.getAttribute('aria-current')).toBe('step');
    expect(root.textContent).toContain('<_start>');
    (lines[0] as HTMLButtonElement).click();
    flushSync();
    expect(client.sent).toContainEqual({ type: 'setBreakpoints', addresses: [0x80000000] });
    expect(lines[0]!.getAttribute('aria-pressed')).toBe('true');
    (lines[0] as HTMLButtonElement).click();
    expect(client.sent[client.sent.length - 1]).toEqual({ type: 'setBreakpoints', addresses: [] });
  });

  test('go to a symbol shows the code there until Back to pc (or the next stop)', async () => {
    const { client, app } = setup();
    client.answers.disassemble = (c) => {
      const at = (c as Extract<Command, { type: 'disassemble' }>).address ?? 0x80000000;
      return [{ address: at, bits: 0x4581, length: 2, text: 'addi a1, zero, 0' }];
    };
    const root = render(Disassembly, { app });
    client.emit({ ...LOADED, symbols: [['main', 0x80000970]] });
    client.emit(status({ state: 'paused', cause: 'load' }));
    const input = root.querySelector<HTMLInputElement>('input[aria-label="Go to address or symbol"]')!;
    const submit = async (text: string) => {
      input.value = text;
      input.dispatchEvent(new Event('input'));
      input.form!.dispatchEvent(new Event('submit', { cancelable: true }));
      await new Promise((r) => setTimeout(r, 0));
      flushSync();
    };
    await submit('main+4');
    expect(client.sent).toContainEqual({ type: 'disassemble', address: 0x80000974, before: 16, after: 48 });
    expect(root.querySelector('button.line.target')!.getAttribute('aria-label')).toMatch(/^0x80000974/);
    await submit('nosuch');
    expect(root.querySelector('#dis-err')!.textContent).toBe('No symbol or hex address "nosuch"');
    button(root, 'Back to pc').click();
    await new Promise((r) => setTimeout(r, 0));
    flushSync();
    expect(client.sent[client.sent.length - 1]).toEqual({ type: 'disassemble', before: 16, after: 48 });
    expect(button(root, 'Back to pc').disabled).toBe(true);
  });
});

describe('Memory and watchpoints', () => {
  test('go-to reads 256 bytes there and shows them in hex and ASCII', async () => {
    const { client, app } = setup();
    client.answers.readMemory = (c) => {
      const cmd = c as Extract<Command, { type: 'readMemory' }>;
      const bytes = new Uint8Array(cmd.length);
      bytes.set([0x48, 0x69]);
      return { address: cmd.address, bytes, readable: new Uint8Array(cmd.length).fill(1) };
    };
    const root = render(MemoryView, { app });
    client.emit(status({ state: 'paused', cause: 'load' }));
    const input = root.querySelector('#mem-addr') as HTMLInputElement;
    input.value = '0x80001000';
    input.dispatchEvent(new Event('input'));
    root.querySelector('form')!.dispatchEvent(new Event('submit', { cancelable: true }));
    await new Promise((r) => setTimeout(r, 0));
    flushSync();
    expect(client.sent).toContainEqual({ type: 'readMemory', address: 0x80001000, length: 256, virtual: false });
    expect(root.querySelector('tbody th')!.textContent).toBe('80001000');
    expect(root.querySelector('.ascii')!.textContent!.startsWith('Hi')).toBe(true);
  });

  test('a watchpoint entry sends the watched range', () => {
    const { client, app } = setup();
    const root = render(Watchpoints, { app });
    const addr = root.querySelector('#wp-addr') as HTMLInputElement;
    const len = root.querySelector('#wp-len') as HTMLInputElement;
    addr.value = '80002000';
    addr.dispatchEvent(new Event('input'));
    len.value = '8';
    len.dispatchEvent(new Event('input'));
    root.querySelector('form')!.dispatchEvent(new Event('submit', { cancelable: true }));
    flushSync();
    expect(client.sent).toContainEqual({ type: 'setWatchpoints', ranges: [{ address: 0x80002000, length: 8 }] });
    expect(root.textContent).toContain('0x80002000');
    button(root, 'Remove watchpoint at 0x80002000').click();
    expect(client.sent[client.sent.length - 1]).toEqual({ type: 'setWatchpoints', ranges: [] });
  });

  test('memory and watchpoints take a symbol name, with an offset', async () => {
    const { client, app } = setup();
    client.answers.readMemory = (c) => {
      const cmd = c as Extract<Command, { type: 'readMemory' }>;
      return { address: cmd.address, bytes: new Uint8Array(cmd.length), readable: new Uint8Array(cmd.length) };
    };
    const memory = render(MemoryView, { app });
    const watches = render(Watchpoints, { app });
    client.emit({ ...LOADED, symbols: [['counter', 0x80001a70]] });
    client.emit(status({ state: 'paused', cause: 'load' }));
    const fill = (root: Element, selector: string, value: string) => {
      const input = root.querySelector(selector) as HTMLInputElement;
      input.value = value;
      input.dispatchEvent(new Event('input'));
      input.form!.dispatchEvent(new Event('submit', { cancelable: true }));
      flushSync();
    };
    fill(memory, '#mem-addr', 'counter+16');
    await new Promise((r) => setTimeout(r, 0));
    expect(client.sent).toContainEqual({ type: 'readMemory', address: 0x80001a80, length: 256, virtual: false });
    fill(watches, '#wp-addr', 'counter');
    expect(client.sent).toContainEqual({ type: 'setWatchpoints', ranges: [{ address: 0x80001a70, length: 4 }] });
    expect(watches.textContent).toContain('counter');
    fill(watches, '#wp-addr', 'nosuch');
    expect(watches.querySelector('.error')!.textContent).toMatch(/symbol/);
  });
});

describe('Machine picture', () => {
  test('draws the four parts with what each is doing', () => {
    const { client, app } = setup();
    const root = render(MachinePicture, { app });
    client.emit(status({ state: 'running', priv: 1, pc: 0xc0001000 }));
    const touched = new Uint8Array(2048);
    touched[0] = 0b1111;
    const fresh = new Uint8Array(2048);
    fresh[0] = 0b1000;
    client.emit({
      type: 'stats',
      stats: {
        position: 5,
        ips: 123_400_000,
        priv: 1,
        pc: 0xc0001000,
        ramTouched: touched,
        ramFresh: fresh,
        ramPages: 16384,
        diskTouched: null,
        diskReadFresh: 0,
        diskFresh: null,
        diskPages: 0,
        uartOut: 300,
        uartIn: 5,
        pendingInput: 2,
      },
    });
    const text = root.textContent!;
    for (const part of ['CPU', 'Memory', 'Storage', 'I/O']) expect(text).toContain(part);
    expect(text).toContain('123.4 MIPS');
    expect(text).toContain('S-mode');
    expect(text).toContain('0xc0001000');
    expect(text).toContain('no disk');
    expect(root.querySelectorAll('.cell.h2').length).toBe(1);
    expect(root.querySelector('desc')!.textContent).toContain('4 of 16384 pages written, 1 since the last look');
  });
});

describe('Help and shortcuts', () => {
  test('F5 runs or pauses, F10 steps, Shift+F10 steps back, F1 opens help', () => {
    expect(shortcutOfKey('F5')).toBe('toggleRun');
    expect(shortcutOfKey('F5', true)).toBe('runBack');
    expect(shortcutOfKey('F10')).toBe('step');
    expect(shortcutOfKey('F10', true)).toBe('stepBack');
    expect(shortcutOfKey('F1')).toBe('help');
    expect(shortcutOfKey('a')).toBeNull();
  });

  test('the help overlay lists the shortcuts', () => {
    const { app } = setup();
    const root = render(Help, { app });
    app.helpOpen = true;
    flushSync();
    const dialog = root.querySelector('dialog')!;
    expect(dialog.hasAttribute('open')).toBe(true);
    expect(dialog.textContent).toContain('Shift+F10');
    expect(dialog.textContent).toContain('Step back');
  });

  test('addresses parse as hex, with or without 0x', () => {
    expect(parseAddress('80000000')).toBe(0x80000000);
    expect(parseAddress(' 0x1000_0000 ')).toBe(0x10000000);
    expect(parseAddress('#4096')).toBe(4096);
    expect(parseAddress('xyz')).toBeNull();
  });
});
