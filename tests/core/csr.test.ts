/** core/csr.ts: peekCsr reads a CSR as M-mode would, for debuggers, without touching the hart. */
import { describe, expect, it } from 'vitest';
import { CSR, CSR_NAMES, MSTATUS, Priv, peekAllCsrs, peekCsr, readCsr } from '../../core/csr.js';
import { rawImage } from '../../core/loader.js';
import { Machine } from '../../core/machine.js';

const RAM = 0x80000000;

function machine(): Machine {
  // addi x1, x0, 1; then wfi.
  const code = Uint8Array.from([0x93, 0x00, 0x10, 0x00, 0x73, 0x00, 0x50, 0x10]);
  const m = new Machine({ program: rawImage(code, RAM, 4 << 20), ramSize: 4 << 20, executor: 'interp' });
  m.run(1);
  m.cpu.mscratch = 0x1234;
  m.cpu.satp = 0x80000123;
  return m;
}

describe('peekCsr', () => {
  it('reads in U-mode what only M-mode may read, and leaves the hart as it was', () => {
    const m = machine();
    const cpu = m.cpu;
    cpu.priv = Priv.U;
    cpu.mcounteren = 0;
    const before = JSON.stringify(m.saveState());
    // Illegal from U: an M-mode CSR, an S-mode CSR, and a counter that mcounteren does not enable.
    expect(readCsr(cpu, CSR.mscratch)).toBeUndefined();
    expect(readCsr(cpu, CSR.satp)).toBeUndefined();
    expect(readCsr(cpu, CSR.cycle)).toBeUndefined();
    expect(peekCsr(cpu, CSR.mscratch)).toBe(0x1234);
    expect(peekCsr(cpu, CSR.satp)).toBe(0x80000123);
    expect(peekCsr(cpu, CSR.cycle)).toBe(cpu.cycles());
    expect(peekCsr(cpu, CSR.minstret)).toBe(1);
    expect(cpu.priv).toBe(Priv.U);
    expect(JSON.stringify(m.saveState())).toBe(before);
  });

  it('reads satp from S-mode under TVM, where the instruction would trap', () => {
    const cpu = machine().cpu;
    cpu.priv = Priv.S;
    cpu.mstatus |= MSTATUS.TVM;
    expect(readCsr(cpu, CSR.satp)).toBeUndefined();
    expect(peekCsr(cpu, CSR.satp)).toBe(0x80000123);
    expect(cpu.priv).toBe(Priv.S);
  });

  it('answers undefined only for CSRs that do not exist', () => {
    const cpu = machine().cpu;
    cpu.priv = Priv.U;
    expect(peekCsr(cpu, 0x7c0)).toBeUndefined();
    for (const num of CSR_NAMES.keys()) expect(peekCsr(cpu, num)).not.toBeUndefined();
  });

  it('peekAllCsrs gives every CSR by name, as M-mode reads them', () => {
    const m = machine();
    const cpu = m.cpu;
    const asM = peekAllCsrs(cpu);
    cpu.priv = Priv.U;
    cpu.mcounteren = 0;
    const all = peekAllCsrs(cpu);
    expect(Object.keys(all)).toEqual([...CSR_NAMES.values()]);
    expect(all.mscratch).toBe(0x1234);
    expect(all.satp).toBe(0x80000123);
    expect({ ...all, mcounteren: asM.mcounteren }).toEqual(asM);
    expect(cpu.priv).toBe(Priv.U);
  });
});
