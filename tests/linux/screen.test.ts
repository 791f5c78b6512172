/**
 * Linux with a screen (--screen): the kernel's virtio-gpu driver brings up the
 * framebuffer console, a shell runs on it, the virtio keyboard types into that
 * shell, and the screen at a past position of the recording is what `rewind
 * screenshot --at` shows of the exported .vmi. Needs the Linux guest (skipped
 * with the reason when it is not built) and the CLI built by `npm run build:cli`. Ctrl+click on a pixel
 * finds the kernel's store into the framebuffer, through a physical watchpoint.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { EV_KEY, EV_SYN } from '../../core/virtio/input.js';
import { CSR, peekCsr } from '../../core/csr.js';
import { Session } from '../../session/session.js';
import { pixelAddress } from '../../src/web/pixels.js';
import { writeVmi } from '../../storage/index.js';
import { rewind, tempDir } from '../support/cli.js';
import { PROMPT, linuxMissing, linuxSpec } from './linux-run.js';

const missing = linuxMissing();
const SLICE = 500_000;
const BUDGET = 600_000_000;

/** Linux key codes (input-event-codes.h) of the characters the test types, on a US layout. */
const KEYS: Record<string, [code: number, shift: boolean]> = {
  ' ': [57, false],
  '-': [12, false],
  '/': [53, false],
  '>': [52, true],
  '\n': [28, false],
  '0': [11, false],
};
'qwertyuiop'.split('').forEach((c, i) => (KEYS[c] = [16 + i, false]));
'asdfghjkl'.split('').forEach((c, i) => (KEYS[c] = [30 + i, false]));
'zxcvbnm'.split('').forEach((c, i) => (KEYS[c] = [44 + i, false]));
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZ') KEYS[c] = [KEYS[c.toLowerCase()]![0], true];
const LEFT_SHIFT = 42;
const SYN = { type: EV_SYN, code: 0, value: 0 };

describe.skipIf(missing !== null)(`Linux with a screen${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('boots to the framebuffer console, takes typed keys, and a past screen equals rewind screenshot --at', () => {
    const session = Session.create(linuxSpec({ screen: true }));
    let serial = '';
    session.onOutput = (b) => (serial += String.fromCharCode(b));
    const runUntil = (done: () => boolean, what: string) => {
      for (let steps = 0; !done();) {
        if (steps >= BUDGET) throw new Error(`${what} did not come; serial output:\n${serial}`);
        steps += session.run(SLICE).steps;
      }
    };
    runUntil(() => serial.endsWith(PROMPT), 'the serial prompt');
    // The console's text on the screen: some pixels lit on a black screen.
    const screen = () => session.machine.gpu!.screen();
    runUntil(() => screen() !== null, 'a screen');
    const booted = screen()!;
    expect([booted.width, booted.height]).toEqual([1280, 800]);
    expect(booted.rgb.some((v) => v !== 0)).toBe(true);
    const past = session.position;

    // Typed on the virtio keyboard into the screen's shell, the command reaches the serial line.
    // Each key is pressed and released in one batch: held across a run, the guest's auto-repeat
    // (250 ms) would fire, since an idle guest's clock skips ahead to its next timer.
    for (const ch of 'echo keyboard-ok >/dev/ttyS0\n') {
      const [code, shift] = KEYS[ch]!;
      const key = (value: number) => [{ type: EV_KEY, code, value }, SYN];
      const shifted = (value: number) => (shift ? [{ type: EV_KEY, code: LEFT_SHIFT, value }, SYN] : []);
      session.sendInput('keyboard', [...shifted(1), ...key(1), ...key(0), ...shifted(0)]);
      session.run(SLICE);
    }
    runUntil(() => serial.includes('keyboard-ok'), 'the typed command');
    const typed = screen()!;
    const end = session.position;
    expect(Buffer.from(typed.rgb).equals(Buffer.from(booted.rgb))).toBe(false);

    // The screen at a past position, as the CLI shows it from the exported recording.
    session.checkpointHere();
    const vmi = join(tempDir(), 'screen.vmi');
    writeFileSync(vmi, writeVmi(session.toRecording()));
    const png = join(tempDir(), 'past.png');
    const r = rewind(['screenshot', vmi, '--at', String(past), '-o', png]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const image = decode(readFileSync(png));
    session.seek({ position: past });
    const then = screen()!;
    expect([image.width, image.height, image.channels]).toEqual([then.width, then.height, 3]);
    expect(Buffer.from(image.data as Uint8Array).equals(Buffer.from(then.rgb))).toBe(true);

    // Ctrl+click on a pixel of the typed command: the last store into the memory behind it, which
    // the kernel writes through its own mapping of those pages (a physical watchpoint).
    session.seek({ position: end });
    const lit = typed.rgb.findIndex((v, i) => v !== booted.rgb[i]);
    const pixel = Math.floor(lit / 3);
    const pa = pixelAddress(session.machine, pixel % typed.width, Math.floor(pixel / typed.width))!;
    const cpu = session.machine.cpu;
    const shown = cpu.readPhysical(pa, 4);
    const stop = session.reverseContinue({ watchpoints: [{ address: pa, length: 4, physical: true }] });
    expect(stop).toMatchObject({ reason: 'watchpoint' });
    const at = session.position;
    expect(at).toBeGreaterThan(past);
    expect(at).toBeLessThan(end);
    expect(stop?.reason === 'watchpoint' && stop.address >= pa && stop.address < pa + 4).toBe(true);
    expect(peekCsr(cpu, CSR.satp)! >>> 31).toBe(1);
    expect(cpu.readPhysical(pa, 4)).toBe(shown);
    session.seek({ position: Math.floor((at + end) / 2) });
    expect(cpu.readPhysical(pa, 4)).toBe(shown);
  });
});
