/** core/debug.ts: the debugger's Sv32 walk reads page tables without changing them or trapping. */
import { describe, expect, it } from 'vitest';
import { Priv, MSTATUS } from '../../core/csr.js';
import { debugReadVirtual, debugTranslate } from '../../core/debug.js';
import { rawImage } from '../../core/loader.js';
import { Machine } from '../../core/machine.js';
import { readMemory, translate } from '../../src/web/peek.js';

const RAM = 0x80000000;
const ROOT = RAM + 0x10000; // level-1 table
const LEAF = RAM + 0x11000; // level-0 table
const V = 1,
  R = 2,
  W = 4,
  X = 8,
  U = 16,
  A = 64,
  D = 128;

function machine(): Machine {
  const m = new Machine({ program: rawImage(Uint8Array.from([0x73, 0, 0x50, 0x10]), RAM, 4 << 20), ramSize: 4 << 20 });
  const put = (pa: number, v: number) => {
    m.ram.write(pa - RAM, Uint8Array.from([v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24]));
  };
  // VA 0x40000000.. -> level-0 table; 0x40001000 -> RAM+0x20000 (RW, S), 0x40002000 -> RAM+0x21000 (U, R), 0x40003000 -> X only.
  put(ROOT + (0x40000000 >>> 22) * 4, ((LEAF >>> 12) << 10) | V);
  put(LEAF + 1 * 4, (((RAM + 0x20000) >>> 12) << 10) | V | R | W);
  put(LEAF + 2 * 4, (((RAM + 0x21000) >>> 12) << 10) | V | R | U);
  put(LEAF + 3 * 4, (((RAM + 0x22000) >>> 12) << 10) | V | X);
  // A 4 MiB superpage at VA 0xc0000000 -> RAM (RWX, with A and D already set).
  put(ROOT + (0xc0000000 >>> 22) * 4, ((RAM >>> 12) << 10) | V | R | W | X | A | D);
  // A misaligned superpage at VA 0xc0400000.
  put(ROOT + (0xc0400000 >>> 22) * 4, (((RAM + 0x1000) >>> 12) << 10) | V | R);
  m.ram.write(0x20000 + 0x10, new TextEncoder().encode('hello'));
  m.cpu.satp = (1 << 31) | (ROOT >>> 12);
  m.cpu.priv = Priv.S;
  return m;
}

const ptes = (m: Machine) => Array.from({ length: 1024 }, (_, i) => m.cpu.readPhysical(LEAF + 4 * i, 4));

describe('debugTranslate', () => {
  it('walks Sv32 like a data access, without setting A/D bits', () => {
    const m = machine();
    const before = ptes(m);
    expect(debugTranslate(m.cpu, 0x40001010)).toBe(RAM + 0x20010);
    expect(debugTranslate(m.cpu, 0x40001010, 'write')).toBe(RAM + 0x20010);
    expect(debugTranslate(m.cpu, 0xc0001234)).toBe(RAM + 0x1234);
    expect(new TextDecoder().decode(debugReadVirtual(m.cpu, 0x40001010, 5))).toBe('hello');
    expect(ptes(m)).toEqual(before);
  });

  it('answers -1 where the hart would fault, and never traps', () => {
    const m = machine();
    const cause = m.cpu.mcause;
    expect(debugTranslate(m.cpu, 0x50000000)).toBe(-1); // no mapping
    expect(debugTranslate(m.cpu, 0x40002000)).toBe(-1); // U page from S without SUM
    expect(debugTranslate(m.cpu, 0x40003000, 'write')).toBe(-1); // execute-only
    expect(debugTranslate(m.cpu, 0xc0400000)).toBe(-1); // misaligned superpage
    expect(debugTranslate(m.cpu, 0x40001000, 'exec')).toBe(-1); // not executable
    expect(m.cpu.mcause).toBe(cause);
    expect(debugReadVirtual(m.cpu, 0x40001ffe, 4).length).toBe(2); // stops at the unmapped page
  });

  it('honours SUM, MXR, U-mode and MPRV', () => {
    const m = machine();
    m.cpu.mstatus |= MSTATUS.SUM;
    expect(debugTranslate(m.cpu, 0x40002000)).toBe(RAM + 0x21000);
    m.cpu.priv = Priv.U;
    expect(debugTranslate(m.cpu, 0x40002000)).toBe(RAM + 0x21000);
    expect(debugTranslate(m.cpu, 0x40001000)).toBe(-1); // S page from U
    m.cpu.priv = Priv.S;
    m.cpu.mstatus |= MSTATUS.MXR;
    expect(debugTranslate(m.cpu, 0x40003000)).toBe(RAM + 0x22000);
    // M-mode is bare, unless MPRV with MPP=S makes its data accesses translate.
    m.cpu.priv = Priv.M;
    expect(debugTranslate(m.cpu, 0x40001000)).toBe(0x40001000);
    m.cpu.mstatus = (m.cpu.mstatus & ~MSTATUS.MPP) | MSTATUS.MPRV | (Priv.S << 11);
    expect(debugTranslate(m.cpu, 0x40001000)).toBe(RAM + 0x20000);
    expect(debugTranslate(m.cpu, 0x40001000, 'exec')).toBe(0x40001000); // fetches ignore MPRV
    m.cpu.satp = 0;
    expect(debugTranslate(m.cpu, 0x40001000)).toBe(0x40001000);
  });
});

describe('one walk for every debugger', () => {
  // The web inspector (src/web/peek.ts) and the gdb stub (core/debug.ts) translate the same address the same way.
  const addresses = [0x40001010, 0x40001ffe, 0x40002000, 0x40003000, 0x40000000, 0xc0001234, 0xc0400000, 0x50000000];
  const modes: [string, number, number][] = [
    ['S', Priv.S, 0],
    ['S, SUM', Priv.S, MSTATUS.SUM],
    ['S, MXR', Priv.S, MSTATUS.MXR],
    ['U', Priv.U, 0],
    ['M', Priv.M, 0],
    ['M, MPRV to S', Priv.M, MSTATUS.MPRV | (Priv.S << 11)],
    ['M, MPRV to S, SUM and MXR', Priv.M, MSTATUS.MPRV | (Priv.S << 11) | MSTATUS.SUM | MSTATUS.MXR],
    ['M, MPRV to U', Priv.M, MSTATUS.MPRV | (Priv.U << 11)],
  ];

  it('the web inspector and the gdb stub agree on a page table, with SUM, MXR and MPRV', () => {
    const m = machine();
    const seen = new Set<number>();
    for (const [name, priv, mstatus] of modes) {
      m.cpu.priv = priv;
      m.cpu.mstatus = mstatus;
      for (const va of addresses) {
        const pa = debugTranslate(m.cpu, va);
        seen.add(pa);
        expect([name, va.toString(16), translate(m, va) ?? -1]).toEqual([name, va.toString(16), pa]);
        const block = readMemory(m, va, 8, true);
        const gdb = debugReadVirtual(m.cpu, va, 8);
        expect([name, va.toString(16), [...block.bytes.subarray(0, gdb.length)], block.readable.indexOf(0)]).toEqual([
          name,
          va.toString(16),
          [...gdb],
          gdb.length === 8 ? -1 : gdb.length,
        ]);
      }
    }
    // The cases differ: identity (M), the S pages, the U page (SUM, U, MPRV to U), execute-only (MXR), unmapped.
    for (const pa of [0x40001010, RAM + 0x20010, RAM + 0x21000, RAM + 0x22000, RAM + 0x1234, -1])
      expect(seen).toContain(pa);
  });
});
