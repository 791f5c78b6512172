/**
 * Typing at the console before Linux's 8250 driver is up must lose nothing.
 * This replays the register accesses Linux 6.1's 8250 driver makes on
 * Rewind's UART (recorded from a boot: console set-up, console writes,
 * serial8250_do_startup, then set_termios when /dev/console is opened),
 * delivering a typed byte whenever the UART says it is ready, as the machine
 * does. Every byte the driver reads and throws away during start-up, or that
 * a FIFO flush drops, would be a typed character lost.
 */
import { describe, expect, it } from 'vitest';
import { Uart16550 } from '../../core/devices/uart16550.js';

const RBR = 0,
  IER = 1,
  IIR = 2,
  LCR = 3,
  MCR = 4,
  LSR = 5,
  MSR = 6;
type Access = ['r', number] | ['w', number, number];

const consoleWrite = (text: string): Access[] => [
  ['r', IER],
  ['w', IER, 0],
  ...[...text].flatMap((c): Access[] => [
    ['r', LSR],
    ['w', RBR, c.charCodeAt(0)],
  ]),
  ['r', LSR],
  ['w', IER, 0],
];

/** serial8250 as a console (univ8250_console_setup → set_termios), a console line, then the port's startup and set_termios. */
const LINUX_8250: Access[] = [
  ['w', MCR, 0],
  ['w', IER, 0],
  ['w', LCR, 0x93],
  ['w', RBR, 0x18],
  ['w', IER, 0],
  ['w', LCR, 0x13],
  ['w', IIR, 0x01],
  ['w', IIR, 0x81],
  ['w', MCR, 1],
  ...consoleWrite('[    3.86] printk: console [ttyS0] enabled\r\n'),
  // serial8250_do_startup: clear the FIFOs, clear the interrupt registers.
  ['w', IIR, 0x01],
  ['w', IIR, 0x07],
  ['w', IIR, 0x00],
  ['r', LSR],
  ['r', RBR],
  ['r', IIR],
  ['r', MSR],
  // "no UART here?" check, then the THRE test: wait_for_xmitr reads LSR again.
  ['r', LSR],
  ['r', LSR],
  ['w', IER, 2],
  ['r', LCR],
  ['r', IIR],
  ['w', IER, 0],
  ['w', IER, 2],
  ['r', LCR],
  ['r', IIR],
  ['w', IER, 0],
  ['r', IIR],
  ['w', LCR, 0x03],
  ['w', MCR, 0x09],
  ['w', IER, 2],
  ['r', LSR],
  ['r', IIR],
  ['w', IER, 0],
  ['r', IIR],
  // Clear the interrupt registers again "for luck": this RBR read discards whatever is there.
  ['r', LSR],
  ['r', RBR],
  ['r', IIR],
  ['r', MSR],
  ['w', IER, 0x05],
  // set_termios: divisor, line control, FIFOs on (which flushes them on a real 16550).
  ['w', LCR, 0x93],
  ['w', RBR, 0x18],
  ['w', IER, 0],
  ['w', LCR, 0x13],
  ['w', IIR, 0x01],
  ['w', IIR, 0x81],
  ['r', IER],
  ['w', IER, 0x05],
];

function replay(typed: string): { received: string; pending: number } {
  const uart = new Uart16550(
    () => {},
    () => {},
  );
  const queue = [...typed].map((c) => c.charCodeAt(0));
  const deliver = (): void => {
    if (queue.length > 0 && uart.readyForInput()) uart.receive(queue.shift()!);
  };
  deliver();
  for (const a of LINUX_8250) {
    if (a[0] === 'r') uart.read(a[1], 1);
    else uart.write(a[1], a[2], 1);
    deliver();
  }
  // The driver is up: its interrupt handler reads every byte, and the machine delivers the rest.
  let received = '';
  for (let i = 0; i < 4 * typed.length + 8; i++) {
    while (uart.read(LSR, 1) & 1) received += String.fromCharCode(uart.read(RBR, 1));
    deliver();
  }
  return { received, pending: queue.length };
}

describe('typing before Linux starts its 8250 driver', () => {
  it('loses no byte', () => {
    expect(replay('echo typed-early\n')).toEqual({ received: 'echo typed-early\n', pending: 0 });
  });

  it('a bare-metal program that polls LSR still gets its input', () => {
    const uart = new Uart16550(
      () => {},
      () => {},
    );
    const queue = [0x61, 0x62];
    let got = '';
    for (let i = 0; i < 20 && got.length < 2; i++) {
      if (queue.length > 0 && uart.readyForInput()) uart.receive(queue.shift()!);
      if (uart.read(LSR, 1) & 1) got += String.fromCharCode(uart.read(RBR, 1));
    }
    expect(got).toBe('ab');
  });
});
