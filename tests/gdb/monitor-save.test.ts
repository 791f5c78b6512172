/**
 * `monitor save PATH`: the path comes from whoever talks to the stub, so it
 * may create a .vmi or replace a Rewind VM image, and nothing else.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guest, tempDir } from '../support/cli.js';
import { RawClient, startStub, type Stub } from './support.js';

const hex = (s: string) => Buffer.from(s).toString('hex');

describe('gdb monitor save', () => {
  let stub: Stub;
  let c: RawClient;
  const dir = tempDir();

  beforeAll(async () => {
    stub = await startStub([guest('hello')]);
    c = await RawClient.connect(stub.port);
  });
  afterAll(async () => {
    c?.close();
    await stub?.stop();
  });

  /** The monitor's text and whether it succeeded. */
  async function monitor(command: string): Promise<{ ok: boolean; text: string }> {
    c.send(`qRcmd,${hex(command)}`);
    let text = '';
    for (;;) {
      const r = await c.reply();
      if (r.startsWith('O') && r !== 'OK') text += Buffer.from(r.slice(1), 'hex').toString();
      else return { ok: r === 'OK', text };
    }
  }

  it('writes a new .vmi, and replaces a .vmi it wrote', async () => {
    const path = join(dir, 'new.vmi');
    expect(await monitor(`save ${path}`)).toEqual({ ok: true, text: expect.stringMatching(/^saved .*new\.vmi/) });
    expect(readFileSync(path).subarray(0, 8).toString()).toBe('REWINDVM');
    expect((await monitor(`save ${path}`)).ok).toBe(true);
  });

  const fifo = join(dir, 'pipe.vmi');
  const cases: [string, () => string, RegExp][] = [
    ['an existing file that is not named .vmi', () => write('notes.txt', 'keep me'), /must end in \.vmi/],
    ['a new file that is not named .vmi', () => join(dir, 'new.txt'), /must end in \.vmi/],
    ['a .vmi that is not a Rewind VM image', () => write('other.vmi', 'keep me'), /not a Rewind VM image/],
    ['a directory named .vmi', () => (mkdirSync(join(dir, 'dir.vmi')), join(dir, 'dir.vmi')), /not a regular file/],
    ['a FIFO named .vmi', () => (execFileSync('mkfifo', [fifo]), fifo), /not a regular file/],
    [
      'a symlink named .vmi',
      () => (symlinkSync(join(dir, 'notes.txt'), join(dir, 'link.vmi')), join(dir, 'link.vmi')),
      /not a regular file/,
    ],
    ['a .vmi in a missing directory', () => join(dir, 'missing', 'x.vmi'), /no such file/],
  ];
  function write(name: string, text: string): string {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  }

  it.each(cases)('refuses %s, leaves it alone and keeps serving', async (_name, make, message) => {
    const path = make();
    const before = existsSync(path) && !path.endsWith('dir.vmi') && path !== fifo ? readFileSync(path, 'latin1') : null;
    const r = await monitor(`save ${path}`);
    expect(r.ok).toBe(false);
    expect(r.text).toMatch(/^rewind: /);
    expect(r.text).toMatch(message);
    if (before !== null) expect(readFileSync(path, 'latin1')).toBe(before);
    else if (!path.endsWith('dir.vmi') && path !== fifo) expect(existsSync(path)).toBe(false);
    expect(await c.ask('?')).toMatch(/^T05/);
  });
});
