/** The packet reader and writer of the gdb stub, byte by byte. */
import { describe, expect, it } from 'vitest';
import {
  PacketReader,
  framePacket,
  fromHex,
  parseHexNumber,
  toHex,
  unescapeBinary,
  word32,
} from '../../src/gdb/packets.js';

const bytes = (s: string) => Buffer.from(s, 'latin1');

describe('PacketReader', () => {
  it('reads packets split anywhere and several in one chunk', () => {
    const r = new PacketReader();
    const whole = '$g#67$qC#b4';
    const found = [];
    for (const c of whole) found.push(...r.feed(bytes(c)));
    expect(found).toEqual([
      { kind: 'packet', data: 'g' },
      { kind: 'packet', data: 'qC' },
    ]);
    expect(new PacketReader().feed(bytes(whole))).toEqual(found);
  });

  it('reports bad checksums, acks, nacks and the interrupt byte', () => {
    const r = new PacketReader();
    expect(r.feed(bytes('+-\x03$g#00$g#zz'))).toEqual([
      { kind: 'ack' },
      { kind: 'nack' },
      { kind: 'interrupt' },
      { kind: 'bad-checksum' },
      { kind: 'bad-checksum' },
    ]);
  });

  it('drops oversized packets without buffering them and recovers', () => {
    const r = new PacketReader(16);
    expect(r.feed(bytes('$' + 'a'.repeat(100000) + '#00'))).toEqual([{ kind: 'oversized' }]);
    expect(r.feed(bytes('$?#3f'))).toEqual([{ kind: 'packet', data: '?' }]);
  });

  it('restarts on a $ inside a packet and ignores noise between packets', () => {
    const r = new PacketReader();
    expect(r.feed(bytes('junk$qfoo$?#3f!!'))).toEqual([{ kind: 'packet', data: '?' }]);
    expect(r.inPacket).toBe(false);
    r.feed(bytes('$m0,4'));
    expect(r.inPacket).toBe(true);
    r.reset();
    expect(r.feed(bytes('$?#3f'))).toEqual([{ kind: 'packet', data: '?' }]);
  });
});

describe('framing helpers', () => {
  it('frames with checksum and escapes the special characters', () => {
    expect(framePacket('OK').toString('latin1')).toBe('$OK#9a');
    // eslint-disable-next-line no-control-regex -- the escaped bytes (0x03, 0x04, 0x0a) are what is checked
    expect(framePacket('a}b#c$d*').toString('latin1')).toMatch(/^\$a\}]b\}\x03c\}\x04d\}\x0a#[0-9a-f]{2}$/);
    const r = new PacketReader();
    const [p] = r.feed(framePacket('x#y'));
    expect(p).toEqual({ kind: 'packet', data: 'x}\x03y' });
    expect(Buffer.from(unescapeBinary('x}\x03y')!).toString('latin1')).toBe('x#y');
    expect(unescapeBinary('ab}')).toBeNull();
  });

  it('converts hex both ways and rejects malformed numbers', () => {
    expect(toHex([0, 0xab, 0x10])).toBe('00ab10');
    expect(fromHex('00ab10')).toEqual(Uint8Array.from([0, 0xab, 0x10]));
    expect(fromHex('0')).toBeNull();
    expect(fromHex('zz')).toBeNull();
    expect(word32(0x80000000)).toBe('00000080');
    expect(parseHexNumber('0000000080000000')).toBe(0x80000000);
    expect(parseHexNumber('100000000')).toBeNull();
    expect(parseHexNumber('')).toBeNull();
    expect(parseHexNumber('-1')).toBeNull();
  });
});
