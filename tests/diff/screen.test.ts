/**
 * Differential tests of the screen: each drawing guest runs on Rewind with
 * --screen and on QEMU with -device virtio-gpu-device, virtio-keyboard-device
 * and virtio-tablet-device; `rewind screenshot` must equal QEMU's monitor
 * `screendump` pixel for pixel, and the console output and exit status must
 * be the same. QEMU's screen and output are committed (guests/expected/NAME.png,
 * NAME.out), so the comparison holds on machines without QEMU; with QEMU it
 * also runs live. REWIND_UPDATE_SCREENS=1 rewrites the committed files from QEMU.
 */
import { decode, encode } from 'fast-png';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expected, guest, rewind, tempDir } from '../support/cli.js';
import { QEMU, qemuAvailable } from '../support/guest-run.js';
import { runOnQemuWithScreen, type RgbImage } from '../support/qemu-screen.js';

const haveQemu = qemuAvailable();
if (!haveQemu && process.env.CI) throw new Error(`${QEMU} is required in CI for the differential tests`);
const update = process.env.REWIND_UPDATE_SCREENS === '1';

/**
 * Drawing guests: their input (guests/expected/NAME.in), the console line
 * after which the screen is complete, and the input that then ends them.
 */
const SCREEN_GUESTS = [
  { name: 'draw', ready: 'drawn\r\n', end: 'q', exit: 0 },
  { name: 'minefield', ready: 'ready\r\n', end: 'q', exit: 0 },
];

/** Where two images first differ, or null when they are equal. */
function difference(a: RgbImage, b: RgbImage): string | null {
  if (a.width !== b.width || a.height !== b.height) return `size ${a.width}×${a.height} vs ${b.width}×${b.height}`;
  let count = 0;
  let first = -1;
  for (let i = 0; i < a.rgb.length; i += 3)
    if (a.rgb[i] !== b.rgb[i] || a.rgb[i + 1] !== b.rgb[i + 1] || a.rgb[i + 2] !== b.rgb[i + 2]) {
      if (first < 0) first = i / 3;
      count++;
    }
  if (count === 0) return null;
  const at = (img: RgbImage) => [...img.rgb.subarray(first * 3, first * 3 + 3)].join(',');
  return `${count} pixels differ, the first at (${first % a.width}, ${Math.floor(first / a.width)}): ${at(a)} vs ${at(b)}`;
}

function readPng(path: string): RgbImage {
  const png = decode(readFileSync(path));
  if (png.channels !== 3 || png.depth !== 8) throw new Error(`${path}: not 8-bit RGB`);
  return { width: png.width, height: png.height, rgb: Uint8Array.from(png.data) };
}

/** `rewind screenshot` of the guest run with its input to where it waits for more. */
function screenshot(name: string): RgbImage {
  const png = join(tempDir(), `${name}.png`);
  const r = rewind(['screenshot', guest(name), '--screen', '--input-file', expected(`${name}.in`), '-o', png]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return readPng(png);
}

describe('drawing guests give QEMU screendump pixels', () => {
  for (const g of SCREEN_GUESTS) {
    const input = new Uint8Array(readFileSync(expected(`${g.name}.in`)));
    const end = new TextEncoder().encode(g.end);
    /** The console of `rewind run` with the input and then the end. */
    const run = () => {
      const file = join(tempDir(), `${g.name}.in`);
      writeFileSync(file, Buffer.concat([input, end]));
      return rewind(['run', guest(g.name), '--screen', '--input-file', file]);
    };

    it.runIf(update && haveQemu)(`${g.name}: the committed screen and output are QEMU's`, async () => {
      const theirs = await runOnQemuWithScreen(guest(g.name), input, g.ready, end);
      writeFileSync(expected(`${g.name}.out`), theirs.output, 'latin1');
      const s = theirs.screen;
      writeFileSync(expected(`${g.name}.png`), encode({ width: s.width, height: s.height, data: s.rgb, channels: 3 }));
    });

    it(`${g.name}: rewind screenshot equals the committed screendump, and the console output QEMU's`, () => {
      expect(difference(screenshot(g.name), readPng(expected(`${g.name}.png`)))).toBeNull();
      const ours = run();
      expect(ours.stdout).toBe(readFileSync(expected(`${g.name}.out`), 'latin1'));
      expect(ours.status).toBe(g.exit);
    });

    it.runIf(haveQemu)(`${g.name}: rewind screenshot equals QEMU's screendump, live`, async () => {
      const theirs = await runOnQemuWithScreen(guest(g.name), input, g.ready, end);
      expect(theirs.status).toBe(g.exit);
      expect(difference(screenshot(g.name), theirs.screen)).toBeNull();
      expect(run().stdout).toBe(theirs.output);
    });
  }
});
