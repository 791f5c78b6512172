/**
 * Two Linux machines in a group (`rewind group --linux`): each boots, /init
 * gives eth0 10.0.0.N from its MAC, one pings the other, and the group is
 * recorded; the group file replays with --verify; a group fork during the
 * boot, before the ping, gives both machines other input (a UDP chat line
 * instead), and both branches replay with --verify. Uses dist/ (`npm run
 * build:cli`) and the Linux guest (built, or the committed one).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rewind, tempDir } from '../support/cli.js';
import { linuxMissing } from '../linux/linux-run.js';
import { consoleOf } from './consoles.js';

const missing = linuxMissing();
/** A bound on each machine, far past where both power off (about 40 M steps each). */
const MAX = '150000000';
/** Quantum 1000 is 1 s of guest time from reset: both kernels are still booting, no console input has been taken. */
const BEFORE_PING = '1000';

describe.skipIf(missing !== null)('a group of two Linux machines', () => {
  const dir = tempDir();
  const file = join(dir, 'linux.vmg');
  const forked = join(dir, 'linux-forked.vmg');
  const input = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  // bob waits out alice's pings before it powers off; both end, so the group does.
  const alice = input('alice.in', 'ping -c 2 10.0.0.2\npoweroff\n');
  const bob = input('bob.in', 'sleep 4\npoweroff\n');
  const run = rewind(
    [
      'group',
      '--linux',
      'alice',
      'bob',
      '--input-file-0',
      alice,
      '--input-file-1',
      bob,
      '--max-instructions',
      MAX,
      '-o',
      file,
    ],
    undefined,
    120_000,
  );

  it('boots both, gives each eth0 its address from its MAC, and alice pings bob', () => {
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const a = consoleOf(run.stdout, 'alice');
    const b = consoleOf(run.stdout, 'bob');
    expect(a).toContain('eth0: 10.0.0.1 netmask 255.255.255.0, MAC 52:54:00:12:34:56');
    expect(b).toContain('eth0: 10.0.0.2 netmask 255.255.255.0, MAC 52:54:00:12:34:57');
    expect(a).toMatch(/64 bytes from 10\.0\.0\.2: icmp_seq=1 ttl=64 time=\d+\.\d{3} ms/);
    expect(a).toMatch(/64 bytes from 10\.0\.0\.2: icmp_seq=2 ttl=64 time=\d+\.\d{3} ms/);
    expect(a).toContain('2 packets transmitted, 2 received, 0% packet loss');
  });

  it('replays the group file with --verify: each machine alone, and the group together', () => {
    const r = rewind(['group', 'replay', file, '--verify'], undefined, 120_000);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/verified alice: \d+ checkpoints up to position \d+, alone and together/);
    expect(r.stderr).toMatch(/verified bob: /);
    expect(consoleOf(r.stdout, 'alice')).toBe(consoleOf(run.stdout, 'alice'));
  });

  it('forks the group before the ping with other input, and both branches replay with --verify', () => {
    // alice sends once bob listens (a second is plenty: both boot alike), and stays up while ARP
    // finds bob's MAC and the line goes out.
    const chat = input('alice-fork.in', 'sleep 1\nchat send 10.0.0.2 7000 hello bob\nsleep 1\npoweroff\n');
    const listen = input('bob-fork.in', 'chat listen 7000 1\npoweroff\n');
    const r = rewind(
      [
        'group',
        'fork',
        file,
        '--at-quantum',
        BEFORE_PING,
        '--input-file-0',
        chat,
        '--input-file-1',
        listen,
        '-o',
        forked,
      ],
      undefined,
      120_000,
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^rewind: forked the group at quantum 1000: alice at \d+, bob at \d+\n$/);
    expect(consoleOf(r.stdout, 'bob')).toContain('<10.0.0.1> hello bob');
    expect(consoleOf(r.stdout, 'alice')).not.toContain('icmp_seq');
    const v = rewind(['group', 'replay', forked, '--verify'], undefined, 120_000);
    expect(v.status, v.stderr).toBe(0);
    expect(v.stderr).toMatch(/verified alice: /);
    expect(v.stderr).toMatch(/verified bob: /);
  });
});
