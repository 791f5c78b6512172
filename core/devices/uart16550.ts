import type { AccessSize, Device, DeviceEntry, DeviceState, IrqLine } from '../device.js';
import type { FdtBuilder } from '../fdt.js';
import type { Phandles } from '../devicetree.js';
import { StateReader } from './state.js';

/** Register offsets (reg-shift 0, as on QEMU virt). */
const RBR_THR_DLL = 0;
const IER_DLM = 1;
const IIR_FCR = 2;
const LCR = 3;
const MCR = 4;
const LSR = 5;
const MSR = 6;
const SCR = 7;

const IER_RDA = 0x01;
const IER_THRE = 0x02;
const IER_RLS = 0x04;
const IER_MS = 0x08;

const IIR_NONE = 0x01;
const IIR_MS = 0x00;
const IIR_THRE = 0x02;
const IIR_RDA = 0x04;
const IIR_RLS = 0x06;
const IIR_TIMEOUT = 0x0c;
const IIR_FIFO_ENABLED = 0xc0;

const FCR_ENABLE = 0x01;
const FCR_CLEAR_RX = 0x02;
const FCR_TRIGGER_SHIFT = 6;
const RX_TRIGGER = [1, 4, 8, 14];

const LCR_DLAB = 0x80;
const MCR_LOOP = 0x10;

const LSR_DR = 0x01;
const LSR_OE = 0x02;
const LSR_THRE = 0x20;
const LSR_TEMT = 0x40;

/** MSR inputs with nothing attached: CTS, DSR and DCD asserted, as QEMU reports. */
const MSR_IDLE = 0xb0;
const MSR_DELTAS = 0x0f;
const MSR_RI = 0x40;

const FIFO_SIZE = 16;
/** LSR reads in a row that mean a polling loop: a driver starting up or printing never makes this many. */
const POLLING_READS = 64;
const STATE_VERSION = 1;

/**
 * A National Semiconductor 16550A UART (name "uart0").
 *
 * Transmission is instantaneous: a THR write calls `output` at once, so the
 * transmitter FIFO is always empty and LSR always shows THRE and TEMT.
 * The receiver has a real 16-byte FIFO fed by {@link Uart16550.receive}.
 */
export class Uart16550 implements Device {
  readonly name = 'uart0';

  private rxFifo: number[] = [];
  private ier = 0;
  private fcr = 0;
  private lcr = 0;
  private mcr = 0;
  /** Line status error bits (only OE can occur here); cleared by reading LSR. */
  private lsrErrors = 0;
  /** Modem status: input bits 7:4 and delta bits 3:0. */
  private msr = MSR_IDLE;
  private scr = 0;
  private dll = 0;
  private dlm = 0;
  /** The THRE interrupt source (16550 datasheet, table 4: cleared by reading IIR or writing THR). */
  private thrInterrupt = false;
  /** Consecutive LSR reads with no other UART access between them, since the last byte was delivered. */
  private lsrPolls = 0;
  /** Whether the guest has ever enabled the FIFOs (FCR bit 0) since reset. */
  private fifoUsed = false;

  constructor(
    private readonly irq: IrqLine,
    private readonly output: (byte: number) => void,
  ) {}

  /**
   * Host input: puts a byte into the receive FIFO. When the FIFO is full
   * (one byte with FIFOs disabled) the byte is lost and LSR.OE is set; in
   * non-FIFO mode the new byte overwrites the holding register (16550
   * datasheet, LSR bit 1).
   */
  receive(byte: number): void {
    if (this.rxFifo.length >= this.rxCapacity()) {
      this.lsrErrors |= LSR_OE;
      if (!this.fifoEnabled()) this.rxFifo[0] = byte & 0xff;
    } else {
      this.rxFifo.push(byte & 0xff);
    }
    this.lsrPolls = 0;
    this.updateIrq();
  }

  /**
   * Whether the host may deliver the next input byte now. True when the
   * receive FIFO is empty and either
   * - the receive-data interrupt is enabled (IER bit 0) and the FIFOs are
   *   on, or have never been turned on (an interrupt-driven driver such as
   *   Linux's 8250 once its port is open, or a simple guest without FIFOs), or
   * - the guest has read LSR at least three times in a row, with no other
   *   UART register access between, since the last byte was delivered (a
   *   bare-metal program polling LSR.DR).
   *
   * Why: bytes pushed earlier would be lost or misread. Linux's 8250 driver
   * clears the FIFOs while it starts the port, reads LSR twice in a row
   * during that start-up (the "no UART here" check, then waiting for THRE)
   * and reads RBR right after to discard stale data; it enables the receive
   * interrupt while the FIFOs are off and only then turns them on, which
   * flushes them (16550 datasheet, FCR bit 0). A program that is still
   * printing reads LSR once per character (then writes THR), which never
   * makes three reads in a row. The rule depends on device state only, so
   * the same input file always gives the same run.
   */
  readyForInput(): boolean {
    if (this.rxFifo.length !== 0) return false;
    if (this.ier & IER_RDA && (this.fifoEnabled() || !this.fifoUsed)) return true;
    return this.lsrPolls >= 3;
  }

  /** Bytes received and not yet read by the guest. */
  get unreadInput(): number {
    return this.rxFifo.length;
  }

  /**
   * Whether the guest is spinning on LSR for a byte that has not come: many
   * reads of LSR in a row with nothing received. A host whose input has
   * ended uses it to tell a polling guest that can never go on.
   */
  pollingForInput(): boolean {
    return this.rxFifo.length === 0 && this.lsrPolls >= POLLING_READS;
  }

  read(offset: number, _size: AccessSize): number {
    const reg = offset & 7;
    if (reg !== LSR) this.lsrPolls = 0;
    let value: number;
    switch (reg) {
      case RBR_THR_DLL:
        if (this.lcr & LCR_DLAB) return this.dll;
        value = this.rxFifo.length > 0 ? (this.rxFifo.shift() as number) : 0;
        break;
      case IER_DLM:
        return this.lcr & LCR_DLAB ? this.dlm : this.ier;
      case IIR_FCR:
        value = this.iir();
        // Reading IIR while it reports THRE clears that source (16550 datasheet, table 4).
        if ((value & 0x0f) === IIR_THRE) this.thrInterrupt = false;
        break;
      case LCR:
        return this.lcr;
      case MCR:
        return this.mcr;
      case LSR:
        value = this.lsr();
        this.lsrErrors = 0;
        this.lsrPolls++;
        break;
      case MSR:
        value = this.msr;
        this.msr &= ~MSR_DELTAS;
        break;
      default:
        return this.scr;
    }
    this.updateIrq();
    return value;
  }

  write(offset: number, value: number, _size: AccessSize): void {
    const reg = offset & 7;
    const v = value & 0xff;
    this.lsrPolls = 0;
    switch (reg) {
      case RBR_THR_DLL:
        if (this.lcr & LCR_DLAB) {
          this.dll = v;
          return;
        }
        // Loopback (MCR bit 4) feeds the transmitter straight into the receiver.
        if (this.mcr & MCR_LOOP) this.receive(v);
        else this.output(v);
        // The byte left at once, so THR is empty again: a new THRE interrupt.
        this.thrInterrupt = true;
        break;
      case IER_DLM:
        if (this.lcr & LCR_DLAB) {
          this.dlm = v;
          return;
        }
        // Enabling ETBEI while THR (always) is empty raises THRE. Like QEMU
        // (hw/char/serial.c), any IER change that leaves ETBEI set re-arms it,
        // not only the rising edge: drivers toggle IER to re-trigger THRE.
        if (v & IER_THRE && (v & 0x0f) !== this.ier) this.thrInterrupt = true;
        this.ier = v & 0x0f;
        break;
      case IIR_FCR:
        this.writeFcr(v);
        break;
      case LCR:
        this.lcr = v;
        return;
      case MCR:
        this.writeMcr(v & 0x1f);
        break;
      case SCR:
        this.scr = v;
        return;
      default:
        // LSR and MSR are read-only.
        return;
    }
    this.updateIrq();
  }

  saveState(): DeviceState {
    return {
      version: STATE_VERSION,
      rxFifo: [...this.rxFifo],
      ier: this.ier,
      fcr: this.fcr,
      lcr: this.lcr,
      mcr: this.mcr,
      lsrErrors: this.lsrErrors,
      msr: this.msr,
      scr: this.scr,
      dll: this.dll,
      dlm: this.dlm,
      thrInterrupt: this.thrInterrupt,
      lsrPolls: this.lsrPolls,
      fifoUsed: this.fifoUsed,
    };
  }

  /** Restores registers; the interrupt line is not driven (the PLIC restores its own view of it). */
  loadState(state: DeviceState): void {
    const r = new StateReader(this.name, state, STATE_VERSION);
    this.rxFifo = r.numbers('rxFifo', undefined, FIFO_SIZE).map((b) => b & 0xff);
    this.ier = r.number('ier');
    this.fcr = r.number('fcr');
    this.lcr = r.number('lcr');
    this.mcr = r.number('mcr');
    this.lsrErrors = r.number('lsrErrors');
    this.msr = r.number('msr');
    this.scr = r.number('scr');
    this.dll = r.number('dll');
    this.dlm = r.number('dlm');
    this.thrInterrupt = r.boolean('thrInterrupt');
    this.lsrPolls = r.number('lsrPolls');
    // Absent from states saved before it existed: a guest that had its FIFOs on then shows it in fcr.
    this.fifoUsed = state.fifoUsed === undefined ? (this.fcr & FCR_ENABLE) !== 0 : r.boolean('fifoUsed');
  }

  /** The device-tree node, as QEMU virt describes its UART. */
  static fdtNode(b: FdtBuilder, base: number, irq: number, phandles: Phandles): void {
    b.beginNode(`serial@${base.toString(16)}`);
    b.prop('interrupts', irq);
    b.prop('interrupt-parent', phandles.plic);
    b.prop('clock-frequency', 0x384000);
    b.prop('reg', [0, base, 0, 0x100]);
    b.prop('compatible', 'ns16550a');
    b.endNode();
  }

  private fifoEnabled(): boolean {
    return (this.fcr & FCR_ENABLE) !== 0;
  }

  private rxCapacity(): number {
    return this.fifoEnabled() ? FIFO_SIZE : 1;
  }

  private lsr(): number {
    return (this.rxFifo.length > 0 ? LSR_DR : 0) | this.lsrErrors | LSR_THRE | LSR_TEMT;
  }

  /**
   * The highest-priority pending source (16550 datasheet, table 4): line
   * status > received data (or character timeout) > THRE > modem status.
   * The character timeout (four character times without activity) has no
   * time base here, so it is reported at once when the FIFO holds fewer
   * bytes than the trigger level: deterministic, and the driver still sees
   * every byte.
   */
  private iir(): number {
    const fifoBits = this.fifoEnabled() ? IIR_FIFO_ENABLED : 0;
    if (this.ier & IER_RLS && this.lsrErrors !== 0) return fifoBits | IIR_RLS;
    if (this.ier & IER_RDA && this.rxFifo.length > 0) {
      const trigger = this.fifoEnabled() ? RX_TRIGGER[this.fcr >> FCR_TRIGGER_SHIFT] : 1;
      return fifoBits | (this.rxFifo.length >= trigger ? IIR_RDA : IIR_TIMEOUT);
    }
    if (this.ier & IER_THRE && this.thrInterrupt) return fifoBits | IIR_THRE;
    if (this.ier & IER_MS && (this.msr & MSR_DELTAS) !== 0) return fifoBits | IIR_MS;
    return fifoBits | IIR_NONE;
  }

  private writeFcr(v: number): void {
    // Toggling FIFO enable clears both FIFOs; other bits take effect only with
    // FCR0 set (16550 datasheet, FCR bit 0). The TX FIFO is always empty here.
    if ((v ^ this.fcr) & FCR_ENABLE) this.rxFifo = [];
    if (v & FCR_ENABLE) this.fifoUsed = true;
    if (!(v & FCR_ENABLE)) {
      this.fcr = 0;
      return;
    }
    if (v & FCR_CLEAR_RX) this.rxFifo = [];
    this.fcr = v & 0xc9;
  }

  private writeMcr(v: number): void {
    this.mcr = v;
    const inputs = v & MCR_LOOP ? loopbackInputs(v) : MSR_IDLE;
    const changed = (inputs ^ this.msr) & 0xf0;
    // Delta bits: DCTS, DDSR, DDCD on any change; TERI only when RI falls.
    let deltas = (changed >> 4) & 0x0b;
    if (this.msr & MSR_RI && !(inputs & MSR_RI)) deltas |= 0x04;
    this.msr = inputs | (this.msr & MSR_DELTAS) | deltas;
  }

  private updateIrq(): void {
    this.irq((this.iir() & IIR_NONE) === 0);
  }
}

/** In loopback, MCR outputs drive the modem inputs: DTR→DSR, RTS→CTS, OUT1→RI, OUT2→DCD. */
function loopbackInputs(mcr: number): number {
  return ((mcr & 0x01) << 5) | ((mcr & 0x02) << 3) | ((mcr & 0x04) << 4) | ((mcr & 0x08) << 4);
}

/** The console UART at QEMU virt's address and PLIC source; /chosen names it as stdout. */
export const UART0_DEVICE: DeviceEntry<Uart16550> = {
  name: 'uart0',
  base: 0x1000_0000,
  size: 0x100,
  irq: 10,
  create: (host, self) => new Uart16550(host.irq(self.irq!), (byte) => host.output(byte)),
  fdtNode: (b, self, tree) => Uart16550.fdtNode(b, self.base, self.irq!, tree.phandles),
};
