/** ELF and raw image loading, including broken files. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RewindError } from '../../core/errors.js';
import { parseElf, rawImage } from '../../core/loader.js';
import { guest } from '../support/cli.js';

const BASE = 0x80000000;
const RAM = 64 << 20;
const hello = new Uint8Array(readFileSync(guest('hello')));

function broken(edit: (b: Uint8Array, v: DataView) => void): Uint8Array {
  const b = hello.slice();
  edit(b, new DataView(b.buffer));
  return b;
}

/** Offset of the first PT_LOAD program header. */
function firstLoad(v: DataView): number {
  const phoff = v.getUint32(28, true);
  for (let i = 0; ; i++) if (v.getUint32(phoff + 32 * i, true) === 1) return phoff + 32 * i;
}

function error(bytes: Uint8Array, ramSize = RAM): string {
  try {
    parseElf(bytes, BASE, ramSize);
  } catch (e) {
    expect(e).toBeInstanceOf(RewindError);
    return (e as RewindError).message;
  }
  throw new Error('parseElf accepted a broken file');
}

describe('parseElf', () => {
  it('loads segments inside RAM, the entry point and the symbols', () => {
    const p = parseElf(hello, BASE, RAM);
    expect(p.entry).toBe(BASE);
    expect(p.segments.length).toBeGreaterThan(0);
    for (const s of p.segments) expect(s.addr).toBeGreaterThanOrEqual(BASE);
    expect(p.symbols.get('main')).toBeGreaterThan(BASE);
  });

  it('keeps only names a person wrote: no mapping symbols, local labels, section or file names', () => {
    const p = parseElf(new Uint8Array(readFileSync(guest('default'))), BASE, RAM);
    const names = [...p.symbols.keys()];
    expect(names).toEqual(expect.arrayContaining(['main', '_start', 'park', 'P', 'items', '__bss_start']));
    expect(names.filter((n) => n.startsWith('$') || n.startsWith('.') || /\.[cS]$/.test(n))).toEqual([]);
  });

  it.each([
    ['bad magic', broken((b) => (b[0] = 0)), /bad magic/],
    ['64-bit class', broken((b) => (b[4] = 2)), /32-bit/],
    ['big-endian', broken((b) => (b[5] = 2)), /little-endian/],
    ['x86 machine', broken((_b, v) => v.setUint16(18, 3, true)), /not a RISC-V/],
    ['relocatable object', broken((_b, v) => v.setUint16(16, 1, true)), /not an executable/],
    [
      'program headers past the end',
      broken((_b, v) => v.setUint32(28, 0xfffff0, true)),
      /truncated ELF program headers/,
    ],
    ['segment past the end of file', broken((b, v) => v.setUint32(firstLoad(v) + 4, b.length - 16, true)), /truncated/],
    ['header only', hello.slice(0, 40), /truncated ELF header/],
  ])('rejects %s', (_name, bytes, message) => {
    expect(error(bytes)).toMatch(message);
  });

  it('rejects segments outside RAM', () => {
    expect(error(hello, 1024)).toMatch(/outside RAM/);
  });
});

describe('rawImage', () => {
  it('places the image at the start of RAM and enters there', () => {
    const p = rawImage(new Uint8Array([0x13, 0, 0, 0]), BASE, RAM);
    expect(p.entry).toBe(BASE);
    expect(p.segments[0]!.addr).toBe(BASE);
  });

  it('rejects empty and oversized images', () => {
    expect(() => rawImage(new Uint8Array(0), BASE, RAM)).toThrow(/empty/);
    expect(() => rawImage(new Uint8Array(8192), BASE, 4096)).toThrow(/does not fit/);
  });
});
