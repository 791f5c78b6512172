/**
 * Differential test of the network (#17): the two bundled network guests
 * on two QEMUs joined by `-netdev socket` print what they print in
 * `rewind group`. QEMU's consoles are committed (guests/expected/net-*.out),
 * so the comparison with them holds without QEMU (tests/net/cli.test.ts);
 * with QEMU it runs live here.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { guest, rewind } from '../support/cli.js';
import { QEMU, qemuAvailable } from '../support/guest-run.js';
import { consoleOf } from './consoles.js';

const haveQemu = qemuAvailable();
if (!haveQemu && process.env.CI) throw new Error(`${QEMU} is required in CI for the differential tests`);

/** A TCP port nothing listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

interface QemuRun {
  output: string;
  status: number;
}

/** Starts QEMU with a virtio-net device on `netdev`; `ready` resolves once the console shows `marker`. */
function qemu(elf: string, netdev: string, mac: string, marker: string | null, timeoutMs: number) {
  const child = spawn(
    QEMU,
    [
      ...['-machine', 'virt', '-bios', 'none', '-kernel', elf, '-m', '64M'],
      ...['-cpu', 'rv32,f=off,d=off,h=off,sstc=off', '-global', 'virtio-mmio.force-legacy=false'],
      ...['-netdev', `socket,id=n0,${netdev}`, '-device', `virtio-net-device,netdev=n0,mac=${mac}`],
      ...['-display', 'none', '-serial', 'stdio', '-monitor', 'none'],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const out: Buffer[] = [];
  let seen: () => void = () => {};
  const ready = new Promise<void>((resolve) => (seen = resolve));
  child.stdout.on('data', (chunk: Buffer) => {
    out.push(chunk);
    if (marker === null || Buffer.concat(out).toString('latin1').includes(marker)) seen();
  });
  const done = new Promise<QemuRun>((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(timer);
      seen();
      resolve({ output: Buffer.concat(out).toString('latin1'), status: code ?? -1 });
    }),
  );
  return { ready, done };
}

describe('two network guests on two QEMUs joined by -netdev socket', () => {
  it.runIf(haveQemu)(
    'print what they print in rewind group, and exit as they do',
    async () => {
      const port = await freePort();
      // pong listens and is started first; ping connects once pong's driver is up, so no frame is sent into the void.
      const pong = qemu(guest('pong'), `listen=127.0.0.1:${port}`, '52:54:00:12:34:56', 'pong: ready', 60_000);
      await pong.ready;
      const ping = qemu(guest('ping'), `connect=127.0.0.1:${port}`, '52:54:00:12:34:57', null, 60_000);
      const [theirPong, theirPing] = await Promise.all([pong.done, ping.done]);
      const ours = rewind(['group', guest('pong'), guest('ping')]);
      expect(ours.status).toBe(0);
      expect([theirPong.status, theirPing.status]).toEqual([0, 0]);
      expect(consoleOf(ours.stdout, 'pong')).toBe(theirPong.output);
      expect(consoleOf(ours.stdout, 'ping')).toBe(theirPing.output);
    },
    90_000,
  );
});
