/** `rewind group`: a group's consoles and exit status, its file replayed with --verify, a machine extracted, bad input. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expected, guest, rewind, tempDir } from '../support/cli.js';
import { consoleOf } from './consoles.js';

describe('rewind group', () => {
  const dir = tempDir();
  const file = join(dir, 'pingpong.vmg');
  const run = rewind(['group', guest('pong'), guest('ping'), '-o', file]);

  it('runs the machines together, each console prefixed with its name, and exits as they do', () => {
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(consoleOf(run.stdout, 'pong')).toBe(readFileSync(expected('net-pong.out'), 'latin1'));
    expect(consoleOf(run.stdout, 'ping')).toBe(readFileSync(expected('net-ping.out'), 'latin1'));
  });

  it('replays the group file to the same consoles and verifies it alone and together', () => {
    const r = rewind(['group', 'replay', file, '--verify']);
    expect(r.status).toBe(0);
    expect(consoleOf(r.stdout, 'ping')).toBe(consoleOf(run.stdout, 'ping'));
    expect(r.stderr).toMatch(/verified pong: \d+ checkpoints up to position \d+, alone and together/);
    expect(r.stderr).toMatch(/verified ping: /);
  });

  it('extracts a machine as a .vmi that replays alone with its frames as input events', () => {
    const vmi = join(dir, 'ping.vmi');
    expect(rewind(['group', 'extract', file, '--vm', 'ping', '-o', vmi]).status).toBe(0);
    const r = rewind(['replay', vmi, '--verify']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(readFileSync(expected('net-ping.out'), 'latin1'));
    expect(rewind(['info', vmi]).stdout).toMatch(/devices virtio-net/);
  });

  it('forks the whole group at a moment into a new group file whose machines keep both branches', () => {
    const forked = join(dir, 'forked.vmg');
    const r = rewind(['group', 'fork', file, '--at-quantum', '20', '-o', forked]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^rewind: forked the group at quantum 20: pong at \d+, ping at \d+\n$/);
    expect(readFileSync(expected('net-ping.out'), 'latin1').endsWith(consoleOf(r.stdout, 'ping'))).toBe(true);
    expect(rewind(['group', 'replay', forked, '--verify']).status).toBe(0);
    const vmi = join(dir, 'pong-forked.vmi');
    expect(rewind(['group', 'extract', forked, '--vm', '0', '-o', vmi]).status).toBe(0);
    expect(rewind(['info', vmi]).stdout).toMatch(/group@20 \(b1\) from main at \d+/);
  });

  it('ends with the first machine that fails, 125 for one that waits for input that has ended', () => {
    const r = rewind(['group', guest('echo'), guest('hello'), '--max-instructions', '5000000']);
    expect(r.status).toBe(125);
    expect(r.stderr).toBe('rewind: echo is waiting for input and the input has ended\n');
    expect(r.stdout).toContain("[hello] Hello from Rewind guest 'hello'!");
  });

  it('refuses bad input with one line and status 2', () => {
    const damaged = join(dir, 'damaged.vmg');
    const bytes = readFileSync(file);
    bytes[70] ^= 1;
    writeFileSync(damaged, bytes);
    for (const args of [
      ['group'],
      ['group', guest('ping'), '--input-file-3', 'x'],
      ['group', 'replay', damaged],
      ['group', 'extract', file, '--vm', 'nobody', '-o', join(dir, 'x.vmi')],
      ['group', guest('ping'), '--quantum', '0'],
      ['group', '--linux', 'no/name'],
      ['group', '--linux', 'twin', 'twin'],
      ['group', 'fork', file, '--at-quantum', '100000', '-o', join(dir, 'y.vmg')],
    ]) {
      const r = rewind(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.split('\n').length, r.stderr).toBe(2);
    }
  });
});
