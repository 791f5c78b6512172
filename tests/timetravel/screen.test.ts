/**
 * The screen as machine state: every position has its screen, key and
 * pointer input are recorded events that replay to the same state, and a
 * .vmi names the screen's devices so that it reopens with them.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ABS_X, ABS_Y, BTN_LEFT, EV_ABS, EV_KEY, EV_SYN } from '../../core/virtio/input.js';
import { Session } from '../../session/session.js';
import type { MachineSpec } from '../../session/spec.js';
import { readVmi, writeVmi } from '../../storage/index.js';
import { guest } from '../support/cli.js';

const spec = (screen: boolean, name = 'draw'): MachineSpec => ({
  kind: 'elf',
  image: new Uint8Array(readFileSync(guest(name))),
  ramSize: 64 << 20,
  screen,
});

const SYN = { type: EV_SYN, code: 0, value: 0 };

describe('a machine with a screen', () => {
  it('has a screen at every position: none at reset, the picture once drawn, kept through seeks and a .vmi', () => {
    const session = Session.create(spec(true), { interval: 200_000 });
    expect(session.run(50_000_000).reason).toBe('waiting');
    const end = session.position;
    const picture = session.machine.gpu!.screen()!;
    expect([picture.width, picture.height]).toEqual([304, 216]);
    session.seek({ position: 1000 });
    expect(session.machine.gpu!.screen()).toBeNull();
    session.seek({ position: end });
    expect(session.machine.gpu!.screen()).toEqual(picture);

    const rec = session.toRecording();
    expect(rec.config.machine['devices']).toEqual(['virtio-gpu', 'virtio-keyboard', 'virtio-tablet']);
    const reopened = Session.open(readVmi(writeVmi(rec)));
    reopened.seek({ position: end });
    expect(reopened.machine.gpu!.screen()).toEqual(picture);
    expect(reopened.stateHash()).toBe(session.stateHash());
  });

  it('records key and pointer events at their positions; a replay and a reopened .vmi apply them alike', () => {
    const session = Session.create(spec(true), { interval: 200_000 });
    session.run(500_000);
    const at = session.position;
    session.sendInput('keyboard', [{ type: EV_KEY, code: 30, value: 1 }, SYN]);
    session.sendInput('tablet', [{ type: EV_ABS, code: ABS_X, value: 0x4000 }, SYN]);
    session.run(500_000);
    const end = session.position;
    // The draw guest has no input driver: the events wait in the devices, as part of their state.
    expect([session.machine.keyboard!.waiting, session.machine.tablet!.waiting]).toEqual([2, 2]);
    const events = session.timeline.eventsBetween(session.branch, 0, Infinity);
    expect(events.map((e) => [e.device, e.position])).toEqual([
      ['keyboard', at],
      ['tablet', at],
    ]);
    const hash = session.stateHash();
    session.seek({ position: at });
    expect(session.machine.keyboard!.waiting).toBe(0);
    session.seek({ position: end });
    expect(session.stateHash()).toBe(hash);
    const reopened = Session.open(readVmi(writeVmi(session.toRecording())));
    reopened.seek({ position: end });
    expect(reopened.stateHash()).toBe(hash);
    expect(reopened.replay(reopened.branch, { verify: true }).mismatch).toBeNull();
  });

  it('sends input in the past on a new branch, and refuses it without a screen', () => {
    const session = Session.create(spec(true), { interval: 200_000 });
    session.run(500_000);
    session.seek({ position: 100_000 });
    session.sendInput('keyboard', [{ type: EV_KEY, code: 30, value: 1 }, SYN]);
    expect(session.branchName).toBe('fork@100000');
    const plain = Session.create(spec(false), { interval: 200_000 });
    plain.run(300_000);
    plain.seek({ position: 1000 });
    expect(() => plain.sendInput('keyboard', [SYN])).toThrow(/no screen/);
    // Refused before any fork.
    expect(plain.branches()).toHaveLength(1);
  });

  it('without a screen, the machine and its recording are as before', () => {
    const session = Session.create(spec(false), { interval: 200_000 });
    expect(session.machine.gpu).toBeNull();
    expect(session.toRecording().config.machine['devices']).toBeUndefined();
  });
});

describe('the minefield game', () => {
  /** The first mine of the game's field (guests/screen/minefield.c places them with this generator). */
  function firstMine(): { x: number; y: number } {
    const seed = (Math.imul(20261204, 1664525) + 1013904223) >>> 0;
    const at = (seed >>> 16) % 144;
    return { x: at % 12, y: Math.floor(at / 12) };
  }
  /** The tablet coordinate of a pixel of the 240×264 screen. */
  const abs = (pixel: number, size: number) => Math.ceil((pixel * 0x8000) / size);
  const text = (s: Session) => new TextDecoder().decode(s.console().bytes);

  it('is played with the tablet and the keyboard; after a mine, rewinding and another move keeps both frames', () => {
    const session = Session.create(spec(true, 'minefield'), { interval: 2_000_000 });
    expect(session.run(100_000_000).reason).toBe('waiting');
    const mine = firstMine();
    session.sendInput('tablet', [
      { type: EV_ABS, code: ABS_X, value: abs(mine.x * 20 + 10, 240) },
      { type: EV_ABS, code: ABS_Y, value: abs(24 + mine.y * 20 + 10, 264) },
      SYN,
    ]);
    const click = session.position;
    session.sendInput('tablet', [{ type: EV_KEY, code: BTN_LEFT, value: 1 }, SYN]);
    session.sendInput('tablet', [{ type: EV_KEY, code: BTN_LEFT, value: 0 }, SYN]);
    expect(session.run(100_000_000).reason).toBe('waiting');
    expect(text(session)).toContain('BOOM');
    const boom = session.machine.gpu!.screen()!;
    const main = session.branch;
    const mainEnd = session.position;

    // Back to before the click, and a key instead: a new branch, its own frame.
    session.seek({ position: click });
    session.sendInput('keyboard', [{ type: EV_KEY, code: 57, value: 1 }, SYN]);
    session.sendInput('keyboard', [{ type: EV_KEY, code: 57, value: 0 }, SYN]);
    expect(session.branch).not.toBe(main);
    expect(session.run(100_000_000).reason).toBe('waiting');
    expect(text(session)).not.toContain('BOOM');
    const safe = session.machine.gpu!.screen()!;
    expect(safe.rgb).not.toEqual(boom.rgb);

    session.seek({ branch: main, position: mainEnd });
    expect(session.machine.gpu!.screen()).toEqual(boom);
    const reopened = Session.open(readVmi(writeVmi(session.toRecording())));
    reopened.seek({ branch: main, position: mainEnd });
    expect(reopened.machine.gpu!.screen()).toEqual(boom);
  });
});
