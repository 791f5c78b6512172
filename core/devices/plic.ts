import { IRQ } from '../csr.js';
import type { AccessSize, Device, DeviceEntry, DeviceState } from '../device.js';
import type { FdtBuilder } from '../fdt.js';
import type { Phandles } from '../devicetree.js';
import { StateReader } from './state.js';

/** Sources including the reserved source 0: QEMU virt's VIRT_IRQCHIP_NUM_SOURCES (include/hw/riscv/virt.h). */
export const PLIC_SOURCES = 96;
/** VIRT_IRQCHIP_NUM_PRIO_BITS = 3: priorities and thresholds 0..7. */
const PRIORITY_MASK = 7;
/** Context 0 is hart 0 in M-mode, context 1 hart 0 in S-mode. */
export const PLIC_CONTEXTS = 2;

const WORDS = PLIC_SOURCES / 32;
const PENDING_BASE = 0x1000;
const ENABLE_BASE = 0x2000;
const ENABLE_STRIDE = 0x80;
const CONTEXT_BASE = 0x20_0000;
const CONTEXT_STRIDE = 0x1000;
const STATE_VERSION = 1;

/**
 * The RISC-V PLIC as QEMU virt lays it out (name "plic"), with level-triggered
 * gateways. Only aligned 32-bit accesses do anything, as QEMU's sifive_plic
 * accepts only those.
 *
 * Gateway (PLIC spec, "Interrupt Gateways"): a source whose line is high
 * becomes pending unless it is claimed; a claimed source cannot be pending
 * again until its completion, after which it re-pends if its line is still
 * high. A line that drops before the claim leaves the request pending, as
 * QEMU 7.2's PLIC does (found by guests/virtio, which acknowledges the
 * device before claiming).
 */
export class Plic implements Device {
  readonly name = 'plic';

  private priority: number[] = new Array<number>(PLIC_SOURCES).fill(0);
  /** Bit sets over sources, 32 per word. */
  private level = new Uint32Array(WORDS);
  private pending = new Uint32Array(WORDS);
  private claimed = new Uint32Array(WORDS);
  /** enable[ctx * WORDS + word]. */
  private enable = new Uint32Array(PLIC_CONTEXTS * WORDS);
  private threshold: number[] = new Array<number>(PLIC_CONTEXTS).fill(0);
  /** The level last reported per context, so `onChange` fires on changes only. */
  private outputs: boolean[] = new Array<boolean>(PLIC_CONTEXTS).fill(false);

  /** `onChange(context, level)` drives MEIP (context 0) or SEIP (context 1). */
  constructor(private readonly onChange: (context: number, level: boolean) => void) {}

  /** The line of source 1..95 changed level. Source 0 and unknown sources are ignored. */
  setIrq(source: number, level: boolean): void {
    if (source <= 0 || source >= PLIC_SOURCES) return;
    setBit(this.level, source, level);
    if (level && !getBit(this.claimed, source)) setBit(this.pending, source, true);
    this.update();
  }

  read(offset: number, size: AccessSize): number {
    if (size !== 4 || offset & 3) return 0;
    if (offset < PENDING_BASE) return offset >> 2 < PLIC_SOURCES ? this.priority[offset >> 2] : 0;
    if (offset < ENABLE_BASE) {
      const w = (offset - PENDING_BASE) >> 2;
      return w < WORDS ? this.pending[w] : 0;
    }
    if (offset < CONTEXT_BASE) {
      const ctx = Math.floor((offset - ENABLE_BASE) / ENABLE_STRIDE);
      const w = ((offset - ENABLE_BASE) % ENABLE_STRIDE) >> 2;
      return ctx < PLIC_CONTEXTS && w < WORDS ? this.enable[ctx * WORDS + w] : 0;
    }
    const ctx = Math.floor((offset - CONTEXT_BASE) / CONTEXT_STRIDE);
    if (ctx >= PLIC_CONTEXTS) return 0;
    switch ((offset - CONTEXT_BASE) % CONTEXT_STRIDE) {
      case 0:
        return this.threshold[ctx];
      case 4:
        return this.claim(ctx);
      default:
        return 0;
    }
  }

  write(offset: number, value: number, size: AccessSize): void {
    if (size !== 4 || offset & 3) return;
    const v = value >>> 0;
    if (offset < PENDING_BASE) {
      const src = offset >> 2;
      if (src > 0 && src < PLIC_SOURCES) this.priority[src] = v & PRIORITY_MASK;
    } else if (offset < ENABLE_BASE) {
      return; // Pending bits are read-only.
    } else if (offset < CONTEXT_BASE) {
      const ctx = Math.floor((offset - ENABLE_BASE) / ENABLE_STRIDE);
      const w = ((offset - ENABLE_BASE) % ENABLE_STRIDE) >> 2;
      if (ctx >= PLIC_CONTEXTS || w >= WORDS) return;
      // Source 0 does not exist: its enable bit is hardwired to 0.
      this.enable[ctx * WORDS + w] = w === 0 ? v & ~1 : v;
    } else {
      const ctx = Math.floor((offset - CONTEXT_BASE) / CONTEXT_STRIDE);
      if (ctx >= PLIC_CONTEXTS) return;
      const reg = (offset - CONTEXT_BASE) % CONTEXT_STRIDE;
      if (reg === 0) this.threshold[ctx] = v & PRIORITY_MASK;
      else if (reg === 4) this.complete(ctx, v);
      else return;
    }
    this.update();
  }

  saveState(): DeviceState {
    return {
      version: STATE_VERSION,
      priority: [...this.priority],
      level: Array.from(this.level),
      pending: Array.from(this.pending),
      claimed: Array.from(this.claimed),
      enable: Array.from(this.enable),
      threshold: [...this.threshold],
    };
  }

  /** Restores registers and recomputes the outputs without calling `onChange` (the CPU restores mip itself). */
  loadState(state: DeviceState): void {
    const r = new StateReader(this.name, state, STATE_VERSION);
    this.priority = r.numbers('priority', PLIC_SOURCES).map((p) => p & PRIORITY_MASK);
    this.level = Uint32Array.from(r.numbers('level', WORDS));
    this.pending = Uint32Array.from(r.numbers('pending', WORDS));
    this.claimed = Uint32Array.from(r.numbers('claimed', WORDS));
    this.enable = Uint32Array.from(r.numbers('enable', PLIC_CONTEXTS * WORDS));
    this.threshold = r.numbers('threshold', PLIC_CONTEXTS).map((t) => t & PRIORITY_MASK);
    for (let ctx = 0; ctx < PLIC_CONTEXTS; ctx++) this.outputs[ctx] = this.best(ctx, this.threshold[ctx]) !== 0;
  }

  /** The device-tree node; `riscv,ndev` counts sources without source 0. */
  static fdtNode(b: FdtBuilder, base: number, size: number, phandles: Phandles): void {
    b.beginNode(`plic@${base.toString(16)}`);
    b.prop('phandle', phandles.plic);
    b.prop('riscv,ndev', PLIC_SOURCES - 1);
    b.prop('reg', [0, base, 0, size]);
    // Context order: M-mode external (11), then S-mode external (9).
    b.prop('interrupts-extended', [phandles.cpuIntc, 11, phandles.cpuIntc, 9]);
    b.prop('interrupt-controller', null);
    b.prop('compatible', ['sifive,plic-1.0.0', 'riscv,plic0']);
    b.prop('#address-cells', 0);
    b.prop('#interrupt-cells', 1);
    b.endNode();
  }

  /**
   * The pending, enabled source with the highest priority above `floor`
   * (ties go to the lowest id, PLIC spec), or 0. A claimed source is never
   * pending: the gateway holds it back until completion.
   */
  private best(ctx: number, floor: number): number {
    let best = 0;
    let bestPriority = floor;
    for (let w = 0; w < WORDS; w++) {
      let bits = this.pending[w] & this.enable[ctx * WORDS + w];
      while (bits !== 0) {
        const bit = 31 - Math.clz32(bits & -bits);
        bits &= bits - 1;
        const src = w * 32 + bit;
        if (this.priority[src] > bestPriority) {
          best = src;
          bestPriority = this.priority[src];
        }
      }
    }
    return best;
  }

  /** Claim ignores the threshold (PLIC spec, "Interrupt Claim Process") but never returns a priority-0 source. */
  private claim(ctx: number): number {
    const src = this.best(ctx, 0);
    if (src !== 0) {
      setBit(this.pending, src, false);
      setBit(this.claimed, src, true);
      this.update();
    }
    return src;
  }

  /** A completion for a source not enabled on this context is ignored (PLIC spec, "Interrupt Completion"). */
  private complete(ctx: number, src: number): void {
    if (src <= 0 || src >= PLIC_SOURCES || !getBit(this.enable.subarray(ctx * WORDS), src)) return;
    setBit(this.claimed, src, false);
    if (getBit(this.level, src)) setBit(this.pending, src, true);
  }

  private update(): void {
    for (let ctx = 0; ctx < PLIC_CONTEXTS; ctx++) {
      const level = this.best(ctx, this.threshold[ctx]) !== 0;
      if (level !== this.outputs[ctx]) {
        this.outputs[ctx] = level;
        this.onChange(ctx, level);
      }
    }
  }
}

function getBit(words: Uint32Array, n: number): boolean {
  return ((words[n >>> 5] >>> (n & 31)) & 1) !== 0;
}

function setBit(words: Uint32Array, n: number, on: boolean): void {
  if (on) words[n >>> 5] |= 1 << (n & 31);
  else words[n >>> 5] &= ~(1 << (n & 31));
}

/** The PLIC at QEMU virt's address: context 0 drives the hart's MEIP, context 1 its SEIP. */
export const PLIC_DEVICE: DeviceEntry<Plic> = {
  name: 'plic',
  base: 0x0c00_0000,
  size: 0x60_0000,
  create: (host) => new Plic((context, level) => host.hartLine(context === 0 ? IRQ.MEI : IRQ.SEI, level)),
  fdtNode: (b, self, tree) => Plic.fdtNode(b, self.base, self.size, tree.phandles),
};
