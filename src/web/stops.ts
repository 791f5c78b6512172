/**
 * Why the machine stopped, in words: shared by the worker (the labels of the
 * stop marks on the timeline) and the page (the status line). Pure.
 */
import type { StopDetail } from './protocol.js';

const hex = (n: number): string => '0x' + (n >>> 0).toString(16).padStart(8, '0');

/** RISC-V exception causes (mcause with the interrupt bit clear). */
const EXCEPTIONS: Record<number, string> = {
  0: 'instruction address misaligned',
  1: 'instruction access fault',
  2: 'illegal instruction',
  3: 'breakpoint',
  4: 'load address misaligned',
  5: 'load access fault',
  6: 'store address misaligned',
  7: 'store access fault',
  8: 'environment call from U-mode',
  9: 'environment call from S-mode',
  11: 'environment call from M-mode',
  12: 'instruction page fault',
  13: 'load page fault',
  15: 'store page fault',
};

/** The name of an exception cause (mcause). */
export function trapName(cause: number): string {
  return EXCEPTIONS[cause >>> 0] ?? `exception ${cause >>> 0}`;
}

/** Bytes as a little-endian number (up to 4 bytes), else as hex bytes. */
export function valueText(bytes: readonly number[]): string {
  if (bytes.length === 0) return '—';
  if (bytes.length <= 4) {
    let v = 0;
    for (let i = bytes.length - 1; i >= 0; i--) v = v * 256 + (bytes[i]! & 0xff);
    return v < 10 ? String(v) : `${v} (0x${v.toString(16)})`;
  }
  return bytes.map((b) => (b & 0xff).toString(16).padStart(2, '0')).join(' ');
}

const at = (address: number, symbol?: string) => (symbol ? `${hex(address)} (${symbol})` : hex(address));

/** One line: "breakpoint at 0x80000123 (main+0x4)", "powered off: fail, exit code 3 …". */
export function describeStop(d: StopDetail): string {
  switch (d.kind) {
    case 'breakpoint':
      return `breakpoint at ${at(d.pc, d.symbol)}`;
    case 'watchpoint': {
      const change = d.old ? `${valueText(d.old)} → ${valueText(d.value)}` : `now ${valueText(d.value)}`;
      return `watchpoint ${at(d.address, d.symbol)}: ${change}`;
    }
    case 'power': {
      const head = d.power === 'pass' ? 'powered off: pass (exit code 0)' : `powered off: fail, exit code ${d.code}`;
      if (!d.trap) return head;
      return `${head}, after a trap: ${trapName(d.trap.cause)} at pc ${at(d.trap.epc, d.trap.symbol)}, mtval ${hex(d.trap.tval)}`;
    }
    case 'waiting':
      return 'waiting for input';
  }
}

/** A short label for a mark on the timeline. */
export function markLabel(d: StopDetail): string {
  switch (d.kind) {
    case 'breakpoint':
      return `breakpoint ${d.symbol ?? hex(d.pc)}`;
    case 'watchpoint':
      return `watchpoint ${d.symbol ?? hex(d.address)}`;
    case 'power':
      return d.power === 'pass' ? 'power-off (pass)' : `power-off (fail ${d.code})`;
    case 'waiting':
      return 'waiting for input';
  }
}
