// A session as a link: what the worker says a point is made of, the link's
// encoding (compact, checked), and a second engine that opens it reaching the
// same state hash.
import { describe, expect, test, vi } from 'vitest';
import type { ShareInfo } from '../../src/web/protocol.js';
import { decodeShare, encodeShare, partHash, type SharedSession } from '../../src/web/share.js';
import { engineHarness, guest, recordingHosts } from './support.js';

function harness() {
  const queue: (() => void)[] = [];
  let now = 0;
  const h = engineHarness({ defer: (fn) => queue.push(fn), now: () => (now += 1), ...recordingHosts });
  const output = () =>
    new TextDecoder().decode(Uint8Array.from(h.events.flatMap((e) => (e.type === 'output' ? [...e.bytes] : []))));
  /** Runs slices until the output written from `from` on holds `text`. */
  const pumpUntil = (text: string, from = 0) => {
    for (let i = 0; i < 2000 && !output().slice(from).includes(text) && queue.length > 0; i++) queue.shift()!();
  };
  const done = async (id: number) => {
    await vi.waitFor(() => expect(h.replyTo(id)).toBeDefined());
    const r = h.replyTo(id)!;
    if (!r.ok) throw Object.assign(new Error(r.error.message), { code: r.error.code });
    return r.data;
  };
  return { ...h, output, pumpUntil, done };
}

describe('share links', () => {
  test('a session of typed commands goes into a short link and replays elsewhere to the same state hash', async () => {
    const a = harness();
    const image = guest('default');
    a.engine.handle({ type: 'load', image, name: 'default.elf', record: true, run: true });
    a.pumpUntil('> ');
    for (const line of ['look\r', 'e\r', 'take bone\r', 'w\r']) {
      const from = a.output().length;
      a.engine.handle({ type: 'type', bytes: new TextEncoder().encode(line) });
      a.pumpUntil('\r\n> ', from);
    }
    expect(a.output()).toContain('Taken: bone.');
    a.engine.handle({ type: 'pause' });
    const info = (await a.done(a.send({ type: 'shareInfo' }))) as ShareInfo;
    expect(info.position).toBe(a.engine.status().position);
    expect(info.hashes.program).toBe(await partHash(image));
    // Every byte typed, in events as the guest took them.
    expect(info.events.reduce((n, e) => n + (e.payload as Uint8Array).length, 0)).toBe(
      'look\re\rtake bone\rw\r'.length,
    );
    const session: SharedSession = { ...info, names: { program: 'default.elf' } };
    const fragment = encodeShare(session);
    // A few typed commands: a few hundred characters.
    expect(fragment.length).toBeLessThan(1024);
    const decoded = decodeShare(`#${fragment}`)!;
    expect(decoded).toMatchObject({ kind: 'elf', ramSize: info.ramSize, position: info.position, hashes: info.hashes });
    expect(decoded.events.map((e) => [e.position, e.time, e.device, [...(e.payload as Uint8Array)]])).toEqual(
      info.events.map((e) => [e.position, e.time, e.device, [...(e.payload as Uint8Array)]]),
    );

    const b = harness();
    const opened = await b.done(
      b.send({ type: 'openShare', ...decoded, image: guest('default'), name: 'shared default.elf' }),
    );
    expect(opened).toMatchObject({ position: info.position });
    expect(b.last('loaded')).toMatchObject({ name: 'shared default.elf' });
    expect(b.reply({ type: 'stateHash' })).toBe(a.reply({ type: 'stateHash' }));
    // What the console showed there, the link's replay shows.
    expect(new TextDecoder().decode(b.last('console')!.bytes)).toBe(a.output());
  });

  test('a fragment that is not a share link is none; a damaged one is refused with a clear message', () => {
    expect(decodeShare('')).toBeNull();
    expect(decodeShare('#vm=abc')).toBeNull();
    expect(() => decodeShare('#share=!!!')).toThrow(
      "this share link is damaged or not one of Rewind's: it has characters base64url does not",
    );
    expect(() => decodeShare('#share=AAAA')).toThrow(/this share link is damaged or not one of Rewind's/);
    const good = encodeShare({
      kind: 'elf',
      ramSize: 1 << 20,
      hashes: { program: '00'.repeat(16) },
      names: {},
      events: [{ position: 5, time: 5, device: 'uart0', payload: new Uint8Array([65]) }],
      position: 10,
    });
    expect(decodeShare(good)?.screen).toBeUndefined();
    const screen = encodeShare({ ...decodeShare(good)!, screen: true, append: 'console=tty0' });
    expect(decodeShare(screen)).toMatchObject({ screen: true, append: 'console=tty0' });
    expect(decodeShare(good)?.events).toEqual([
      { position: 5, time: 5, device: 'uart0', payload: new Uint8Array([65]) },
    ]);
    // Cut short: the deflated data ends early.
    expect(() => decodeShare(good.slice(0, -8))).toThrow(/damaged/);
    // An event past the point shared.
    const late = encodeShare({
      kind: 'elf',
      ramSize: 1 << 20,
      hashes: { program: '00'.repeat(16) },
      names: {},
      events: [{ position: 50, time: 50, device: 'uart0', payload: new Uint8Array([65]) }],
      position: 10,
    });
    expect(() => decodeShare(late)).toThrow('event 0 is at position 50');
  });
});
