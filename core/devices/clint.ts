import { IRQ } from '../csr.js';
import type { AccessSize, Device, DeviceEntry, DeviceState, IrqLine } from '../device.js';
import type { FdtBuilder } from '../fdt.js';
import type { Phandles } from '../devicetree.js';
import { StateReader } from './state.js';

/**
 * The machine's virtual time (`mtime`), owned by the machine and derived from
 * retired instructions, never from the host clock. Values are exact up to 2^53.
 */
export interface VirtualClock {
  now(): number;
  set(value: number): void;
}

/** Register offsets (the firmware and the warm-up write them too). */
export const MSIP = 0x0;
export const MTIMECMP_LO = 0x4000;
export const MTIMECMP_HI = 0x4004;
const MTIME_LO = 0xbff8;
const MTIME_HI = 0xbffc;
const TWO_32 = 0x1_0000_0000;
const STATE_VERSION = 1;

/**
 * The SiFive CLINT as QEMU virt lays it out (one hart): msip at 0x0,
 * mtimecmp at 0x4000, mtime at 0xBFF8. The 64-bit registers are accessed as
 * two 32-bit halves (rv32 has no 8-byte loads); other widths and offsets
 * read 0 and ignore writes.
 *
 * `mtime` lives in the {@link VirtualClock}; this device keeps msip and
 * mtimecmp. The CPU asks {@link Clint.timerPending} for MTIP.
 */
export class Clint implements Device {
  readonly name = 'clint';

  private msip = 0;
  /**
   * mtimecmp halves. Reset value 0, as QEMU's ACLINT mtimer (it allocates
   * timecmp zeroed; the ACLINT spec leaves it unknown). With mtime also 0 the
   * timer is pending from reset until software writes mtimecmp, as on QEMU 8+;
   * QEMU 7.2 only evaluated MTIP on writes, so there it reads clear.
   */
  private mtimecmpLo = 0;
  private mtimecmpHi = 0;

  constructor(
    private readonly clock: VirtualClock,
    private readonly setMsip: IrqLine,
  ) {}

  /** mtimecmp as a number; 0xFFFFFFFF_FFFFFFFF rounds to 2^64, which still compares above any mtime. */
  mtimecmp(): number {
    return this.mtimecmpHi * TWO_32 + this.mtimecmpLo;
  }

  /** MTIP: mtime >= mtimecmp (privileged spec 3.2.1). */
  timerPending(): boolean {
    return this.clock.now() >= this.mtimecmp();
  }

  read(offset: number, size: AccessSize): number {
    if (size !== 4) return 0;
    switch (offset) {
      case MSIP:
        return this.msip;
      case MTIMECMP_LO:
        return this.mtimecmpLo;
      case MTIMECMP_HI:
        return this.mtimecmpHi;
      case MTIME_LO:
        return this.clock.now() % TWO_32;
      case MTIME_HI:
        return Math.floor(this.clock.now() / TWO_32);
      default:
        return 0;
    }
  }

  write(offset: number, value: number, size: AccessSize): void {
    if (size !== 4) return;
    const v = value >>> 0;
    const now = this.clock.now();
    switch (offset) {
      case MSIP:
        this.msip = v & 1;
        this.setMsip(this.msip !== 0);
        break;
      case MTIMECMP_LO:
        this.mtimecmpLo = v;
        break;
      case MTIMECMP_HI:
        this.mtimecmpHi = v;
        break;
      case MTIME_LO:
        this.clock.set(Math.floor(now / TWO_32) * TWO_32 + v);
        break;
      case MTIME_HI:
        // Exact while the high half stays below 2^21 (mtime below 2^53).
        this.clock.set(v * TWO_32 + (now % TWO_32));
        break;
    }
  }

  /** mtime is not here: it belongs to the machine's clock, which saves it. */
  saveState(): DeviceState {
    return { version: STATE_VERSION, msip: this.msip, mtimecmpLo: this.mtimecmpLo, mtimecmpHi: this.mtimecmpHi };
  }

  /** Restores registers; the MSIP line is not driven (the CPU restores mip itself). */
  loadState(state: DeviceState): void {
    const r = new StateReader(this.name, state, STATE_VERSION);
    this.msip = r.number('msip') & 1;
    this.mtimecmpLo = r.number('mtimecmpLo') >>> 0;
    this.mtimecmpHi = r.number('mtimecmpHi') >>> 0;
  }

  /** The device-tree node: interrupts 3 (machine software) and 7 (machine timer) of the hart. */
  static fdtNode(b: FdtBuilder, base: number, size: number, phandles: Phandles): void {
    b.beginNode(`clint@${base.toString(16)}`);
    b.prop('interrupts-extended', [phandles.cpuIntc, 3, phandles.cpuIntc, 7]);
    b.prop('reg', [0, base, 0, size]);
    b.prop('compatible', ['sifive,clint0', 'riscv,clint0']);
    b.endNode();
  }
}

/** The CLINT at QEMU virt's address: msip drives the hart's MSIP (the machine polls MTIP). */
export const CLINT_DEVICE: DeviceEntry<Clint> = {
  name: 'clint',
  base: 0x0200_0000,
  size: 0x1_0000,
  create: (host) => new Clint(host.clock, (level) => host.hartLine(IRQ.MSI, level)),
  fdtNode: (b, self, tree) => Clint.fdtNode(b, self.base, self.size, tree.phandles),
};
