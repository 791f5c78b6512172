// Load program takes ELFs and raw images only: a .vmi goes to Import, and a
// picture or other junk is refused with a message (nothing loads, nothing is
// kept). Branch names are unique: a rename or a fork to a name another branch
// has is refused, with a message.
import { describe, expect, test } from 'vitest';
import { AppState } from '../../ui/app.svelte.js';
import { loadProgramFile, programKind } from '../../ui/files.js';
import { FakeClient, engineHarness, guest, recordingHosts } from './support.js';

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 73, 72, 68, 82]);
const VMI = new Uint8Array([...new TextEncoder().encode('REWINDVM'), 1, 2, 3]);
const file = (name: string, bytes: Uint8Array) => ({ name, arrayBuffer: () => Promise.resolve(bytes.slice().buffer) });

describe('Load program', () => {
  test('tells ELFs, raw images, recordings and junk apart', () => {
    expect(programKind('default.elf', guest('default'))).toBe('elf');
    expect(programKind('anything', guest('hello'))).toBe('elf');
    expect(programKind('hello.bin', new Uint8Array([0x13, 0, 0, 0]))).toBe('raw');
    expect(programKind('run.vmi', VMI)).toBe('vmi');
    expect(programKind('picture.png', PNG)).toEqual({
      refused: expect.stringMatching(/^picture\.png is not a RISC-V program/),
    });
    expect(programKind('empty.bin', new Uint8Array())).toEqual({ refused: 'empty.bin is empty' });
  });

  test('a PNG is refused with a message: nothing is sent to the worker, nothing opened', async () => {
    const client = new FakeClient();
    const app = new AppState(client);
    const opened: string[] = [];
    await loadProgramFile(app, file('picture.png', PNG), async (f) => void opened.push(f.name));
    expect(client.sent).toEqual([]);
    expect(opened).toEqual([]);
    expect(app.message).toMatch(/picture\.png is not a RISC-V program: Load program takes an ELF, or a raw image/);
  });

  test('an ELF and a .bin load; a .vmi goes to Import', async () => {
    const client = new FakeClient();
    const app = new AppState(client);
    const opened: string[] = [];
    const open = async (f: { name: string; arrayBuffer(): Promise<ArrayBuffer> }) => {
      opened.push(f.name);
      expect(new Uint8Array(await f.arrayBuffer())).toEqual(VMI);
    };
    await loadProgramFile(app, file('hello.elf', guest('hello')), open);
    await loadProgramFile(app, file('tiny.bin', new Uint8Array([0x13, 0, 0, 0])), open);
    await loadProgramFile(app, file('run.vmi', VMI), open);
    expect(client.sent.map((c) => (c.type === 'load' ? `load ${c.name}` : c.type))).toEqual([
      'load hello.elf',
      'load tiny.bin',
    ]);
    expect(opened).toEqual(['run.vmi']);
    expect(app.message).toBeNull();
  });
});

describe('branch names', () => {
  test('a rename or a fork to a name another branch has is refused; forks get unique default names', () => {
    const h = engineHarness({ defer: () => undefined, ...recordingHosts });
    h.engine.handle({ type: 'load', image: guest('default'), record: true });
    h.reply({ type: 'step', count: 100 });
    const a = h.reply({ type: 'fork', name: 'try' }) as string;
    expect(() => h.reply({ type: 'fork', name: 'try' })).toThrow(/already a branch named "try"/);
    const b = h.reply({ type: 'fork' }) as string;
    const c = h.reply({ type: 'fork' }) as string;
    const names = () => new Map(h.last('timeline')!.timeline.branches.map((x) => [x.id, x.name]));
    expect(names().get(b)).toBe('fork@100');
    expect(names().get(c)).toBe('fork@100 (2)');
    expect(() => h.reply({ type: 'renameBranch', branch: c, name: 'try' })).toThrow(/already a branch named "try"/);
    expect(() => h.reply({ type: 'renameBranch', branch: c, name: ' fork@100 ' })).toThrow(/already a branch/);
    // Its own name again, or a free one, is fine.
    h.reply({ type: 'renameBranch', branch: a, name: 'try' });
    h.reply({ type: 'renameBranch', branch: c, name: 'third' });
    expect(names().get(c)).toBe('third');
  });
});
