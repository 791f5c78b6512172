// The worker's engine with a recording host, in Node: the console as it was
// at any position, branches made by typing in the past, rename/delete kept
// through a .vmi, bookmarks, and diffs between points.
import { describe, expect, test } from 'vitest';
import { OutputHistory as ConsoleHistory } from '../../session/output.js';
import type { DiffResult, TimelineInfo } from '../../src/web/protocol.js';
import { engineHarness, guest, recordingHosts } from './support.js';

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const typed = (s: string) => new TextEncoder().encode(s);

function harness() {
  // A clock that stands still: every long job fits in its first slice, so replies come at once.
  const h = engineHarness({ defer: () => {}, now: () => 0, ...recordingHosts });
  /** What the page's console shows: the last reset plus the output since. */
  const screen = () => {
    let at = -1;
    h.events.forEach((e, i) => {
      if (e.type === 'console') at = i;
    });
    const parts = h.events
      .slice(at)
      .flatMap((e) => (e.type === 'console' || e.type === 'output' ? [text(e.bytes)] : []));
    return parts.join('');
  };
  return {
    ...h,
    screen,
    timeline: (): TimelineInfo => h.last('timeline')!.timeline,
    status: () => h.engine.status(),
  };
}

/** The echo guest, recorded, after it printed its prompt and ran `echo one`. */
function echoOne() {
  const h = harness();
  h.engine.handle({ type: 'load', image: guest('echo'), record: true });
  h.reply({ type: 'step', count: 300_000 });
  const prompt = h.status().position;
  expect(h.screen()).toMatch(/> $/);
  h.reply({ type: 'type', bytes: typed('echo one\r') });
  h.reply({ type: 'step', count: 600_000 });
  expect(h.screen()).toMatch(/one\r?\n/);
  return { h, prompt };
}

describe('the console at any position', () => {
  test('a seek back shows the console as it was, a seek forward shows it again', () => {
    const { h, prompt } = echoOne();
    const end = h.status().position;
    const full = h.screen();
    h.reply({ type: 'seek', position: prompt });
    expect(h.screen()).toMatch(/> $/);
    expect(h.screen()).not.toContain('one');
    expect(full.startsWith(h.screen())).toBe(true);
    h.reply({ type: 'seek', position: end });
    expect(h.screen()).toBe(full);
  });

  test('each byte carries the position that wrote it: seeking just past it shows it, seeking to it does not', () => {
    const { h } = echoOne();
    const c = h.events.filter((e) => e.type === 'console').pop()!;
    h.reply({ type: 'seek', position: h.status().position });
    const now = h.events.filter((e) => e.type === 'console').pop()!;
    if (now.type !== 'console' || c.type !== 'console') throw new Error('no console');
    expect(now.complete).toBe(true);
    const k = now.bytes.length - 3;
    const q = now.positions[k]!;
    expect([...now.positions].every((p, i) => i === 0 || p >= now.positions[i - 1]!)).toBe(true);
    h.reply({ type: 'seek', position: q });
    expect(h.screen()).toBe(text(now.bytes.subarray(0, k)));
    h.reply({ type: 'seek', position: q + 1 });
    expect(h.screen()).toBe(text(now.bytes.subarray(0, k + 1)));
    // The live output carries positions too.
    const out = h.events.find((e) => e.type === 'output');
    expect(out?.type === 'output' && out.positions?.length === out.bytes.length).toBe(true);
  });
});

describe('the console after an import (a reload)', () => {
  test('a forked branch reopens with its own later output, even when there is no time to replay from reset', async () => {
    const { h, prompt } = echoOne();
    // Past the first checkpoint after reset: a seek to the end restores it, and replays nothing of the output before it.
    h.reply({ type: 'step', count: 12_000_000 });
    h.reply({ type: 'seek', position: prompt });
    h.reply({ type: 'type', bytes: typed('echo two\r') });
    h.reply({ type: 'step', count: 12_000_000 });
    const fork = h.status().branch;
    const end = h.status().position;
    const file = h.reply({ type: 'exportVmi' }) as { bytes: Uint8Array };
    // A clock that jumps 5 s at every look: the import has no time at all to rebuild the console by replaying.
    let t = 0;
    const queue: (() => void)[] = [];
    const page = engineHarness({ defer: (fn) => queue.push(fn), now: () => (t += 5000), ...recordingHosts });
    const id = page.send({ type: 'importVmi', bytes: file.bytes, at: { branch: fork, position: end } });
    for (let i = 0; i < 1000 && !page.replyTo(id); i++) {
      queue.shift()?.();
      await Promise.resolve();
    }
    expect(page.replyTo(id)).toMatchObject({ ok: true });
    const shown = page.events.filter((e) => e.type === 'console').pop()!;
    if (shown.type !== 'console') throw new Error('no console');
    expect(shown.complete).toBe(true);
    expect(text(shown.bytes)).toMatch(/two\r?\n/);
    expect(text(shown.bytes)).not.toContain('one');
  });
});

describe('branches', () => {
  test('typing in the past forks a new branch; both are kept and switchable', () => {
    const { h, prompt } = echoOne();
    const mainEnd = h.status().position;
    h.reply({ type: 'seek', position: prompt });
    h.reply({ type: 'type', bytes: typed('echo two\r') });
    const fork = h.status().branch;
    expect(fork).not.toBe('b0');
    h.reply({ type: 'step', count: 600_000 });
    expect(h.screen()).toMatch(/two\r?\n/);
    expect(h.screen()).not.toContain('one');
    const t = h.timeline();
    expect(t.branch).toBe(fork);
    expect(t.branches).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: 'b0', parent: null, end: mainEnd }),
        expect.objectContaining({ id: fork, parent: 'b0', forkPosition: prompt }),
      ]),
    );
    expect(t.inputs.length).toBeGreaterThan(0);
    expect(t.output.length).toBeGreaterThan(0);
    expect(t.checkpoints).toContain(0);
    // Back to main, at its end: its own console.
    h.reply({ type: 'seek', branch: 'b0', position: mainEnd });
    expect(h.status().branch).toBe('b0');
    expect(h.screen()).toMatch(/one\r?\n/);
    expect(h.screen()).not.toContain('two');
    // And the fork again.
    h.reply({ type: 'seek', branch: fork, position: t.branches.find((b) => b.id === fork)!.end });
    expect(h.screen()).toMatch(/two\r?\n/);
  });

  test('rename and delete; a .vmi keeps the names', () => {
    const { h, prompt } = echoOne();
    const fork = h.reply({ type: 'fork', position: prompt, name: 'first try' }) as string;
    h.reply({ type: 'renameBranch', branch: fork, name: 'second try' });
    expect(h.timeline().branches.find((b) => b.id === fork)?.name).toBe('second try');
    expect(() => h.reply({ type: 'deleteBranch', branch: fork })).toThrow(/machine is on/);
    h.reply({ type: 'bookmark', name: 'prompt', position: prompt });
    expect(h.timeline().bookmarks).toEqual([{ name: 'prompt', position: prompt }]);
    const other = h.reply({ type: 'fork', position: 1000, name: 'doomed' }) as string;
    h.reply({ type: 'seek', branch: 'b0', position: 5000 });
    h.reply({ type: 'deleteBranch', branch: other });
    expect(h.timeline().branches.map((b) => b.id)).not.toContain(other);
    const file = h.reply({ type: 'exportVmi' }) as { bytes: Uint8Array };
    h.reply({ type: 'importVmi', bytes: file.bytes });
    h.engine.report(true);
    const names = h
      .timeline()
      .branches.map((b) => b.name)
      .sort();
    expect(names).toEqual(['main', 'second try']);
  });

  test('a diff between two points on different branches names what differs and leaves the machine where it was', () => {
    const { h, prompt } = echoOne();
    const mainEnd = h.status().position;
    h.reply({ type: 'seek', position: prompt });
    h.reply({ type: 'type', bytes: typed('echo two\r') });
    h.reply({ type: 'step', count: 600_000 });
    const here = h.status();
    const d = h.reply({
      type: 'diff',
      a: { branch: 'b0', position: mainEnd },
      b: { position: here.position },
    }) as DiffResult;
    expect(d.a).toMatchObject({ branch: 'b0', name: 'main', position: mainEnd });
    expect(d.b).toMatchObject({ branch: here.branch, position: here.position });
    expect(d.a.hash).not.toBe(d.b.hash);
    expect(d.ramPages).toBeGreaterThan(0);
    // The line buffer holds "one" on one side and "two" on the other.
    const bytes = d.ram.flatMap((p) => p.runs.flatMap((r) => r.b));
    expect(text(Uint8Array.from(bytes))).toContain('two');
    expect(h.status()).toMatchObject({ branch: here.branch, position: here.position });
    expect(h.screen()).toMatch(/two\r?\n/);
    const same = h.reply({ type: 'diff', a: { position: 100 }, b: { position: 100 } }) as DiffResult;
    expect(same.a.hash).toBe(same.b.hash);
    expect(same.registers).toEqual([]);
  });
});

describe('ConsoleHistory', () => {
  const root = [{ branch: 'b0', from: 0, to: Infinity }];
  const child = [
    { branch: 'b0', from: 0, to: 10 },
    { branch: 'b1', from: 10, to: Infinity },
  ];
  const write = (h: ConsoleHistory, s: string, from: number) =>
    [...s].forEach((c, i) => h.write(c.charCodeAt(0), from + i));

  test('keeps output per branch, once, and knows its gaps', () => {
    const h = new ConsoleHistory();
    write(h, 'abcdefghijklmnop', 0);
    h.keep(root, 0, 16);
    expect(text(h.at(root, 5).bytes)).toBe('abcde');
    // The same stretch replayed again is not stored twice.
    write(h, 'cdef', 2);
    h.keep(root, 2, 6);
    expect(h.size).toBe(16);
    // A child forked at 10 shares the parent's output before 10 and has its own after.
    write(h, 'XYZ', 10);
    h.keep(child, 10, 13);
    expect(text(h.at(child, 13).bytes)).toBe('abcdefghijXYZ');
    expect(h.at(child, 13).complete).toBe(true);
    expect(h.at(child, 20).complete).toBe(false);
    expect([...h.at(child, 13).positions]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    // Output known only from 30 on: before it there is a gap.
    const h2 = new ConsoleHistory();
    write(h2, 'late', 30);
    h2.keep(root, 30, 34);
    expect(h2.at(root, 34)).toMatchObject({ complete: false });
    expect(text(h2.at(root, 34).bytes)).toBe('late');
    // Filling the gap later puts the bytes in order.
    write(h2, 'early', 0);
    h2.keep(root, 0, 30);
    expect(text(h2.at(root, 34).bytes)).toBe('earlylate');
    expect(h2.at(root, 34).complete).toBe(true);
    h.forget('b1');
    expect(text(h.at(child, 13).bytes)).toBe('abcdefghij');
  });

  test('marks are thinned to one per bin', () => {
    const h = new ConsoleHistory();
    write(h, 'x'.repeat(1000), 0);
    h.keep(root, 0, 1000);
    expect(h.marks(root, 1000, 10)).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900]);
  });
});
