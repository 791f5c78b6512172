import { describe, expect, it } from 'vitest';
import { Uart16550 } from '../../core/devices/uart16550.js';
import { RewindError } from '../../core/errors.js';
import { expectStateRoundTrip } from './roundtrip.js';

const THR = 0;
const IER = 1;
const IIR = 2;
const FCR = 2;
const LCR = 3;
const MCR = 4;
const LSR = 5;
const MSR = 6;
const SCR = 7;

function make() {
  const out: number[] = [];
  const irq: boolean[] = [];
  const uart = new Uart16550(
    (level) => irq.push(level),
    (b) => out.push(b),
  );
  const r = (off: number) => uart.read(off, 1);
  const w = (off: number, v: number) => uart.write(off, v, 1);
  const line = () => irq[irq.length - 1] ?? false;
  return { uart, out, r, w, line };
}

describe('Uart16550', () => {
  it('transmits a THR write at once and always reports THRE and TEMT', () => {
    const { out, r, w } = make();
    w(THR, 0x41);
    w(THR, 0x1ff);
    expect(out).toEqual([0x41, 0xff]);
    expect(r(LSR) & 0x60).toBe(0x60);
  });

  it('switches DLL/DLM in with DLAB and keeps them apart from THR/IER', () => {
    const { out, r, w } = make();
    w(IER, 0x05);
    w(LCR, 0x83);
    w(THR, 0x0c);
    w(IER, 0x01);
    expect(out).toEqual([]);
    expect([r(THR), r(IER), r(LCR)]).toEqual([0x0c, 0x01, 0x83]);
    w(LCR, 0x03);
    expect(r(IER)).toBe(0x05);
  });

  it('pops the receive FIFO on RBR reads and sets DR while data waits', () => {
    const { uart, r, w } = make();
    w(FCR, 0x01);
    uart.receive(1);
    uart.receive(2);
    expect(r(LSR) & 1).toBe(1);
    expect([r(THR), r(THR)]).toEqual([1, 2]);
    expect(r(LSR) & 1).toBe(0);
    expect(r(THR)).toBe(0);
  });

  it('sets OE and drops the 17th byte when the FIFO is full; reading LSR clears OE', () => {
    const { uart, r, w } = make();
    w(FCR, 0x01);
    for (let i = 0; i < 17; i++) uart.receive(i);
    expect(r(LSR) & 0x02).toBe(0x02);
    expect(r(LSR) & 0x02).toBe(0);
    const got = Array.from({ length: 17 }, () => r(THR));
    expect(got).toEqual([...Array.from({ length: 16 }, (_, i) => i), 0]);
  });

  it('overwrites the holding register on overrun with FIFOs disabled', () => {
    const { uart, r } = make();
    uart.receive(1);
    uart.receive(2);
    expect(r(LSR) & 0x03).toBe(0x03);
    expect(r(THR)).toBe(2);
    expect(r(LSR) & 0x01).toBe(0);
  });

  it('clears the RX FIFO on FCR bit 1 and when FIFO enable toggles', () => {
    const { uart, r, w } = make();
    w(FCR, 0x01);
    uart.receive(7);
    w(FCR, 0x03);
    expect(r(LSR) & 1).toBe(0);
    uart.receive(8);
    w(FCR, 0x00);
    expect(r(LSR) & 1).toBe(0);
    expect(r(IIR) & 0xc0).toBe(0);
  });

  it('reports IIR sources by priority: line status > RX data > THRE > modem status', () => {
    const { uart, r, w, line } = make();
    w(FCR, 0x01);
    w(MCR, 0x10); // loopback: modem inputs follow MCR, and change
    w(IER, 0x0f);
    for (let i = 0; i < 17; i++) uart.receive(i);
    expect(r(IIR)).toBe(0xc6);
    expect(line()).toBe(true);
    r(LSR);
    expect(r(IIR)).toBe(0xc4);
    for (let i = 0; i < 16; i++) r(THR);
    expect(r(IIR)).toBe(0xc2);
    // Reading IIR while it shows THRE cleared that source: modem status is next.
    expect(r(IIR)).toBe(0xc0);
    expect(line()).toBe(true);
    expect(r(MSR) & 0x0f).not.toBe(0);
    expect(r(IIR)).toBe(0xc1);
    expect(line()).toBe(false);
  });

  it('signals a character timeout below the trigger level and RX data at it', () => {
    const { uart, r, w } = make();
    w(FCR, 0x81); // FIFO on, trigger 8
    w(IER, 0x01);
    for (let i = 0; i < 7; i++) uart.receive(i);
    expect(r(IIR)).toBe(0xcc);
    uart.receive(7);
    expect(r(IIR)).toBe(0xc4);
  });

  it('raises THRE when IER changes with ETBEI set and on every THR write', () => {
    const { r, w, line } = make();
    w(IER, 0x02);
    expect(line()).toBe(true);
    expect(r(IIR)).toBe(0x02);
    expect(line()).toBe(false);
    expect(r(IIR)).toBe(0x01);
    w(IER, 0x02); // IER unchanged: nothing new
    expect(r(IIR)).toBe(0x01);
    w(IER, 0x03); // any IER change with ETBEI set re-arms THRE, as QEMU
    expect(r(IIR)).toBe(0x02);
    w(THR, 0x20);
    expect(line()).toBe(true);
    w(IER, 0x00);
    expect(line()).toBe(false);
  });

  it('loops THR back into the receiver and maps MCR to MSR in loopback', () => {
    const { out, r, w } = make();
    expect(r(MSR)).toBe(0xb0);
    w(MCR, 0x10 | 0x01 | 0x08); // DTR -> DSR, OUT2 -> DCD
    expect(r(MSR) & 0xf0).toBe(0xa0);
    w(THR, 0x55);
    expect(out).toEqual([]);
    expect(r(THR)).toBe(0x55);
  });

  it('keeps the scratch register', () => {
    const { r, w } = make();
    w(SCR, 0x5a);
    expect(r(SCR)).toBe(0x5a);
  });

  describe('readyForInput', () => {
    it('needs three LSR reads in a row when the receive interrupt is off', () => {
      const { uart, r } = make();
      expect(uart.readyForInput()).toBe(false);
      r(LSR);
      r(LSR);
      expect(uart.readyForInput()).toBe(false);
      r(LSR);
      expect(uart.readyForInput()).toBe(true);
    });

    it('with the receive interrupt on, waits for FIFOs that were once on to be on again', () => {
      const { uart, w } = make();
      w(IER, 0x01);
      expect(uart.readyForInput()).toBe(true); // a guest that never uses the FIFOs
      w(FCR, 0x01);
      w(FCR, 0x00);
      expect(uart.readyForInput()).toBe(false); // Linux's startup: FIFOs off, about to be turned on (and flushed)
      w(FCR, 0x81);
      expect(uart.readyForInput()).toBe(true);
    });

    it('restarts the count on any other register access and after a delivery', () => {
      const { uart, r, w } = make();
      r(LSR);
      r(LSR);
      r(IIR);
      r(LSR);
      r(LSR);
      expect(uart.readyForInput()).toBe(false);
      r(LSR);
      w(SCR, 1);
      r(LSR);
      r(LSR);
      expect(uart.readyForInput()).toBe(false);
      r(LSR);
      uart.receive(0x61);
      expect(uart.readyForInput()).toBe(false);
      expect(r(THR)).toBe(0x61);
      r(LSR);
      r(LSR);
      expect(uart.readyForInput()).toBe(false);
      r(LSR);
      expect(uart.readyForInput()).toBe(true);
    });

    it('is true with the receive interrupt enabled only while the FIFO is empty', () => {
      const { uart, r, w } = make();
      w(FCR, 0x01);
      w(IER, 0x01);
      expect(uart.readyForInput()).toBe(true);
      uart.receive(1);
      r(LSR);
      r(LSR);
      expect(uart.readyForInput()).toBe(false);
      r(THR);
      expect(uart.readyForInput()).toBe(true);
    });

    it('a print loop (LSR, THR, LSR, THR) never becomes ready', () => {
      const { uart, r, w } = make();
      for (let i = 0; i < 10; i++) {
        r(LSR);
        w(THR, 0x2e);
        expect(uart.readyForInput()).toBe(false);
      }
    });
  });

  function driven() {
    const a = make();
    a.w(LCR, 0x80);
    a.w(THR, 0x12);
    a.w(IER, 0x34);
    a.w(LCR, 0x03);
    a.w(FCR, 0x41);
    a.w(SCR, 0x99);
    a.w(IER, 0x0f);
    a.r(IIR); // clears THRE
    a.w(IER, 0x0d);
    a.w(IER, 0x0f); // THRE pending again
    a.w(MCR, 0x1f); // loopback: modem deltas
    a.w(MCR, 0x10);
    return a;
  }

  // OE and the LSR poll count exclude each other (reading LSR clears OE, a
  // delivery resets the count), so two states cover every field.
  it('round-trips its state with an overrun pending', () => {
    const a = driven();
    for (let i = 0; i < 17; i++) a.uart.receive(i);
    expectStateRoundTrip(a.uart, make().uart, ['name', 'lsrPolls']);
  });

  it('round-trips its state while the guest polls LSR', () => {
    const a = driven();
    a.uart.receive(5);
    a.r(LSR);
    a.r(LSR);
    expectStateRoundTrip(a.uart, make().uart, ['name', 'lsrErrors']);
  });

  it('rejects a state of another version', () => {
    const { uart } = make();
    expect(() => uart.loadState({ ...uart.saveState(), version: 99 })).toThrow(RewindError);
  });
});
