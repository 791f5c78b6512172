/**
 * A drawing guest on QEMU with the screen devices Rewind's --screen gives:
 * its console output, its exit status, and its screen through the monitor's
 * `screendump` (a PPM), taken once the guest has printed a marker.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QEMU } from './guest-run.js';

/** An image as RGB bytes, three per pixel. */
export interface RgbImage {
  width: number;
  height: number;
  rgb: Uint8Array;
}

export interface ScreenRun {
  output: string;
  status: number;
  screen: RgbImage;
}

/** Parses a binary PPM (P6, maxval 255). */
export function parsePpm(bytes: Uint8Array): RgbImage {
  const fields: string[] = [];
  let i = 0;
  const space = (b: number) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
  while (fields.length < 4) {
    while (space(bytes[i]!)) i++;
    const start = i;
    while (!space(bytes[i]!)) i++;
    fields.push(Buffer.from(bytes.subarray(start, i)).toString('latin1'));
  }
  const [magic, w, h, max] = fields;
  if (magic !== 'P6' || max !== '255') throw new Error(`not a P6 PPM with maxval 255: ${fields.join(' ')}`);
  const width = Number(w);
  const height = Number(h);
  const rgb = bytes.subarray(i + 1, i + 1 + width * height * 3);
  if (rgb.length !== width * height * 3) throw new Error('truncated PPM');
  return { width, height, rgb };
}

/**
 * Runs `elf` on QEMU with a virtio GPU, keyboard and tablet, typing
 * `input`; once the console shows `ready`, dumps the screen, then types
 * `end` (which should end the guest) and waits for QEMU to exit.
 */
export async function runOnQemuWithScreen(
  elf: string,
  input: Uint8Array,
  ready: string,
  end: Uint8Array,
  timeoutMs = 30_000,
): Promise<ScreenRun> {
  const dir = mkdtempSync(join(tmpdir(), 'rewind-qemu-screen-'));
  const socket = join(dir, 'monitor.sock');
  const ppm = join(dir, 'screen.ppm');
  // The guest is the only thing QEMU prints to stdout (the serial port).
  const qemu = spawn(
    QEMU,
    [
      ...['-machine', 'virt', '-bios', 'none', '-kernel', elf, '-m', '64M'],
      ...['-cpu', 'rv32,f=off,d=off,h=off,sstc=off', '-global', 'virtio-mmio.force-legacy=false'],
      ...['-device', 'virtio-gpu-device', '-device', 'virtio-keyboard-device', '-device', 'virtio-tablet-device'],
      ...['-display', 'none', '-serial', 'stdio', '-monitor', `unix:${socket},server,nowait`],
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const timer = setTimeout(() => qemu.kill('SIGKILL'), timeoutMs);
  const out: Buffer[] = [];
  const exited = new Promise<number>((resolve) => qemu.on('exit', (code) => resolve(code ?? -1)));
  qemu.stdin.write(Buffer.from(input));
  try {
    await new Promise<void>((resolve, reject) => {
      qemu.stdout.on('data', (chunk: Buffer) => {
        out.push(chunk);
        if (Buffer.concat(out).toString('latin1').includes(ready)) resolve();
      });
      void exited.then((code) => reject(new Error(`QEMU exited (${code}) before the guest printed "${ready}"`)));
    });
    await monitorCommand(socket, `screendump ${ppm}`);
    qemu.stdin.end(Buffer.from(end));
    const status = await exited;
    return { output: Buffer.concat(out).toString('latin1'), status, screen: parsePpm(readFileSync(ppm)) };
  } finally {
    clearTimeout(timer);
    qemu.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Sends one HMP command and waits for the prompt that follows its completion. */
function monitorCommand(socket: string, command: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const conn = createConnection(socket);
    let text = '';
    let sent = false;
    conn.on('data', (chunk) => {
      text += chunk.toString('latin1');
      const prompts = text.split('(qemu)').length - 1;
      if (!sent && prompts >= 1) {
        sent = true;
        conn.write(`${command}\n`);
      } else if (sent && prompts >= 2) {
        conn.end();
        resolve();
      }
    });
    conn.on('error', reject);
  });
}
