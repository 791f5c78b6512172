import { PagedMemory } from '../../core/paged.js';
import type { MachineState, Snapshotable } from '../../core/snapshot.js';

/** A stand-in machine: RAM, optional disk, registers and a device with some state. */
export class FakeMachine implements Snapshotable {
  readonly ram: PagedMemory;
  readonly disk: PagedMemory | null;
  position = 0;
  regs = new Int32Array(32);
  pc = 0x8000_0000;
  uart = { version: 1, lsr: 0x60, fifo: [] as number[] };
  mtime = 0;
  invalidations = 0;

  constructor(ramPages = 32, diskPages: number | null = 8) {
    this.ram = new PagedMemory(ramPages * 4096);
    this.disk = diskPages === null ? null : new PagedMemory(diskPages * 4096);
  }

  saveState(): MachineState {
    return {
      version: 1,
      position: this.position,
      cpu: { pc: this.pc, regs: this.regs.slice() },
      devices: { uart0: { version: this.uart.version, lsr: this.uart.lsr, fifo: this.uart.fifo.slice() } },
      machine: { mtime: this.mtime },
    };
  }

  loadState(s: MachineState): void {
    this.position = s.position;
    this.pc = s.cpu['pc'] as number;
    this.regs = (s.cpu['regs'] as Int32Array).slice();
    const u = s.devices['uart0']!;
    this.uart = { version: u.version, lsr: u['lsr'] as number, fifo: (u['fifo'] as number[]).slice() };
    this.mtime = s.machine['mtime'] as number;
  }

  invalidateCaches(): void {
    this.invalidations++;
  }

  /** A deterministic pseudo-random mutation driven by `seed`. */
  mutate(seed: number): void {
    let x = seed >>> 0 || 1;
    const next = () => {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      return x;
    };
    const writes = 1 + (next() % 6);
    for (let i = 0; i < writes; i++) {
      const mem = this.disk && next() % 4 === 0 ? this.disk : this.ram;
      const off = next() % (mem.size - 8);
      const len = 1 + (next() % 8);
      const bytes = new Uint8Array(len).map(() => next() & 255);
      if (next() % 5 === 0) bytes.fill(0);
      mem.write(off, bytes);
    }
    this.regs[next() % 32] = next() | 0;
    this.pc = (this.pc + 4) | 0;
    if (next() % 3 === 0) this.uart.fifo.push(next() & 255);
    this.position += 1 + (next() % 1000);
    this.mtime = this.position;
  }

  /** A snapshot of everything, for comparisons. */
  snapshot(): { ram: Uint8Array; disk: Uint8Array | null; state: MachineState } {
    return { ram: this.ram.bytes.slice(), disk: this.disk ? this.disk.bytes.slice() : null, state: this.saveState() };
  }
}

/** Byte equality (vitest's toEqual is slow on large typed arrays). */
export function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Asserts two machine snapshots are identical; returns a message or null. */
export function diffSnapshots(
  a: ReturnType<FakeMachine['snapshot']>,
  b: ReturnType<FakeMachine['snapshot']>,
): string | null {
  if (!sameBytes(a.ram, b.ram)) return 'RAM differs';
  if (!sameBytes(a.disk, b.disk)) return 'disk differs';
  return null;
}
