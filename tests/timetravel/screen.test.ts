/**
 * The screen as machine state: every position has its screen, key and
 * pointer input are recorded events that replay to the same state, and a
 * .vmi names the screen's devices so that it reopens with them.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EV_ABS, EV_KEY, EV_SYN, ABS_X } from '../../core/virtio/input.js';
import { Session } from '../../session/session.js';
import type { MachineSpec } from '../../session/spec.js';
import { readVmi, writeVmi } from '../../storage/index.js';
import { guest } from '../support/cli.js';

const spec = (screen: boolean): MachineSpec => ({
  kind: 'elf',
  image: new Uint8Array(readFileSync(guest('draw'))),
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
    const plain = Session.create(spec(false), { record: false });
    expect(() => plain.sendInput('keyboard', [SYN])).toThrow(/no screen/);
  });

  it('without a screen, the machine and its recording are as before', () => {
    const session = Session.create(spec(false), { interval: 200_000 });
    expect(session.machine.gpu).toBeNull();
    expect(session.toRecording().config.machine['devices']).toBeUndefined();
  });
});
