// @vitest-environment happy-dom
// Seek Cancel holds after a click on the timeline (a click fires input and
// then change: the second must not start another seek once the first is
// cancelled), and a seek whose last slice reached its target is done: never
// "stopped at position X, short of X".
import { flushSync } from 'svelte';
import { afterEach, describe, expect, test } from 'vitest';
import Timeline from '../../ui/Timeline.svelte';
import { AppState } from '../../ui/app.svelte.js';
import { seekWork } from '../../src/web/jobs.js';
import type { MachineHost } from '../../src/web/host.js';
import type { WorkerEvent } from '../../src/web/protocol.js';
import { FakeClient, render, unmountAll } from './support.js';

afterEach(unmountAll);

const status = (position: number, end: number): WorkerEvent => ({
  type: 'status',
  status: { state: 'paused', position, end, branch: 'b0', pc: 0x80000000, priv: 3 },
});
const settle = async () => {
  for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 0));
  flushSync();
};

describe('Seek Cancel after a click on the timeline', () => {
  test('a click (input, then change, at one value) makes one seek; cancelled, no second one starts', async () => {
    const client = new FakeClient();
    const app = new AppState(client);
    client.emit({ type: 'ready', capabilities: { timeTravel: true } });
    client.emit(status(900, 1000));
    let cancel: () => void = () => {};
    client.answers.seek = () =>
      new Promise<void>((_, reject) => {
        cancel = () =>
          reject(
            Object.assign(new Error('seek cancelled: stopped at position 400, short of 200'), { code: 'cancelled' }),
          );
      });
    const root = render(Timeline, { app });
    const slider = root.querySelector<HTMLInputElement>('[aria-label="Timeline"]')!;
    slider.value = '200';
    slider.dispatchEvent(new Event('input', { bubbles: true }));
    slider.dispatchEvent(new Event('change', { bubbles: true }));
    flushSync();
    const seeks = () => client.sent.filter((c) => c.type === 'seek').map((c) => (c as { position: number }).position);
    expect(seeks()).toEqual([200]);
    cancel();
    await settle();
    expect(seeks()).toEqual([200]);
    // A drag that goes on elsewhere still seeks to where it ends.
    client.answers.seek = () => Promise.resolve();
    slider.value = '300';
    slider.dispatchEvent(new Event('input', { bubbles: true }));
    slider.dispatchEvent(new Event('change', { bubbles: true }));
    await settle();
    expect(seeks()).toEqual([200, 300]);
  });
});

describe('a seek that reaches its target in its last slice', () => {
  test('is done, not cancellable as "short of" where it stands', () => {
    const machine = { position: 100 };
    // The session's seek: the last chunk reaches 500, then the deadline says stop (it returns false).
    const host = {
      machine,
      seek: (_b: string | undefined, position: number) => {
        machine.position = position;
        return false;
      },
    } as unknown as MachineHost;
    const work = seekWork(host, undefined, 500, () => 0);
    expect(work.slice(0)).toEqual({ value: undefined });
    // Short of the target, it goes on (and a cancel then says where it stopped, truly short).
    const short = {
      machine: { position: 100 },
      seek: () => false,
    } as unknown as MachineHost;
    const w2 = seekWork(short, undefined, 500, () => 0);
    expect(w2.slice(0)).not.toHaveProperty('value');
    expect(w2.cancelled()).toBe('seek cancelled: stopped at position 100, short of 500');
  });
});
