// @vitest-environment happy-dom
// The time-travel views against a fake worker client: the scrubber's marks
// and keys, the branch tree, the diff form, the console's reset and the
// way from a console cell back to the byte (and position) that wrote it.
import { flushSync } from 'svelte';
import { afterEach, describe, expect, test } from 'vitest';
import Branches from '../../ui/Branches.svelte';
import Diff from '../../ui/Diff.svelte';
import Help from '../../ui/Help.svelte';
import Timeline from '../../ui/Timeline.svelte';
import { AppState } from '../../ui/app.svelte.js';
import { ConsoleLog, layout } from '../../ui/console-log.js';
import { focusRegion } from '../../ui/regions.js';
import type { DiffResult, Status, TimelineInfo, WorkerEvent } from '../../src/web/protocol.js';
import { FakeClient, render, shortcutOfKey, unmountAll } from './support.js';

const status = (s: Partial<Status>): WorkerEvent => ({
  type: 'status',
  status: { state: 'paused', position: 0, end: 0, branch: 'b0', pc: 0x80000000, priv: 3, ...s },
});

const TREE: TimelineInfo = {
  branch: 'b1',
  branches: [
    { id: 'b0', name: 'main', parent: null, forkPosition: 0, end: 1000 },
    { id: 'b1', name: 'try', parent: 'b0', forkPosition: 400, end: 800 },
    { id: 'b2', name: 'other', parent: 'b0', forkPosition: 600, end: 700 },
  ],
  checkpoints: [0, 500],
  inputs: [300, 310, 320, 450],
  commands: [300, 450],
  output: [100, 310, 460],
  bookmarks: [{ name: 'here', position: 200 }],
};

afterEach(unmountAll);

function setup(info: TimelineInfo | null = TREE) {
  const client = new FakeClient();
  const app = new AppState(client);
  client.emit({ type: 'ready', capabilities: { timeTravel: true } });
  client.emit(status({ position: 500, end: 800, branch: 'b1' }));
  if (info) client.emit({ type: 'timeline', timeline: info });
  return { client, app };
}

const byLabel = <T extends Element>(root: Element, label: string) => {
  const el = root.querySelector<T & Element>(`[aria-label="${label}"]`);
  if (!el) throw new Error(`nothing labelled ${label}`);
  return el as T;
};
const settle = async () => {
  await new Promise((r) => setTimeout(r, 0));
  flushSync();
};
const key = (el: Element, k: string) =>
  el.dispatchEvent(new KeyboardEvent('keydown', { key: k, bubbles: true, cancelable: true }));
const type = (input: HTMLInputElement, value: string) => {
  input.value = value;
  input.dispatchEvent(new Event('input', { bubbles: true }));
  flushSync();
};
const seeks = (c: FakeClient) => c.sent.filter((x) => x.type === 'seek');

describe('Timeline marks and keys', () => {
  test('draws checkpoints, input, output and bookmarks, and names the branch', () => {
    const { app } = setup();
    const root = render(Timeline, { app });
    expect(root.querySelectorAll('svg.marks path').length).toBe(4);
    expect(byLabel(root, 'Timeline marks').textContent).toMatch(/2 checkpoints.*3 console output.*4 input/);
    expect(root.querySelector('[data-testid=branch]')!.textContent).toBe('try');
    const slider = byLabel<HTMLInputElement>(root, 'Timeline');
    expect(slider.getAttribute('aria-valuenow')).toBe('500');
  });

  test('[ and ] go by command lines, stops and bookmarks (not keystrokes, echo or checkpoints); Page keys jump a twentieth', async () => {
    const { client, app } = setup({
      ...TREE,
      stops: [{ position: 600, kind: 'breakpoint', label: 'breakpoint main' }],
    });
    const root = render(Timeline, { app });
    const slider = byLabel<HTMLInputElement>(root, 'Timeline');
    const press = async (k: string, from: number) => {
      client.emit(status({ position: from, end: 800, branch: 'b1' }));
      const before = seeks(client).length;
      key(slider, k);
      await settle();
      return (seeks(client).slice(before).pop() as { position: number } | undefined)?.position;
    };
    expect(await press('[', 500)).toBe(450);
    expect(await press('[', 450)).toBe(300);
    expect(await press('[', 300)).toBe(200);
    expect(await press(']', 200)).toBe(300);
    expect(await press(']', 450)).toBe(600);
    expect(await press(']', 600)).toBeUndefined();
    expect(await press('PageDown', 460)).toBe(420);
    expect(await press('PageUp', 460)).toBe(500);
    expect(await press('Home', 460)).toBe(0);
    expect(await press('End', 460)).toBe(800);
    expect(await press('ArrowLeft', 460)).toBe(459);
  });

  test('zoom: the window halves around the position, the slider and marks map onto it, and it follows the position', async () => {
    const { client, app } = setup();
    const root = render(Timeline, { app });
    const slider = byLabel<HTMLInputElement>(root, 'Timeline');
    expect([slider.min, slider.max]).toEqual(['0', '800']);
    byLabel<HTMLButtonElement>(root, 'Zoom in').click();
    flushSync();
    expect([slider.min, slider.max]).toEqual(['300', '700']);
    byLabel<HTMLButtonElement>(root, 'Zoom in').click();
    flushSync();
    expect([slider.min, slider.max]).toEqual(['400', '600']);
    expect(root.querySelector('[data-testid=zoom]')!.textContent).toBe('×4');
    // 800 steps zoom in no further than a window of 100 steps.
    byLabel<HTMLButtonElement>(root, 'Zoom in').click();
    flushSync();
    expect(byLabel<HTMLButtonElement>(root, 'Zoom in').disabled).toBe(true);
    expect([slider.min, slider.max]).toEqual(['450', '550']);
    // Only the marks inside the window are drawn, where they fall in it: output at 460 is 10% across.
    const output = [...root.querySelectorAll('svg.marks path')].find((p) => p.getAttribute('stroke') === 'var(--ok)')!;
    expect(output.getAttribute('d')).toBe('M100 0V10');
    // A seek out of the window moves it there; PageDown jumps a twentieth of the window.
    client.emit(status({ position: 100, end: 800, branch: 'b1' }));
    expect([slider.min, slider.max]).toEqual(['50', '150']);
    key(slider, 'PageDown');
    await settle();
    expect(seeks(client).pop()).toMatchObject({ position: 95 });
    byLabel<HTMLButtonElement>(root, 'Zoom out').click();
    flushSync();
    expect([slider.min, slider.max]).toEqual(['0', '200']);
  });

  test('go to position takes k and M suffixes and refuses what the branch has not reached', async () => {
    const { client, app } = setup();
    const root = render(Timeline, { app });
    const input = byLabel<HTMLInputElement>(root, 'Position to go to');
    const form = input.closest('form')!;
    type(input, '0.3k');
    form.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
    await settle();
    expect(seeks(client).pop()).toEqual({ type: 'seek', branch: 'b1', position: 300 });
    type(input, '1M');
    form.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
    await settle();
    expect(seeks(client)).toHaveLength(1);
    expect(root.querySelector('#position-err')!.textContent).toBe('This branch runs to position 800');
  });

  test('bookmarks: added by name, and each is a button that goes there', async () => {
    const { client, app } = setup();
    const root = render(Timeline, { app });
    type(byLabel<HTMLInputElement>(root, 'Bookmark name'), 'start of fight');
    root
      .querySelector<HTMLFormElement>('form.add')!
      .dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
    await settle();
    expect(client.sent).toContainEqual({ type: 'bookmark', name: 'start of fight', position: 500 });
    byLabel<HTMLButtonElement>(root, 'Go to bookmark here (position 200)').click();
    await settle();
    expect(seeks(client).pop()).toEqual({ type: 'seek', branch: 'b1', position: 200 });
  });

  test('a drag seeks as it goes, one seek at a time, and ends where the thumb was let go', async () => {
    const { client, app } = setup();
    let release: () => void = () => {};
    client.answers.seek = () => new Promise<void>((r) => (release = r));
    const root = render(Timeline, { app });
    const slider = byLabel<HTMLInputElement>(root, 'Timeline');
    for (const v of ['400', '300', '200']) {
      slider.value = v;
      slider.dispatchEvent(new Event('input', { bubbles: true }));
    }
    slider.dispatchEvent(new Event('change', { bubbles: true }));
    flushSync();
    // One in flight (400); the latest wish (200) waits; 300 was skipped.
    expect(seeks(client).map((c) => (c as { position: number }).position)).toEqual([400]);
    expect(slider.getAttribute('aria-valuenow')).toBe('200');
    release();
    await settle();
    expect(seeks(client).map((c) => (c as { position: number }).position)).toEqual([400, 200]);
  });
});

describe('Branches', () => {
  test('a tree with parents and fork positions, the current one marked', () => {
    const { app } = setup();
    const root = render(Branches, { app });
    const main = root.querySelector('li[data-branch=b0]')!;
    expect(main.querySelectorAll('li[data-branch]').length).toBe(2);
    const current = root.querySelector('li[aria-current=true]')!;
    expect(current.getAttribute('data-branch')).toBe('b1');
    expect(current.textContent).toMatch(/from main at 400/);
  });

  test('switch seeks to the end of the branch; the current one and its ancestors cannot be deleted', async () => {
    const { client, app } = setup();
    const root = render(Branches, { app });
    expect(byLabel<HTMLButtonElement>(root, 'Switch to try').disabled).toBe(true);
    expect(byLabel<HTMLButtonElement>(root, 'Delete try').disabled).toBe(true);
    expect(byLabel<HTMLButtonElement>(root, 'Delete main').disabled).toBe(true);
    byLabel<HTMLButtonElement>(root, 'Switch to other').click();
    await settle();
    expect(client.sent).toContainEqual({ type: 'seek', branch: 'b2', position: 700 });
    byLabel<HTMLButtonElement>(root, 'Delete other').click();
    await settle();
    // The focus follows the inline confirmation.
    expect(document.activeElement?.getAttribute('aria-label')).toBe('Confirm delete other');
    byLabel<HTMLButtonElement>(root, 'Confirm delete other').click();
    await settle();
    expect(client.sent).toContainEqual({ type: 'deleteBranch', branch: 'b2' });
  });

  test('rename in place with Enter; Escape cancels', async () => {
    const { client, app } = setup();
    const root = render(Branches, { app });
    byLabel<HTMLButtonElement>(root, 'Rename other').click();
    flushSync();
    const input = byLabel<HTMLInputElement>(root, 'New name for other');
    type(input, 'better');
    input.closest('form')!.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
    await settle();
    expect(client.sent).toContainEqual({ type: 'renameBranch', branch: 'b2', name: 'better' });
    byLabel<HTMLButtonElement>(root, 'Rename main').click();
    flushSync();
    key(byLabel(root, 'New name for main'), 'Escape');
    await settle();
    expect(root.querySelector('[aria-label="New name for main"]')).toBeNull();
    expect(document.activeElement?.getAttribute('aria-label')).toBe('Rename main');
  });

  test('forks at a typed position (here when empty) with an optional name', async () => {
    const { client, app } = setup();
    const root = render(Branches, { app });
    const form = root.querySelector<HTMLFormElement>('form.fork')!;
    type(byLabel<HTMLInputElement>(root, 'Fork position'), '450');
    type(byLabel<HTMLInputElement>(root, 'New branch name'), 'again');
    form.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
    await settle();
    expect(client.sent).toContainEqual({ type: 'fork', position: 450, name: 'again' });
    form.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
    await settle();
    expect(client.sent).toContainEqual({ type: 'fork', position: 500 });
  });
});

describe('Diff', () => {
  const RESULT: DiffResult = {
    a: { branch: 'b0', name: 'main', position: 300, hash: 'aa' },
    b: { branch: 'b1', name: 'try', position: 500, hash: 'bb' },
    pc: [0x80000010, 0x80000020],
    registers: [{ index: 10, a: 1, b: 2 }],
    csrs: [{ name: 'mepc', a: 0, b: 4 }],
    ram: [{ page: 1, address: 0x80001000, changedBytes: 2, runs: [{ offset: 16, a: [0x6f, 0x6e], b: [0x74, 0x77] }] }],
    disk: [],
    ramPages: 1,
    diskPages: 0,
  };

  test('marks two points, compares them, and shows registers, CSRs, pages and bytes that differ', async () => {
    const { client, app } = setup();
    client.answers.diff = () => RESULT;
    const root = render(Diff, { app });
    const markA = [...root.querySelectorAll('button')].find((b) => b.textContent === 'Mark A')!;
    markA.click();
    flushSync();
    expect(byLabel<HTMLInputElement>(root, 'Point A position').value).toBe('500');
    const branchB = byLabel<HTMLSelectElement>(root, 'Point B branch');
    branchB.options[1]!.selected = true;
    branchB.dispatchEvent(new Event('change', { bubbles: true }));
    type(byLabel<HTMLInputElement>(root, 'Point B position'), '300');
    root.querySelector('form')!.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
    await settle();
    expect(client.sent).toContainEqual({
      type: 'diff',
      a: { branch: 'b1', position: 500 },
      b: { branch: 'b0', position: 300 },
    });
    const out = root.querySelector('[data-testid=diff-result]')!.textContent!;
    expect(out).toContain('different states');
    expect(out).toMatch(/a0 \(x10\)\s*0x00000001\s*0x00000002/);
    expect(out).toContain('mepc');
    expect(out).toContain('0x80001000');
    expect(out).toMatch(/\+010 6f 6e\s*→\s*74 77/);
  });

  test('asks for both positions before comparing', async () => {
    const { client, app } = setup();
    const root = render(Diff, { app });
    root.querySelector('form')!.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
    await settle();
    expect(root.querySelector('[role=alert]')!.textContent).toMatch(/position/);
    expect(client.sent.some((c) => c.type === 'diff')).toBe(false);
  });
});

describe('The console after a seek', () => {
  test('a console event replaces what the terminal shows, and keeps the positions for click-to-jump', async () => {
    const { client, app } = setup();
    const shown: string[] = [];
    app.attachConsole((b) => shown.push(new TextDecoder().decode(b)));
    app.onConsoleReset = (b) => shown.splice(0, shown.length, new TextDecoder().decode(b));
    client.emit({ type: 'output', bytes: new TextEncoder().encode('abc'), positions: Float64Array.from([10, 11, 12]) });
    client.emit({
      type: 'console',
      bytes: new TextEncoder().encode('ab'),
      positions: Float64Array.from([10, 11]),
      complete: true,
    });
    expect(shown).toEqual(['ab']);
    client.emit({ type: 'output', bytes: new TextEncoder().encode('Z'), positions: Float64Array.from([20]) });
    expect(shown.join('')).toBe('abZ');
    expect(app.consoleLog.positionOf(2)).toBe(20);
    await app.jumpToOutput(1);
    expect(seeks(client).pop()).toMatchObject({ position: 11 });
  });

  test('cells map back to bytes as a terminal lays them out', () => {
    const log = new ConsoleLog();
    const bytes = new TextEncoder().encode('hi\r\n\x1b[1mbold\x1b[0m\r\nabcdefgh\r\nx\tyé\b!');
    log.reset(
      bytes,
      Float64Array.from(bytes, (_, i) => 100 + i),
    );
    const char = (cols: number, row: number, col: number) => {
      const i = log.indexAt(cols, { row, col });
      return i < 0 ? null : new TextDecoder().decode(bytes.subarray(i, i + (bytes[i]! >= 0xc0 ? 2 : 1)));
    };
    expect(char(10, 0, 1)).toBe('i');
    expect(char(10, 1, 0)).toBe('b');
    expect(char(10, 0, 4)).toBeNull();
    // A tab to column 8, then é (two bytes, one cell); the backspace's ! overwrites the y.
    expect(char(10, 3, 8)).toBe('!');
    expect(char(10, 3, 9)).toBe('é');
    expect(log.cursorRow(10)).toBe(3);
    // Six columns wide, a line of eight wraps.
    expect(char(6, 3, 1)).toBe('h');
    expect(log.cursorRow(6)).toBeGreaterThan(3);
    expect(layout(new TextEncoder().encode('a\nb'), 80, () => {})).toEqual({ row: 1, col: 2 });
  });
});

describe('Keyboard', () => {
  test('F2 moves between regions, F8 forks, Shift+F8 bookmarks', () => {
    expect(shortcutOfKey('F2')).toBe('nextRegion');
    expect(shortcutOfKey('F2', true)).toBe('previousRegion');
    expect(shortcutOfKey('F8')).toBe('fork');
    expect(shortcutOfKey('F8', true)).toBe('bookmark');
  });

  test('focusRegion walks the regions in page order, nested ones included, and wraps', () => {
    document.body.innerHTML = `
      <header data-region><button id="run">Run</button></header>
      <div data-region><textarea id="term"></textarea></div>
      <aside data-region><button id="reg">r</button><section data-region><button id="br">Switch</button></section></aside>
      <footer data-region><input id="slider" type="range"></footer>`;
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      focusRegion(document, 1);
      ids.push(document.activeElement!.id);
    }
    expect(ids).toEqual(['run', 'term', 'reg', 'br', 'slider', 'run']);
    focusRegion(document, -1);
    expect(document.activeElement!.id).toBe('slider');
  });

  test('the help lists the time-travel keys', () => {
    const { app } = setup(null);
    const root = render(Help, { app });
    const text = root.textContent!;
    for (const k of ['F2 / Shift+F2', 'F8', 'Shift+F8', '[ / ] on the timeline', 'Ctrl+click in the console'])
      expect(text).toContain(k);
  });
});
