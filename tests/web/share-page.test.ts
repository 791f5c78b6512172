// @vitest-environment happy-dom
// The page's side of share links against a fake worker: a link makes the
// point's fragment; opening one finds a bundled guest by hash, or asks for the
// user's own file, refuses another, and sends the session to the worker.
import { afterEach, describe, expect, test, vi } from 'vitest';
import type { Command } from '../../src/web/protocol.js';
import { decodeShare, encodeShare, partHash } from '../../src/web/share.js';
import { AppState } from '../../ui/app.svelte.js';
import { ShareState } from '../../ui/share.svelte.js';
import { FakeClient, guest } from './support.js';

afterEach(() => vi.unstubAllGlobals());

function setup(href = 'http://site.test/app/?record=1') {
  const client = new FakeClient();
  const app = new AppState(client);
  let url = href;
  const share = new ShareState(app, { href: () => url, replace: (u) => (url = u) });
  return { client, app, share, url: () => url };
}

/** fetch answering the bundled guests' URLs with `bytes` (every one the same), and 404 for Linux. */
const serve = (bytes: Uint8Array) =>
  vi.stubGlobal('fetch', async (url: string) =>
    String(url).startsWith('linux/') ? new Response('', { status: 404 }) : new Response(bytes.slice()),
  );

const event = { position: 100, time: 100, device: 'uart0', payload: new Uint8Array([108]) };

describe('share links in the page', () => {
  test('Share link makes a link of the point from the worker’s answer, with the file names', async () => {
    const { client, app, share } = setup();
    app.programName = 'virtio.elf + disk.img';
    client.answers.shareInfo = () => ({
      kind: 'elf',
      ramSize: 1 << 20,
      hashes: { program: 'aa'.repeat(16), disk: 'bb'.repeat(16) },
      events: [event],
      position: 200,
    });
    const link = (await share.make())!;
    expect(link.startsWith('http://site.test/app/#share=')).toBe(true);
    expect(decodeShare(new URL(link).hash)).toMatchObject({
      names: { program: 'virtio.elf', disk: 'disk.img' },
      hashes: { program: 'aa'.repeat(16), disk: 'bb'.repeat(16) },
      position: 200,
    });
    expect(share.link).toBe(link);

    // A second link, of a later point: the first is not shown while it is made (it would be copied for the wrong point).
    client.answers.shareInfo = () => ({
      kind: 'elf',
      ramSize: 1 << 20,
      hashes: { program: 'cc'.repeat(16) },
      events: [],
      position: 300,
    });
    const making = share.make();
    expect(share.link).toBeNull();
    const second = (await making)!;
    expect(decodeShare(new URL(second).hash)).toMatchObject({ hashes: { program: 'cc'.repeat(16) }, position: 300 });
    expect(share.link).toBe(second);
  });

  test('a bundled guest is found by its hash and replayed at once; the address then drops the link', async () => {
    const hello = guest('hello');
    serve(hello);
    const { client, share, url } = setup('http://site.test/#x');
    const fragment = encodeShare({
      kind: 'elf',
      ramSize: 1 << 20,
      hashes: { program: await partHash(hello) },
      names: { program: 'hello.elf' },
      events: [event],
      position: 200,
    });
    client.answers.openShare = () => ({ branch: 'b0', position: 200 });
    expect(await share.open(`#${fragment}`)).toBe(true);
    expect(share.needed).toEqual([]);
    const sent = client.sent.find((c) => c.type === 'openShare') as Extract<Command, { type: 'openShare' }>;
    expect(sent).toMatchObject({ kind: 'elf', position: 200, name: 'default.elf', ramSize: 1 << 20 });
    expect(sent.image).toEqual(hello);
    expect(url()).toBe('http://site.test/');
  });

  test('a user’s own file is asked for by name, another file is refused, the right one opens the session', async () => {
    serve(new Uint8Array([1, 2, 3]));
    const { client, app, share } = setup();
    const mine = guest('timer');
    const fragment = encodeShare({
      kind: 'elf',
      ramSize: 1 << 20,
      hashes: { program: await partHash(mine) },
      names: { program: 'timer.elf' },
      events: [],
      position: 50,
    });
    client.answers.openShare = () => ({ branch: 'b0', position: 50 });
    await share.open(fragment);
    expect(share.needed).toMatchObject([{ part: 'program', name: 'timer.elf' }]);
    const file = (name: string, bytes: Uint8Array) => ({ name, arrayBuffer: async () => bytes.slice().buffer });
    await share.provide('program', file('hello.elf', guest('hello')));
    expect(app.message).toMatch(/^hello\.elf is not the program this link was made with \(its hash is [0-9a-f]{12}…/);
    expect(client.sent.some((c) => c.type === 'openShare')).toBe(false);
    await share.provide('program', file('timer.elf', mine));
    expect(app.message).toBeNull();
    expect(share.needed).toEqual([]);
    expect(client.sent.find((c) => c.type === 'openShare')).toMatchObject({ name: 'timer.elf', position: 50 });
  });

  test('a damaged link says so, and opens nothing', async () => {
    const { client, app, share } = setup();
    expect(await share.open('#share=@@')).toBe(true);
    expect(app.message).toMatch(/this share link is damaged/);
    expect(client.sent).toEqual([]);
    expect(await share.open('#vm=1')).toBe(false);
  });
});
