/** `rewind screenshot` and `--screen` as a user meets them: PNGs of runs and recordings, one-line errors. */
import { decode } from 'fast-png';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { guest, rewind, tempDir } from '../support/cli.js';

const oneLine = (stderr: string) => expect(stderr.trimEnd().split('\n')).toHaveLength(1);

describe('rewind screenshot', () => {
  it('writes the screen of a recording at its end, and the same as of the program run', () => {
    const dir = tempDir();
    const vmi = join(dir, 'draw.vmi');
    writeFileSync(join(dir, 'q.in'), 'q');
    const r = rewind(['record', guest('draw'), '--screen', '-o', vmi, '--input-file', join(dir, 'q.in')]);
    expect(r.status).toBe(0);
    expect(rewind(['info', vmi]).stdout).toContain(', devices virtio-gpu, virtio-keyboard, virtio-tablet\n');
    expect(JSON.parse(rewind(['info', vmi, '--json']).stdout).devices).toEqual([
      'virtio-gpu',
      'virtio-keyboard',
      'virtio-tablet',
    ]);
    const fromVmi = rewind(['screenshot', vmi, '-o', join(dir, 'a.png')]);
    const fromElf = rewind(['screenshot', guest('draw'), '--screen', '-o', join(dir, 'b.png')]);
    expect([fromVmi.status, fromElf.status, fromVmi.stderr]).toEqual([0, 0, '']);
    const a = decode(readFileSync(join(dir, 'a.png')));
    const b = decode(readFileSync(join(dir, 'b.png')));
    expect([a.width, a.height]).toEqual([304, 216]);
    expect(a.data).toEqual(b.data);
  });

  it('says in one line, with exit 2, that nothing is on the screen, or that there is no screen', () => {
    const dir = tempDir();
    const vmi = join(dir, 'draw.vmi');
    writeFileSync(join(dir, 'q.in'), 'q');
    rewind(['record', guest('draw'), '--screen', '-o', vmi, '--input-file', join(dir, 'q.in')]);
    const early = rewind(['screenshot', vmi, '--at', '1000', '-o', join(dir, 'x.png')]);
    expect(early.status).toBe(2);
    expect(early.stderr).toBe('rewind: nothing is on the screen at position 1000\n');
    const early2 = rewind(['screenshot', guest('draw'), '--screen', '--at', '1000', '-o', join(dir, 'x.png')]);
    expect([early2.status, early2.stderr]).toEqual([2, 'rewind: nothing is on the screen at position 1000\n']);
    const none = rewind(['screenshot', guest('hello'), '-o', join(dir, 'x.png')]);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/no screen.*--screen/);
    expect(existsSync(join(dir, 'x.png'))).toBe(false);
  });

  it('refuses bad input in one line: no -o, a missing file, an output in a missing folder, a position past the end', () => {
    const dir = tempDir();
    for (const args of [
      ['screenshot', guest('draw'), '--screen'],
      ['screenshot', join(dir, 'missing.elf'), '--screen', '-o', join(dir, 'x.png')],
      ['screenshot', guest('draw'), '--screen', '-o', join(dir, 'no/such/dir/x.png')],
      ['screenshot', guest('draw'), '--screen', '--at', 'soon', '-o', join(dir, 'x.png')],
      ['screenshot', guest('draw'), '--branch', 'main', '-o', join(dir, 'x.png')],
    ]) {
      const r = rewind(args);
      expect(r.status, args.join(' ')).toBe(2);
      oneLine(r.stderr);
    }
    writeFileSync(join(dir, 'broken.vmi'), 'REWINDVM nonsense');
    const broken = rewind(['screenshot', join(dir, 'broken.vmi'), '-o', join(dir, 'x.png')]);
    expect(broken.status).toBe(2);
    oneLine(broken.stderr);
  });

  it('--screen is accepted by run, state and record, and shows in the help', () => {
    const help = rewind(['--help']);
    expect(help.stdout).toContain('rewind screenshot <prog.elf|run.vmi>');
    const state = rewind(['state', guest('draw'), '--screen', '--at', '5000']);
    expect(state.status).toBe(0);
    const plain = rewind(['state', guest('draw'), '--at', '5000']);
    // The same instructions ran up to the first device probe, but the machines differ: their hashes do.
    expect(JSON.parse(state.stdout).hash).not.toBe(JSON.parse(plain.stdout).hash);
  });
});
