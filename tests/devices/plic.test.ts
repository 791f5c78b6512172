import { describe, expect, it } from 'vitest';
import { Plic } from '../../core/devices/plic.js';
import { expectStateRoundTrip } from './roundtrip.js';

const M = 0;
const S = 1;
const enableAddr = (ctx: number, word = 0) => 0x2000 + 0x80 * ctx + 4 * word;
const thresholdAddr = (ctx: number) => 0x200000 + 0x1000 * ctx;
const claimAddr = (ctx: number) => 0x200004 + 0x1000 * ctx;

function make() {
  const changes: [number, boolean][] = [];
  const plic = new Plic((ctx, level) => changes.push([ctx, level]));
  const out = (ctx: number) => {
    const last = changes.filter(([c]) => c === ctx).pop();
    return last?.[1] ?? false;
  };
  const w = (off: number, v: number) => plic.write(off, v, 4);
  const r = (off: number) => plic.read(off, 4);
  return { plic, changes, out, w, r };
}

describe('Plic', () => {
  it('never interrupts for a priority-0 source', () => {
    const { plic, out, w, r } = make();
    w(enableAddr(S), 1 << 10);
    plic.setIrq(10, true);
    expect(out(S)).toBe(false);
    expect((r(0x1000) >>> 10) & 1).toBe(1);
    expect(r(claimAddr(S))).toBe(0);
  });

  it('interrupts only the enabling context, when priority > threshold', () => {
    const { plic, out, w } = make();
    w(4 * 10, 3);
    w(enableAddr(S), 1 << 10);
    w(thresholdAddr(S), 3);
    plic.setIrq(10, true);
    expect(out(S)).toBe(false);
    w(thresholdAddr(S), 2);
    expect(out(S)).toBe(true);
    expect(out(M)).toBe(false);
  });

  it('keeps a claimed source from pending until completion, then re-pends a high line', () => {
    const { plic, out, w, r } = make();
    w(4 * 1, 1);
    w(enableAddr(M), 1 << 1);
    plic.setIrq(1, true);
    expect(out(M)).toBe(true);
    expect(r(claimAddr(M))).toBe(1);
    expect(out(M)).toBe(false);
    expect(r(0x1000) & 2).toBe(0);
    plic.setIrq(1, false);
    plic.setIrq(1, true);
    expect(out(M)).toBe(false);
    expect(r(0x1000) & 2).toBe(0);
    expect(r(claimAddr(M))).toBe(0);
    w(claimAddr(M), 1);
    expect(out(M)).toBe(true);
    expect(r(claimAddr(M))).toBe(1);
    plic.setIrq(1, false);
    w(claimAddr(M), 1);
    expect(out(M)).toBe(false);
  });

  it('keeps a request whose line drops before the claim (as QEMU 7.2)', () => {
    const { plic, out, w, r } = make();
    w(4 * 5, 1);
    w(enableAddr(M), 1 << 5);
    plic.setIrq(5, true);
    plic.setIrq(5, false);
    expect(out(M)).toBe(true);
    expect(r(claimAddr(M))).toBe(5);
    w(claimAddr(M), 5);
    expect(out(M)).toBe(false);
  });

  it('claims the highest priority, lowest id on ties, ignoring the threshold', () => {
    const { plic, w, r } = make();
    w(4 * 3, 2);
    w(4 * 7, 5);
    w(4 * 40, 5);
    w(enableAddr(M), (1 << 3) | (1 << 7));
    w(enableAddr(M, 1), 1 << (40 - 32));
    w(thresholdAddr(M), 7);
    for (const s of [3, 7, 40]) plic.setIrq(s, true);
    expect([r(claimAddr(M)), r(claimAddr(M)), r(claimAddr(M)), r(claimAddr(M))]).toEqual([7, 40, 3, 0]);
  });

  it('ignores completion of a source not enabled on that context', () => {
    const { plic, w, r } = make();
    w(4 * 2, 1);
    w(enableAddr(M), 1 << 2);
    plic.setIrq(2, true);
    expect(r(claimAddr(M))).toBe(2);
    w(enableAddr(M), 0);
    w(claimAddr(M), 2);
    w(enableAddr(M), 1 << 2);
    expect(r(claimAddr(M))).toBe(0);
    w(claimAddr(M), 2);
    expect(r(claimAddr(M))).toBe(2);
  });

  it('masks priorities and thresholds to 3 bits, hardwires source 0, keeps pending read-only', () => {
    const { plic, w, r } = make();
    w(4 * 9, 0xff);
    w(0, 5);
    w(enableAddr(S), 0xffffffff);
    w(thresholdAddr(S), 0x1f);
    w(0x1000, 0xffffffff);
    plic.setIrq(0, true);
    plic.setIrq(96, true);
    expect([r(4 * 9), r(0), r(enableAddr(S)) >>> 0, r(thresholdAddr(S)), r(0x1000), r(0x1008)]).toEqual([
      7, 0, 0xfffffffe, 7, 0, 0,
    ]);
  });

  it('reports each output change once', () => {
    const { plic, changes, w } = make();
    w(4 * 10, 1);
    w(enableAddr(M), 1 << 10);
    plic.setIrq(10, true);
    plic.setIrq(10, true);
    expect(changes).toEqual([[M, true]]);
  });

  it('round-trips its state', () => {
    const { plic, w, r } = make();
    for (const s of [1, 10, 33, 95]) w(4 * s, (s % 7) + 1);
    w(enableAddr(M), 1 << 1);
    w(enableAddr(S), 1 << 10);
    w(enableAddr(S, 1), 1 << 1);
    w(thresholdAddr(M), 1);
    w(thresholdAddr(S), 2);
    plic.setIrq(1, true);
    plic.setIrq(10, true);
    plic.setIrq(33, true);
    expect(r(claimAddr(S))).toBe(33);
    expectStateRoundTrip(plic, make().plic, ['name']);
  });
});
