// The debugger's side-effect-free look into guest memory: Sv32 translation
// of the current satp (4 KiB pages and 4 MiB megapages) and disassembly.
import { expect, test } from 'vitest';
import { buildMachine, programSpec } from '../../session/spec.js';
import { disassembleAround, instructionAt, readMemory, translate } from '../../src/web/peek.js';
import { guest } from './support.js';

const machine = () => buildMachine(programSpec(guest('hello'), { ramSize: 64 << 20 }));

function poke32(m: ReturnType<typeof machine>, pa: number, v: number) {
  new DataView(m.ram.bytes.buffer, m.ram.bytes.byteOffset).setUint32(pa - 0x80000000, v >>> 0, true);
}

test('M-mode and bare satp see physical addresses', () => {
  const m = machine();
  expect(translate(m, 0x80000000)).toBe(0x80000000);
  m.cpu.priv = 1;
  expect(translate(m, 0x80001234)).toBe(0x80001234);
});

test('Sv32: 4 KiB pages, megapages and unmapped addresses', () => {
  const m = machine();
  const root = 0x80100000;
  const leafTable = 0x80101000;
  poke32(m, root + 0x100 * 4, ((leafTable >>> 12) << 10) | 1); // VA 0x40000000.. → next level
  poke32(m, leafTable + 1 * 4, ((0x80002000 >>> 12) << 10) | 0xf); // VA 0x40001000 → PA 0x80002000
  poke32(m, root + 0x101 * 4, ((0x80000000 >>> 12) << 10) | 0xf); // VA 0x40400000 → megapage at PA 0x80000000
  poke32(m, root + 0x102 * 4, ((0x80001000 >>> 12) << 10) | 0xf); // misaligned megapage: not mapped
  m.cpu.satp = (0x8000_0000 | (root >>> 12)) >>> 0;
  m.cpu.priv = 1;
  expect(translate(m, 0x40001004)).toBe(0x80002004);
  expect(translate(m, 0x40400010)).toBe(0x80000010);
  expect(translate(m, 0x40800000)).toBeNull();
  expect(translate(m, 0x40000000)).toBeNull();
  expect(translate(m, 0x12345678)).toBeNull();
  const hello = readMemory(m, 0x40400000, 4, true);
  expect([...hello.bytes]).toEqual([...m.ram.bytes.subarray(0, 4)]);
  expect([...readMemory(m, 0x40000000, 2, true).readable]).toEqual([0, 0]);
});

test('disassembly lands on the requested address whatever the instruction lengths', () => {
  const m = machine();
  let a = 0x80000000;
  const addrs: number[] = [];
  for (let i = 0; i < 30; i++) {
    const line = instructionAt(m, a)!;
    addrs.push(a);
    a += line.length;
  }
  const target = addrs[20]!;
  const lines = disassembleAround(m, target, 6, 3);
  expect(lines.map((l) => l.address)).toEqual(addrs.slice(14, 23));
});
