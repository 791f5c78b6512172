/**
 * The hart: RV32IMAC + Zicsr + Zifencei, M/S/U, Sv32, PMP.
 *
 * State is plain data (registers in an Int32Array, CSRs as named fields).
 * `run(limit)` executes up to `limit` steps from decoded-instruction pages,
 * with a small TLB per access kind; everything unusual (MMIO, misaligned
 * access, TLB misses, traps) leaves the fast path through a method.
 *
 * Position: one step is one instruction that retired or trapped, or one
 * interrupt taken. The state "at position p" is the state after p steps,
 * before anything of step p+1 (so a pending interrupt is taken as step p+1).
 * See docs/determinism.md.
 */
import { mulh, mulhsu, mulhu } from './isa/multiply.js';
import type { AccessSize } from './device.js';
import { CSR, IRQ, MSTATUS, Priv, csrReadOnly, readCsr, writeCsr } from './csr.js';
import { type DecodedPage, type DecodedRecord, X0_SINK, decodeInto, newDecodedPage } from './isa/decode.js';
import { ENCODINGS, Op } from './isa/table.js';
import { DIRTY, HAS_CODE, type PagedMemory } from './paged.js';
import { PAGE_SHIFT, PAGE_SIZE } from './memmap.js';
import { StateReader } from './devices/state.js';
import { RewindError } from './errors.js';
import { EXECUTE, LOAD, STORE, TRIGGER_COUNT, Triggers } from './triggers.js';

/** Exception causes (privileged spec, table "mcause values after trap"). */
export const Cause = {
  FETCH_ACCESS: 1,
  ILLEGAL: 2,
  BREAKPOINT: 3,
  LOAD_MISALIGNED: 4,
  LOAD_ACCESS: 5,
  STORE_MISALIGNED: 6,
  STORE_ACCESS: 7,
  ECALL_U: 8,
  FETCH_PAGE: 12,
  LOAD_PAGE: 13,
  STORE_PAGE: 15,
} as const;

/** What a debugger watchpoint stops after: a store into its range (the default), a load from it, or either. */
export type WatchKind = 'write' | 'read' | 'access';

/** A range of addresses watched by the debugger: virtual ones, unless `physical`. */
export interface WatchRange {
  address: number;
  length: number;
  /** 'write' when absent. */
  kind?: WatchKind;
  /**
   * Guest-physical addresses, written through any mapping (the memory behind a pixel of the
   * screen, which a kernel writes through its own mapping). Writes only: a `physical` range
   * of another kind is refused.
   */
  physical?: boolean;
}

/** What the CPU needs from the rest of the machine: MMIO outside RAM. */
export interface PhysicalBus {
  /** Reads a device register; undefined when nothing is mapped there. */
  read(addr: number, size: AccessSize): number | undefined;
  /** Writes a device register; false when nothing is mapped there. */
  write(addr: number, value: number, size: AccessSize): boolean;
}

const READ = 0;
const WRITE = 1;
const EXEC = 2;
const TLB_SIZE = 256;
const TLB_MASK = TLB_SIZE - 1;
/** The fetch TLB's index mask (compiled code checks entries of it, see core/jit). */
export const FETCH_TLB_MASK = TLB_MASK;
/** The load and store TLBs: 64 MiB of reach (the default RAM), so that a guest working over many pages (a big heap, a buffer) stays on the fast path. */
const DTLB_SIZE = 16384;
export const DTLB_MASK = DTLB_SIZE - 1;
/** A flush clears the data-TLB entries filled since the last one when there are at most this many, else all. */
const FILLS_KEPT = 256;

const PTE_V = 1;
const PTE_R = 2;
const PTE_W = 4;
const PTE_X = 8;
const PTE_U = 16;
const PTE_A = 64;
const PTE_D = 128;

/** How a slow path ended the instruction (Cpu.exit). */
const EXIT_NONE = 0;
/** A trap was taken; this.pc is the handler. */
const EXIT_TRAP = 1;
/** The instruction touched MMIO and completed; the slice ends after it. */
const EXIT_MMIO = 3;
/** The run ended after a system instruction or atomic: privilege and translations may have changed. */
const EXIT_SYSTEM = 5;

/** Scalar fields saved by name; a test checks that every own field of Cpu is saved or derived. */
const SCALAR_FIELDS = [
  'priv',
  'position',
  'traps',
  'idleTicks',
  'mtimeOffset',
  'waiting',
  'reservation',
  'reservedValue',
  'mstatus',
  'mie',
  'mipSw',
  'mipHw',
  'medeleg',
  'mideleg',
  'mtvec',
  'stvec',
  'mepc',
  'sepc',
  'mcause',
  'scause',
  'mtval',
  'stval',
  'mscratch',
  'sscratch',
  'satp',
  'mcounteren',
  'scounteren',
  'menvcfg',
  'senvcfg',
  'mcountinhibit',
] as const;

/** Interrupts in the order the privileged spec takes them: MEI, MSI, MTI, SEI, SSI, STI. */
const IRQ_PRIORITY = [11, 3, 7, 9, 1, 5];

const RAM_BASE = 0x8000_0000;

/** Virtual page numbers covered by some range, or null for none. */
function pagesOf(ranges: readonly WatchRange[]): Set<number> | null {
  const pages = new Set<number>();
  for (const r of ranges) {
    for (let p = r.address >>> PAGE_SHIFT; p <= (r.address + r.length - 1) >>> PAGE_SHIFT; p++) pages.add(p & 0xfffff);
  }
  return pages.size > 0 ? pages : null;
}

/** A second executor over the same decoded records (core/jit): same contract as `Cpu.run`. */
export interface CpuExecutor {
  run(limit: number): number;
  /** Bytes [from, to) of physical page `ppn`, which holds decoded code, were written. */
  codeWritten(ppn: number, from: number, to: number): void;
  /**
   * Steps the interpreter ran in each RAM page while resuming a slice for the executor
   * (`run(limit, true, from)`); such a run stops (exit EXIT_WARM) on entering a page whose
   * count has reached `warmAt` and that has no `starts` yet, so that the executor takes over there.
   */
  readonly heat: Float64Array;
  readonly warmAt: number;
  /**
   * By RAM page, for warm pages: `starts`, a count by halfword of the page, taken down by one each
   * time a basic block starts there (after a branch, taken or not, a jump, or on entering the
   * page). Such a run stops (exit EXIT_WARM) at a start whose count has reached 0: the executor's
   * code begins there, or it has run often enough to be compiled.
   */
  readonly pages: readonly ({ readonly starts: Int32Array } | undefined)[];
}

/** @internal `Cpu.exit` after an executor's interpreter run stopped for it (see CpuExecutor.heat, starts). */
export const EXIT_WARM = 4;

/** RAM pages at most (2 GiB, Machine's limit): room for their flags in LEAD. */
const MAX_RAM_PAGES = (2048 * 1024 * 1024) >>> PAGE_SHIFT;

/**
 * Where a hart whose RAM lives in a WebAssembly memory keeps its registers and data TLBs: in
 * the bytes before RAM (PagedMemory's lead), so that code compiled to WebAssembly
 * (core/jit/wasm.ts) reads them there. Byte offsets: x[] at X; EXIT, a record compiled code
 * leaves its exit in; the data TLB arrays from TLB, in DataTlbs' order, TLB_ARRAY bytes each;
 * RAM's dirty flags (PagedMemory.dirty) at DIRTY; the extent of each page's decoded code
 * (Cpu.codeExtent) at EXTENT; `bytes` in all.
 */
export const LEAD = (() => {
  const TLB_ARRAY = 4 * 4 * DTLB_SIZE;
  const DIRTY = 4096 + 6 * TLB_ARRAY;
  const EXTENT = DIRTY + MAX_RAM_PAGES;
  return { X: 0, EXIT: 256, TLB: 4096, TLB_ARRAY, DIRTY, EXTENT, bytes: EXTENT + 4 * MAX_RAM_PAGES } as const;
})();

/**
 * Cpu.codeExtent of a page with no decoded instruction, and of one whose extent is not known
 * (no decoded page: every store through a translation for code calls touch, which decides).
 */
export const EXTENT_EMPTY = 0xffff;
const EXTENT_ALL = 0xffff0000;

/** The data TLBs of every privilege level, one after another in each array (see Cpu.tlbBase). */
class DataTlbs {
  readonly rTag: Int32Array;
  readonly rOff: Int32Array;
  readonly wTag: Int32Array;
  readonly wOff: Int32Array;
  readonly cTag: Int32Array;
  readonly cOff: Int32Array;

  /** In `lead` (see LEAD) when RAM has one, else in arrays of their own. */
  constructor(lead: ArrayBufferLike | null) {
    let k = 0;
    const array = (): Int32Array =>
      lead === null
        ? new Int32Array(4 * DTLB_SIZE)
        : new Int32Array(lead, LEAD.TLB + LEAD.TLB_ARRAY * k++, 4 * DTLB_SIZE);
    this.rTag = array().fill(-1);
    this.rOff = array();
    this.wTag = array().fill(-1);
    this.wOff = array();
    this.cTag = array().fill(-1);
    this.cOff = array();
  }
}

/** One privilege level's cached translations: data (load, store) and fetch. */
class Tlb {
  readonly rTag: Int32Array;
  readonly rOff: Int32Array;
  readonly wTag: Int32Array;
  readonly wOff: Int32Array;
  readonly xTag = new Int32Array(TLB_SIZE).fill(-1);
  readonly xOff = new Int32Array(TLB_SIZE);
  /**
   * Write translations of pages the store fast path does not take (pages with decoded code):
   * compiled code and `Cpu.store` write through them and call `touch`.
   */
  readonly cTag: Int32Array;
  readonly cOff: Int32Array;
  /** Data entries filled since the last flush, as far as FILLS_KEPT (fillCount goes on counting). */
  private readonly fills = new Int32Array(FILLS_KEPT);
  private fillCount = 0;

  constructor(all: DataTlbs, level: number) {
    const from = level * DTLB_SIZE;
    const to = from + DTLB_SIZE;
    this.rTag = all.rTag.subarray(from, to);
    this.rOff = all.rOff.subarray(from, to);
    this.wTag = all.wTag.subarray(from, to);
    this.wOff = all.wOff.subarray(from, to);
    this.cTag = all.cTag.subarray(from, to);
    this.cOff = all.cOff.subarray(from, to);
  }

  noteFill(e: number): void {
    if (this.fillCount < FILLS_KEPT) this.fills[this.fillCount] = e;
    this.fillCount++;
  }

  /** Sets `mark[p]` for each RAM page p it caches a write translation for (the store fast path's). */
  markWritable(mark: Uint8Array): void {
    this.eachWritable((e) => (mark[this.wOff[e]! >>> PAGE_SHIFT] = 1));
  }

  /** Forgets its write translations of the RAM pages p with `mark[p]` set. */
  forgetWritable(mark: Uint8Array): void {
    this.eachWritable((e) => {
      if (mark[this.wOff[e]! >>> PAGE_SHIFT] !== 0) this.wTag[e] = -1;
    });
  }

  /** Each entry holding a write translation: among those filled since the last flush when they are few, else among all. */
  private eachWritable(visit: (e: number) => void): void {
    const wTag = this.wTag;
    if (this.fillCount > FILLS_KEPT) {
      for (let e = 0; e < wTag.length; e++) if (wTag[e] !== -1) visit(e);
    } else
      for (let i = 0; i < this.fillCount; i++) {
        const e = this.fills[i]!;
        if (wTag[e] !== -1) visit(e);
      }
  }

  /** Clears the data entries filled since the last flush when they are few, else all of them. */
  flush(): void {
    this.xTag.fill(-1);
    if (this.fillCount === 0) return;
    if (this.fillCount > FILLS_KEPT) {
      this.rTag.fill(-1);
      this.wTag.fill(-1);
      this.cTag.fill(-1);
    } else {
      for (let i = 0; i < this.fillCount; i++) {
        const e = this.fills[i]!;
        this.rTag[e] = -1;
        this.wTag[e] = -1;
        this.cTag[e] = -1;
      }
    }
    this.fillCount = 0;
  }
}

/** mstatus bits that change how loads and stores translate (MPRV with MPP, SUM, MXR). */
const TRANSLATION_BITS = MSTATUS.MPRV | MSTATUS.MPP | MSTATUS.SUM | MSTATUS.MXR;

/**
 * CSRs whose writes leave every cached translation valid (trap handlers write them all the
 * time); mstatus and sstatus too, unless TRANSLATION_BITS change. Any other write flushes the
 * TLBs, as satp, PMP and trigger writes must.
 */
function keepsTranslations(csr: number): boolean {
  switch (csr) {
    case CSR.mstatus:
    case CSR.sstatus:
    case CSR.mscratch:
    case CSR.sscratch:
    case CSR.mepc:
    case CSR.sepc:
    case CSR.mcause:
    case CSR.scause:
    case CSR.mtval:
    case CSR.stval:
    case CSR.mtvec:
    case CSR.stvec:
    case CSR.mie:
    case CSR.sie:
    case CSR.mip:
    case CSR.sip:
      return true;
    default:
      return false;
  }
}

/** Steps by page when no JIT asks for them (see Cpu.run): written, never read; shared by every hart, as large as the largest RAM. */
let noHeat = new Float64Array(0);
/** Block start counts when no page is counted (see Cpu.run): never read. */
const noStarts = new Int32Array(2048);
const noPages: CpuExecutor['pages'] = [];

export class Cpu {
  /** x0..x31, plus x[32] which absorbs writes to x0. */
  readonly x: Int32Array;
  /**
   * @internal By RAM page: the byte offsets in it where decoded instructions start, from low
   * (bits 0–15) to high (exclusive, bits 16–31), widened as instructions are decoded; all
   * (EXTENT_ALL) where no decoded page says. A store through a translation for code (Tlb.cTag)
   * outside it changes no decoded instruction: compiled code then marks the page itself rather
   * than call touch (core/jit/wasm.ts).
   */
  readonly codeExtent: Uint32Array;
  /** pc as a signed 32-bit integer; see `pcValue`. */
  pc = RAM_BASE | 0;
  /** The privilege level; saved as `priv`. Setting it selects that level's TLB set. */
  private level: number = Priv.M;
  /** Steps since reset. */
  position = 0;
  /** Traps taken since reset (steps that retired no instruction). */
  traps = 0;
  /** Virtual time spent idle in wfi, in timer ticks. */
  idleTicks = 0;
  /** mtime = position + idleTicks + mtimeOffset (the guest may write mtime). */
  mtimeOffset = 0;
  /** Set by wfi when nothing is pending: the hart sleeps until an interrupt is pending. */
  waiting = false;
  /** LR reservation: physical address and the value loaded, or -1. */
  reservation = -1;
  reservedValue = 0;

  mstatus = 0;
  mie = 0;
  /** Software-writable bits of mip (SSIP, STIP, SEIP). */
  mipSw = 0;
  /** Bits of mip wired to devices (MSIP, MTIP, MEIP, and SEIP from the PLIC). */
  mipHw = 0;
  medeleg = 0;
  mideleg = 0;
  mtvec = 0;
  stvec = 0;
  mepc = 0;
  sepc = 0;
  mcause = 0;
  scause = 0;
  mtval = 0;
  stval = 0;
  mscratch = 0;
  sscratch = 0;
  satp = 0;
  mcounteren = 0;
  scounteren = 0;
  menvcfg = 0;
  senvcfg = 0;
  mcountinhibit = 0;
  /** Per counter (cycle, time, instret): what guest writes added, as 64-bit (lo, hi) pairs. */
  readonly counterOffset = new Uint32Array(6);
  /** Per counter: its value while mcountinhibit stops it, as (lo, hi) pairs. */
  readonly counterFrozen = new Uint32Array(6);
  /** PMP entries: write them through writeCsr, or call pmpChanged() after writing them here. */
  readonly pmpcfg = new Uint8Array(16);
  readonly pmpaddr = new Uint32Array(16);
  /** Active PMP entries as (lo, hi, cfg) triples, derived by pmpChanged(). */
  private pmpRules: number[] = [];
  /** Debug triggers (Sdtrig): tselect, tdata1/2, tcontrol. Saved only when not as at reset (see saveState). */
  readonly triggers = new Triggers();
  /** Access kinds some trigger may match (triggers.armedKinds()); 0 keeps every fast path. Derived. */
  private armedTriggers = 0;

  /**
   * Built-in M-mode firmware: offered every trap that would enter M-mode.
   * Returning true means the firmware handled it (set pc, registers and
   * CSRs itself) and the guest never sees an M-mode handler.
   */
  firmware: ((cause: number, interrupt: boolean, tval: number, pc: number) => boolean) | null = null;

  /** Debugger breakpoints (virtual pcs): the hart stops before executing one. */
  breakpoints: Set<number> | null = null;
  /** Debugger watchpoints: the hart stops after a store that writes into one (write and access watchpoints). */
  watchpoints: WatchRange[] | null = null;
  /** Debugger watchpoints that stop after a load from them (read and access watchpoints). */
  readWatchpoints: WatchRange[] | null = null;
  /** The position at which a breakpoint does not stop (the one a run resumes from). */
  ignoreBreakpointAt = -1;
  /** Why the last run stopped for the debugger, or null. */
  stopReason: 'breakpoint' | 'watchpoint' | null = null;
  /** The address written or read when stopReason is 'watchpoint'. */
  watchAddress = 0;
  /** The kind of the watchpoint hit when stopReason is 'watchpoint'. */
  watchKind: WatchKind = 'write';
  /**
   * @internal The JIT (core/jit) while attached: `run` hands it each slice
   * (`run(limit, true)` is the interpreter alone). Non-enumerable, not state; defined by the
   * constructor on every hart, so that attaching one leaves the hart's shape as it was (V8's
   * optimized code for a hart with a JIT then serves one without, and the other way round).
   */
  declare jit: CpuExecutor | undefined;
  private bpPages: Set<number> | null = null;
  private watchPages: Set<number> | null = null;
  private readWatchPages: Set<number> | null = null;
  private physicalWatchpoints: WatchRange[] | null = null;
  private physicalWatchPages: Set<number> | null = null;

  /** @internal How the last slow path ended (EXIT_*). */
  exit = EXIT_NONE;

  private readonly mem8: Uint8Array;
  /** @internal Signed views of RAM (compiled JS regions share them). */
  readonly mem8s: Int8Array;
  private readonly mem16: Uint16Array;
  /** @internal */
  readonly mem16s: Int16Array;
  private readonly mem32: Int32Array;
  private readonly dirty: Uint8Array;
  private readonly ramSize: number;
  /** @internal */
  readonly decoded: (DecodedPage | undefined)[];
  private readonly codePage: Uint8Array;
  /** Scratch marks by RAM page (see forgetWritable). */
  private readonly forgetting: Uint8Array;
  /** Whether the last fetchPage may be reused for the rest of the page. */
  private fetchCacheable = true;
  private readonly scratch: DecodedRecord = { fields: 0, imm: 0 };

  /**
   * @internal Every level's data TLB arrays, which compiled code indexes from `tlbBase`. Never
   * assigned again: V8 then takes the arrays in compiled code as constants, where a field that
   * is assigned when the level changes (rTag and the others) costs a fifth of a region's time.
   */
  readonly dataTlbs: DataTlbs;
  /**
   * Cached translations, one set per privilege level (index 2 unused), so that traps and xRETs
   * switch sets instead of flushing: a trap handler and the code it returns to each find their
   * pages still cached. Anything else that changes translations (satp, PMP, SUM, MXR, MPRV,
   * triggers, watchpoints, restores) flushes every set.
   */
  private readonly tlbs: Tlb[];
  /** @internal Index in dataTlbs' arrays of the data set in use (dataPriv() × the set's size). */
  tlbBase = Priv.M * DTLB_SIZE;
  /** The set that loads and stores use: the one of dataPriv(). */
  private dataTlb: Tlb;
  /** @internal The data set's arrays (the interpreter and compiled code read them at the start of a run). */
  rTag: Int32Array;
  /** @internal */
  rOff: Int32Array;
  /** @internal */
  wTag: Int32Array;
  /** @internal */
  wOff: Int32Array;
  /** @internal The fetch TLB of the current privilege level. */
  xTag: Int32Array;
  /** @internal */
  xOff: Int32Array;

  constructor(
    readonly ram: PagedMemory,
    private readonly bus: PhysicalBus,
  ) {
    const lead = ram.wasm === null ? null : ram.bytes.buffer;
    this.x = lead === null ? new Int32Array(33) : new Int32Array(lead, LEAD.X, 33).fill(0);
    this.codeExtent = (
      lead === null ? new Uint32Array(ram.pageCount) : new Uint32Array(lead, LEAD.EXTENT, ram.pageCount)
    ).fill(EXTENT_ALL);
    this.dataTlbs = new DataTlbs(lead);
    this.tlbs = [0, 1, 2, 3].map((level) => new Tlb(this.dataTlbs, level));
    this.dataTlb = this.tlbs[Priv.M]!;
    this.rTag = this.dataTlb.rTag;
    this.rOff = this.dataTlb.rOff;
    this.wTag = this.dataTlb.wTag;
    this.wOff = this.dataTlb.wOff;
    this.xTag = this.dataTlb.xTag;
    this.xOff = this.dataTlb.xOff;
    const buf = ram.bytes.buffer;
    this.mem8 = ram.bytes;
    this.mem8s = new Int8Array(buf, ram.bytes.byteOffset, ram.size);
    this.mem16 = ram.halves;
    this.mem16s = new Int16Array(buf, ram.bytes.byteOffset, ram.size >>> 1);
    this.mem32 = ram.words;
    this.dirty = ram.dirty;
    this.ramSize = ram.size;
    if (noHeat.length < Math.ceil(ram.size / 4096)) noHeat = new Float64Array(Math.ceil(ram.size / 4096));
    this.decoded = new Array(ram.pageCount);
    this.codePage = new Uint8Array(ram.pageCount);
    Object.defineProperty(this, 'jit', { value: undefined, writable: true, enumerable: false });
    this.forgetting = new Uint8Array(ram.pageCount);
    ram.writer = { mark: (mark) => this.markWritable(mark), forget: (pages) => this.forgetWritable(pages) };
  }

  /**
   * Forgets every level's cached write translations for the store fast path. One is cached only
   * for a dirty page with no decoded code (those go to Tlb.cTag, whose stores call touch), so the
   * interpreter and compiled code store through it with no look at the page's flag, and mark
   * nothing.
   */
  private dropWriteTranslations(): void {
    this.dataTlbs.wTag.fill(-1);
  }

  /** Marks in `mark` (one byte per RAM page) the pages it caches a write translation for (PageWriter). */
  private markWritable(mark: Uint8Array): void {
    for (const tlb of this.tlbs) tlb.markWritable(mark);
  }

  /**
   * Forgets every level's cached write translations of the RAM pages `pages`, whose dirty bits
   * are being cleared (PageWriter): the next store to each takes the slow path, which marks
   * the page and caches the translation again.
   */
  private forgetWritable(pages: readonly number[]): void {
    const mark = this.forgetting;
    for (const p of pages) mark[p] = 1;
    for (const tlb of this.tlbs) tlb.forgetWritable(mark);
    for (const p of pages) mark[p] = 0;
  }

  get priv(): number {
    return this.level;
  }

  set priv(level: number) {
    this.level = level;
    this.selectTlb();
  }

  /** pc as an unsigned number. */
  get pcValue(): number {
    return this.pc >>> 0;
  }

  /** Virtual clock: steps plus idle ticks. mcycle counts it. */
  cycles(): number {
    return this.position + this.idleTicks;
  }

  /** mtime, as the CLINT and the time CSR see it. */
  time(): number {
    return this.position + this.idleTicks + this.mtimeOffset;
  }

  /** Instructions retired (minstret before any guest write). */
  retired(): number {
    return this.position - this.traps;
  }

  mip(): number {
    return (this.mipSw | this.mipHw) >>> 0;
  }

  /** Sets or clears device-driven bits of mip (MSIP, MTIP, MEIP, SEIP). */
  setInterruptLine(bit: number, level: boolean): void {
    this.mipHw = (level ? this.mipHw | bit : this.mipHw & ~bit) >>> 0;
  }

  /** Sets the debugger's breakpoints (virtual addresses); null or empty for none. */
  setBreakpoints(pcs: Iterable<number> | null): void {
    const set = new Set([...(pcs ?? [])].map((a) => a >>> 0));
    this.breakpoints = set.size > 0 ? set : null;
    this.bpPages = set.size > 0 ? new Set([...set].map((a) => a >>> PAGE_SHIFT)) : null;
  }

  /** Sets the debugger's watchpoints (virtual address ranges written to, read from, or both); null or empty for none. */
  setWatchpoints(ranges: readonly WatchRange[] | null): void {
    const list = (ranges ?? [])
      .filter((r) => r.length > 0)
      .map((r) => ({
        address: r.address >>> 0,
        length: r.length,
        kind: r.kind ?? 'write',
        physical: r.physical === true,
      }));
    if (list.some((r) => r.physical && r.kind !== 'write'))
      throw new RewindError('bad-argument', 'a physical watchpoint watches writes only');
    const stores = list.filter((r) => r.kind !== 'read' && !r.physical);
    const loads = list.filter((r) => r.kind !== 'write');
    const physical = list.filter((r) => r.physical);
    this.watchpoints = stores.length > 0 ? stores : null;
    this.readWatchpoints = loads.length > 0 ? loads : null;
    this.physicalWatchpoints = physical.length > 0 ? physical : null;
    this.watchPages = pagesOf(stores);
    this.readWatchPages = pagesOf(loads);
    this.physicalWatchPages = pagesOf(physical);
    // Accesses to watched pages must take the slow paths that check them.
    this.flushTlb();
  }

  private checkWatch(va: number, size: number, ranges: WatchRange[] | null = this.watchpoints): void {
    const a = va >>> 0;
    for (const w of ranges ?? []) {
      if (a < w.address + w.length && a + size > w.address) {
        this.stopReason = 'watchpoint';
        this.watchAddress = a;
        this.watchKind = w.kind ?? 'write';
        return;
      }
    }
  }

  /**
   * After a store to RAM at `va` (physical `pa`): a stop when a watchpoint covers it. True when
   * one watches its page (virtual or physical), which then stays out of the TLB.
   */
  private watchStore(va: number, pa: number, size: number): boolean {
    let watched = false;
    if (this.watchPages !== null && this.watchPages.has(va >>> PAGE_SHIFT)) {
      watched = true;
      this.checkWatch(va, size);
    }
    if (this.physicalWatchPages !== null && this.physicalWatchPages.has(pa >>> PAGE_SHIFT)) {
      watched = true;
      if (this.stopReason === null) this.checkWatch(pa, size, this.physicalWatchpoints);
    }
    return watched;
  }

  /** After a load from `va` that completed: a stop when a read or access watchpoint covers it. */
  private checkReadWatch(va: number, size: number): void {
    if (this.readWatchPages !== null && this.readWatchPages.has(va >>> PAGE_SHIFT))
      this.checkWatch(va, size, this.readWatchpoints);
  }

  /** @internal Writes a trigger CSR (core/triggers.ts); false when `num` is not one. Re-arms the slow paths. */
  writeTrigger(num: number, value: number): boolean {
    if (!this.triggers.write(num, value)) return false;
    this.armTriggers();
    return true;
  }

  /** Slow paths for the access kinds an enabled trigger may match; the fast paths otherwise. */
  private armTriggers(): void {
    this.armedTriggers = this.triggers.armedKinds();
    // Loads and stores reach the trigger check only through a TLB miss.
    this.flushTlb();
  }

  /**
   * A trigger matching an access of `kind` at `address` (the pc for an
   * instruction): raises the breakpoint exception before the instruction
   * executes (mepc = pc, mtval = the address) and returns true.
   */
  private triggerFires(kind: number, address: number, pc: number): boolean {
    if ((this.armedTriggers & kind) === 0 || this.triggers.fire(kind, address, this.priv) < 0) return false;
    this.trap(Cause.BREAKPOINT, address >>> 0, false, pc);
    return true;
  }

  /**
   * Drops every cached translation; needed whenever satp, PMP, mstatus's
   * translation bits, triggers or watchpoints change.
   */
  flushTlb(): void {
    for (const tlb of this.tlbs) tlb.flush();
    this.selectTlb();
  }

  /** Points the TLB arrays at the sets of the current privilege level (after priv or MPRV/MPP changed). */
  selectTlb(): void {
    const level = this.dataPriv();
    const data = this.tlbs[level]!;
    this.tlbBase = level * DTLB_SIZE;
    this.dataTlb = data;
    this.rTag = data.rTag;
    this.rOff = data.rOff;
    this.wTag = data.wTag;
    this.wOff = data.wOff;
    const fetch = this.tlbs[this.priv]!;
    this.xTag = fetch.xTag;
    this.xOff = fetch.xOff;
  }

  /**
   * Forgets cached translations, and decoded instructions of the RAM pages
   * `rewritten` (all when omitted): call after RAM was rewritten behind the
   * CPU's back (restoring a checkpoint). Code in the pages left as they were
   * stays decoded, and compiled: a seek then replays at full speed at once.
   */
  invalidateCaches(rewritten?: readonly number[]): void {
    if (rewritten) for (const p of rewritten) this.invalidateRange(p << PAGE_SHIFT, PAGE_SIZE);
    else {
      this.decoded.fill(undefined);
      this.codePage.fill(0);
      this.codeExtent.fill(EXTENT_ALL);
    }
    this.flushTlb();
  }

  /** After writing RAM at [offset, offset+length) from outside (DMA, loader): drop stale decoded code. */
  invalidateRange(offset: number, length: number): void {
    if (length <= 0) return;
    const last = (offset + length - 1) >>> PAGE_SHIFT;
    for (let p = offset >>> PAGE_SHIFT; p <= last; p++) {
      if (this.codePage[p]) {
        this.decoded[p] = undefined;
        this.codePage[p] = 0;
        this.codeExtent[p] = EXTENT_ALL;
      }
    }
  }

  /** The highest-priority interrupt that is pending and enabled, or -1. */
  pendingInterrupt(): number {
    const pending = (this.mipSw | this.mipHw) & this.mie;
    if (pending === 0) return -1;
    const mEnabled = this.priv < Priv.M || (this.mstatus & MSTATUS.MIE) !== 0;
    const sEnabled = this.priv < Priv.S || (this.priv === Priv.S && (this.mstatus & MSTATUS.SIE) !== 0);
    const m = mEnabled ? pending & ~this.mideleg : 0;
    const s = sEnabled ? pending & this.mideleg : 0;
    const ready = m !== 0 ? m : s;
    if (ready === 0) return -1;
    for (const cause of IRQ_PRIORITY) if ((ready >>> cause) & 1) return cause;
    return -1;
  }

  /**
   * Runs up to `limit` steps (limit ≥ 1) and returns how many ran. A slice
   * also ends early after anything that can change which interrupt is
   * pending or enabled (CSR writes, xRET, MMIO, traps), so that the caller
   * can update device lines and the next slice starts by taking an
   * interrupt if one is due.
   *
   * `interp` and `from` are for the JIT (core/jit): the interpreter alone,
   * resuming a slice in which `from` steps already ran (it then runs up to
   * `limit - from` more and returns how many).
   */
  run(limit: number, interp = false, from = 0): number {
    if (this.waiting) {
      if (((this.mipSw | this.mipHw) & this.mie) === 0) return 0;
      this.waiting = false;
    }
    const irq = this.pendingInterrupt();
    if (irq >= 0) {
      this.trap(irq, 0, true, this.pc);
      this.position++;
      return 1;
    }
    // A second executor over the same decoded records (core/jit), when one is attached.
    // While a trigger is enabled, the interpreter alone: it checks every instruction and access for them.
    if (this.jit !== undefined && !interp && this.armedTriggers === 0) return this.jit.run(limit);
    const x = this.x;
    const mem8 = this.mem8;
    const mem8s = this.mem8s;
    const mem16 = this.mem16;
    const mem16s = this.mem16s;
    const mem32 = this.mem32;
    const rTag = this.rTag;
    const rOff = this.rOff;
    const wTag = this.wTag;
    const wOff = this.wOff;
    let pc = this.pc | 0;
    // `from`: steps the JIT already ran in this slice.
    let n = from;
    // Steps of this slice already added to `position` (a system instruction brings it up to date first).
    let counted = from;
    let fvpn = -1;
    let fbase = 0;
    let code = this.noCode;
    this.exit = EXIT_NONE;
    // For the JIT: steps by page (counted at page changes), and where to hand back to it. The
    // interpreter alone counts into a scratch array and never stops: the same code runs either
    // way, so that V8 does not deoptimize it when a JIT starts using it.
    const forJit = interp && this.jit !== undefined;
    const heat = forJit ? this.jit!.heat : noHeat;
    const warmAt = forJit ? this.jit!.warmAt : Infinity;
    const pages = forJit ? this.jit!.pages : noPages;
    let hpage = -1;
    let hn = n;
    // Block start counts of the current page: a warm page's for the JIT (see CpuExecutor.pages), else none.
    let starts: Int32Array = noStarts;

    run: while (n < limit) {
      if (pc >>> PAGE_SHIFT !== fvpn) {
        if (
          this.breakpoints !== null &&
          this.breakpoints.has(pc >>> 0) &&
          this.position + n - counted !== this.ignoreBreakpointAt
        ) {
          this.stopReason = 'breakpoint';
          break;
        }
        // An instruction address trigger comes before any fault of the fetch (privileged spec, exception priority).
        if (this.armedTriggers & EXECUTE && this.triggerFires(EXECUTE, pc, pc)) {
          n++;
          pc = this.pc;
          break;
        }
        const base = this.fetchPage(pc);
        if (base < 0) {
          n++;
          pc = this.pc;
          break;
        }
        if (base >>> PAGE_SHIFT !== hpage) {
          if (hpage >= 0) heat[hpage]! += n - hn;
          hpage = base >>> PAGE_SHIFT;
          hn = n;
          starts = noStarts;
          if (heat[hpage]! >= warmAt) {
            const s = pages[hpage]?.starts;
            if (s !== undefined) starts = s;
            // A page entered is a basic block start (the page's end ends a block).
            if (n > from && (s === undefined || --s[(pc & 0xfff) >> 1]! <= 0)) {
              this.exit = EXIT_WARM;
              break;
            }
          }
        }
        code = this.decodedPage(base >>> PAGE_SHIFT);
        // A page whose PMP answer is not uniform, or with a breakpoint, is looked at again at every instruction;
        // so is every page while an execute trigger is enabled.
        fvpn =
          this.fetchCacheable &&
          (this.bpPages === null || !this.bpPages.has(pc >>> PAGE_SHIFT)) &&
          (this.armedTriggers & EXECUTE) === 0
            ? pc >>> PAGE_SHIFT
            : -1;
        fbase = base;
      }
      const k = pc & 0xffe;
      let f = code[k]!;
      if (f === 0) {
        f = this.decodeAt(code, k, fbase, pc);
        if (f === 0) {
          n++;
          pc = this.pc;
          break;
        }
      }
      const imm = code[k + 1]!;
      n++;
      const op = f & 127;
      const rd = (f >>> 7) & 63;
      const rs1 = (f >>> 13) & 31;
      const rs2 = (f >>> 18) & 31;
      // Next pc: 2 bytes on for a compressed instruction (bit 23 of fields), else 4.
      const npc = (pc + 4 - ((f >>> 22) & 2)) | 0;

      // Literal labels, so that V8 makes a jump table of this switch; the type checker holds each to its op
      // (see Op in core/isa/table.ts).
      // Control transfers leave the switch by `transfer`: in a page whose block starts are counted
      // (for the JIT), the basic block they go to is counted; the rest go straight round.
      transfer: {
        switch (op) {
          case 1 satisfies typeof Op.ILLEGAL:
            this.trap(Cause.ILLEGAL, imm >>> 0, false, pc);
            pc = this.pc;
            break run;
          case 2 satisfies typeof Op.LUI:
            x[rd] = imm;
            pc = npc;
            break;
          case 3 satisfies typeof Op.AUIPC:
            x[rd] = (pc + imm) | 0;
            pc = npc;
            break;
          case 4 satisfies typeof Op.JAL:
            x[rd] = npc;
            pc = (pc + imm) | 0;
            break transfer;
          case 5 satisfies typeof Op.JALR: {
            // Read rs1 before writing rd (they may be the same register)
            const t = ((x[rs1]! + imm) | 0) & ~1;
            x[rd] = npc;
            pc = t;
            break transfer;
          }
          case 6 satisfies typeof Op.BEQ:
            pc = x[rs1] === x[rs2] ? (pc + imm) | 0 : npc;
            break transfer;
          case 7 satisfies typeof Op.BNE:
            pc = x[rs1] !== x[rs2] ? (pc + imm) | 0 : npc;
            break transfer;
          case 8 satisfies typeof Op.BLT:
            pc = x[rs1]! < x[rs2]! ? (pc + imm) | 0 : npc;
            break transfer;
          case 9 satisfies typeof Op.BGE:
            pc = x[rs1]! >= x[rs2]! ? (pc + imm) | 0 : npc;
            break transfer;
          case 10 satisfies typeof Op.BLTU:
            pc = x[rs1]! >>> 0 < x[rs2]! >>> 0 ? (pc + imm) | 0 : npc;
            break transfer;
          case 11 satisfies typeof Op.BGEU:
            pc = x[rs1]! >>> 0 >= x[rs2]! >>> 0 ? (pc + imm) | 0 : npc;
            break transfer;
          case 12 satisfies typeof Op.LB: {
            const a = (x[rs1]! + imm) | 0;
            const e = (a >>> 12) & DTLB_MASK;
            if (rTag[e] === a >>> 12) x[rd] = mem8s[rOff[e]! | (a & 0xfff)]!;
            else if (this.load(op, rd, a, pc, npc, n - 1 - counted)) {
              pc = this.pc;
              break run;
            }
            pc = npc;
            break;
          }
          case 13 satisfies typeof Op.LH: {
            const a = (x[rs1]! + imm) | 0;
            const e = (a >>> 12) & DTLB_MASK;
            if (rTag[e] === a >>> 12 && (a & 1) === 0) x[rd] = mem16s[(rOff[e]! | (a & 0xfff)) >>> 1]!;
            else if (this.load(op, rd, a, pc, npc, n - 1 - counted)) {
              pc = this.pc;
              break run;
            }
            pc = npc;
            break;
          }
          case 14 satisfies typeof Op.LW: {
            const a = (x[rs1]! + imm) | 0;
            const e = (a >>> 12) & DTLB_MASK;
            if (rTag[e] === a >>> 12 && (a & 3) === 0) x[rd] = mem32[(rOff[e]! | (a & 0xfff)) >>> 2]!;
            else if (this.load(op, rd, a, pc, npc, n - 1 - counted)) {
              pc = this.pc;
              break run;
            }
            pc = npc;
            break;
          }
          case 15 satisfies typeof Op.LBU: {
            const a = (x[rs1]! + imm) | 0;
            const e = (a >>> 12) & DTLB_MASK;
            if (rTag[e] === a >>> 12) x[rd] = mem8[rOff[e]! | (a & 0xfff)]!;
            else if (this.load(op, rd, a, pc, npc, n - 1 - counted)) {
              pc = this.pc;
              break run;
            }
            pc = npc;
            break;
          }
          case 16 satisfies typeof Op.LHU: {
            const a = (x[rs1]! + imm) | 0;
            const e = (a >>> 12) & DTLB_MASK;
            if (rTag[e] === a >>> 12 && (a & 1) === 0) x[rd] = mem16[(rOff[e]! | (a & 0xfff)) >>> 1]!;
            else if (this.load(op, rd, a, pc, npc, n - 1 - counted)) {
              pc = this.pc;
              break run;
            }
            pc = npc;
            break;
          }
          case 17 satisfies typeof Op.SB: {
            const a = (x[rs1]! + imm) | 0;
            const e = (a >>> 12) & DTLB_MASK;
            if (wTag[e] === a >>> 12) {
              const o = wOff[e]! | (a & 0xfff);
              mem8[o] = x[rs2]!;
            } else if (this.store(1, a, x[rs2]!, pc, npc, n - 1 - counted)) {
              pc = this.pc;
              break run;
            }
            pc = npc;
            break;
          }
          case 18 satisfies typeof Op.SH: {
            const a = (x[rs1]! + imm) | 0;
            const e = (a >>> 12) & DTLB_MASK;
            if (wTag[e] === a >>> 12 && (a & 1) === 0) {
              const o = wOff[e]! | (a & 0xfff);
              mem16[o >>> 1] = x[rs2]!;
            } else if (this.store(2, a, x[rs2]!, pc, npc, n - 1 - counted)) {
              pc = this.pc;
              break run;
            }
            pc = npc;
            break;
          }
          case 19 satisfies typeof Op.SW: {
            const a = (x[rs1]! + imm) | 0;
            const e = (a >>> 12) & DTLB_MASK;
            if (wTag[e] === a >>> 12 && (a & 3) === 0) {
              const o = wOff[e]! | (a & 0xfff);
              mem32[o >>> 2] = x[rs2]!;
            } else if (this.store(4, a, x[rs2]!, pc, npc, n - 1 - counted)) {
              pc = this.pc;
              break run;
            }
            pc = npc;
            break;
          }
          case 20 satisfies typeof Op.ADDI:
            x[rd] = (x[rs1]! + imm) | 0;
            pc = npc;
            break;
          case 21 satisfies typeof Op.SLTI:
            x[rd] = x[rs1]! < imm ? 1 : 0;
            pc = npc;
            break;
          case 22 satisfies typeof Op.SLTIU:
            x[rd] = x[rs1]! >>> 0 < imm >>> 0 ? 1 : 0;
            pc = npc;
            break;
          case 23 satisfies typeof Op.XORI:
            x[rd] = x[rs1]! ^ imm;
            pc = npc;
            break;
          case 24 satisfies typeof Op.ORI:
            x[rd] = x[rs1]! | imm;
            pc = npc;
            break;
          case 25 satisfies typeof Op.ANDI:
            x[rd] = x[rs1]! & imm;
            pc = npc;
            break;
          case 26 satisfies typeof Op.SLLI:
            x[rd] = x[rs1]! << imm;
            pc = npc;
            break;
          case 27 satisfies typeof Op.SRLI:
            x[rd] = x[rs1]! >>> imm;
            pc = npc;
            break;
          case 28 satisfies typeof Op.SRAI:
            x[rd] = x[rs1]! >> imm;
            pc = npc;
            break;
          case 29 satisfies typeof Op.ADD:
            x[rd] = (x[rs1]! + x[rs2]!) | 0;
            pc = npc;
            break;
          case 30 satisfies typeof Op.SUB:
            x[rd] = (x[rs1]! - x[rs2]!) | 0;
            pc = npc;
            break;
          case 31 satisfies typeof Op.SLL:
            x[rd] = x[rs1]! << x[rs2]!;
            pc = npc;
            break;
          case 32 satisfies typeof Op.SLT:
            x[rd] = x[rs1]! < x[rs2]! ? 1 : 0;
            pc = npc;
            break;
          case 33 satisfies typeof Op.SLTU:
            x[rd] = x[rs1]! >>> 0 < x[rs2]! >>> 0 ? 1 : 0;
            pc = npc;
            break;
          case 34 satisfies typeof Op.XOR:
            x[rd] = x[rs1]! ^ x[rs2]!;
            pc = npc;
            break;
          case 35 satisfies typeof Op.SRL:
            x[rd] = x[rs1]! >>> x[rs2]!;
            pc = npc;
            break;
          case 36 satisfies typeof Op.SRA:
            x[rd] = x[rs1]! >> x[rs2]!;
            pc = npc;
            break;
          case 37 satisfies typeof Op.OR:
            x[rd] = x[rs1]! | x[rs2]!;
            pc = npc;
            break;
          case 38 satisfies typeof Op.AND:
            x[rd] = x[rs1]! & x[rs2]!;
            pc = npc;
            break;
          case 39 satisfies typeof Op.FENCE: // One hart, no caches to order
            pc = npc;
            break;
          case 42 satisfies typeof Op.MUL:
            x[rd] = Math.imul(x[rs1]!, x[rs2]!);
            pc = npc;
            break;
          case 43 satisfies typeof Op.MULH:
            x[rd] = mulh(x[rs1]!, x[rs2]!);
            pc = npc;
            break;
          case 44 satisfies typeof Op.MULHSU:
            x[rd] = mulhsu(x[rs1]!, x[rs2]!);
            pc = npc;
            break;
          case 45 satisfies typeof Op.MULHU:
            x[rd] = mulhu(x[rs1]!, x[rs2]!);
            pc = npc;
            break;
          case 46 satisfies typeof Op.DIV: {
            // Division by zero gives -1, overflow gives the dividend (unprivileged spec, "Division Operations")
            const a = x[rs1]!;
            const b = x[rs2]!;
            x[rd] = b === 0 ? -1 : a === -0x80000000 && b === -1 ? a : (a / b) | 0;
            pc = npc;
            break;
          }
          case 47 satisfies typeof Op.DIVU: {
            const b = x[rs2]! >>> 0;
            x[rd] = b === 0 ? -1 : (x[rs1]! >>> 0) / b;
            pc = npc;
            break;
          }
          case 48 satisfies typeof Op.REM: {
            const a = x[rs1]!;
            const b = x[rs2]!;
            x[rd] = b === 0 ? a : a === -0x80000000 && b === -1 ? 0 : a % b;
            pc = npc;
            break;
          }
          case 49 satisfies typeof Op.REMU: {
            const b = x[rs2]! >>> 0;
            x[rd] = b === 0 ? x[rs1]! : (x[rs1]! >>> 0) % b;
            pc = npc;
            break;
          }
          case 67 satisfies typeof Op.FENCE_I: // Stores already drop the decoded instructions they overwrite
            pc = npc;
            break;
          default: {
            // Atomics and system instructions: rare. Counters, traps and the firmware read the
            // position, so it is made exact first; the slice ends after them (privilege,
            // translations and interrupt enables may have changed).
            this.position += n - 1 - counted;
            counted = n - 1;
            this.pc = pc;
            this.system(op, rd, rs1, rs2, imm, npc);
            pc = this.pc;
            if (this.exit === EXIT_NONE) this.exit = EXIT_SYSTEM;
            break run;
          }
        }
        continue;
      }
      if (starts !== noStarts && pc >>> PAGE_SHIFT === fvpn && --starts[(pc & 0xfff) >> 1]! <= 0) {
        this.exit = EXIT_WARM;
        break;
      }
    }
    if (hpage >= 0) heat[hpage]! += n - hn;
    this.pc = pc;
    this.position += n - counted;
    return n - from;
  }

  /** Stands for the decoded page before the first fetch of a slice; never executed. */
  private readonly noCode: DecodedPage = new Int32Array(0);

  /**
   * Decodes the instruction at byte `k` of the page whose RAM offset is
   * `fbase` into the page, and returns its fields; 0 after a fetch fault.
   * A 32-bit instruction straddling two pages is never cached (its fields
   * stay 0, so it is decoded again each time it runs).
   */
  private decodeAt(code: DecodedPage, k: number, fbase: number, pc: number): number {
    const mem16 = this.mem16;
    const half = mem16[(fbase + k) >>> 1]!;
    const rec = this.scratch;
    if ((half & 3) !== 3) decodeInto(half, rec);
    else if (k !== 0xffe) decodeInto(half | (mem16[((fbase + k) >>> 1) + 1]! << 16), rec);
    else {
      const upper = this.fetchUpperHalf(pc);
      if (upper < 0) return 0;
      decodeInto(half | (upper << 16), rec);
      code[k + 1] = rec.imm;
      return rec.fields;
    }
    code[k] = rec.fields;
    code[k + 1] = rec.imm;
    this.decodedAt(fbase >>> PAGE_SHIFT, k);
    return rec.fields;
  }

  /** @internal An instruction of RAM page ppn, at byte k, is now in its decoded page (see codeExtent). */
  decodedAt(ppn: number, k: number): void {
    const extent = this.codeExtent[ppn]!;
    const lo = extent & 0xffff;
    const hi = extent >>> 16;
    if (k < lo || k >= hi) this.codeExtent[ppn] = (Math.min(lo, k) | (Math.max(hi, k + 1) << 16)) >>> 0;
  }

  private decodedPage(ppn: number): DecodedPage {
    let page = this.decoded[ppn];
    if (page === undefined) {
      page = newDecodedPage();
      this.decoded[ppn] = page;
      this.codePage[ppn] = 1;
      this.codeExtent[ppn] = EXTENT_EMPTY;
      // A flag other than 1 sends the next store to `touch`, which drops overwritten code.
      this.dirty[ppn]! |= HAS_CODE;
      this.dropWriteTranslations();
    }
    return page;
  }

  /** Atomics, CSRs, ecall/ebreak, xRET, wfi, sfence.vma. Sets this.pc. */
  private system(op: number, rd: number, rs1: number, rs2: number, imm: number, npc: number): void {
    const pc = this.pc;
    const x = this.x;
    switch (op) {
      case Op.ECALL:
        this.trap(Cause.ECALL_U + this.priv, 0, false, pc);
        return;
      case Op.EBREAK: // QEMU leaves mtval 0 (found by guests/timer)
        this.trap(Cause.BREAKPOINT, 0, false, pc);
        return;
      case Op.LR_W: {
        const a = x[rs1]!;
        if (this.triggerFires(LOAD, a, pc)) return;
        if (a & 3) return this.trap(Cause.LOAD_MISALIGNED, a >>> 0, false, pc);
        const pa = this.translate(a, READ, pc);
        if (pa < 0) return;
        const off = pa - RAM_BASE;
        if (off < 0 || off >= this.ramSize) return this.trap(Cause.LOAD_ACCESS, a >>> 0, false, pc);
        const v = this.mem32[off >>> 2]!;
        this.reservation = pa;
        this.reservedValue = v;
        x[rd] = v;
        this.checkReadWatch(a, 4);
        this.pc = npc;
        return;
      }
      case Op.SC_W: {
        // sc.w succeeds only while the reserved word still holds what lr.w read, as on QEMU.
        const a = x[rs1]!;
        if (this.triggerFires(STORE, a, pc)) return;
        if (a & 3) return this.trap(Cause.STORE_MISALIGNED, a >>> 0, false, pc);
        const pa = this.translate(a, WRITE, pc);
        if (pa < 0) return;
        const off = pa - RAM_BASE;
        if (off < 0 || off >= this.ramSize) return this.trap(Cause.STORE_ACCESS, a >>> 0, false, pc);
        const ok = this.reservation === pa && this.mem32[off >>> 2] === this.reservedValue;
        this.reservation = -1;
        if (ok) {
          this.writeRam(off, x[rs2]!, 4);
          this.watchStore(a, pa, 4);
        }
        x[rd] = ok ? 0 : 1;
        this.pc = npc;
        return;
      }
      case Op.AMOSWAP_W:
      case Op.AMOADD_W:
      case Op.AMOXOR_W:
      case Op.AMOAND_W:
      case Op.AMOOR_W:
      case Op.AMOMIN_W:
      case Op.AMOMAX_W:
      case Op.AMOMINU_W:
      case Op.AMOMAXU_W: {
        const a = x[rs1]!;
        // An AMO both loads and stores: a load or a store trigger matches it.
        if (this.triggerFires(LOAD | STORE, a, pc)) return;
        if (a & 3) return this.trap(Cause.STORE_MISALIGNED, a >>> 0, false, pc);
        const pa = this.translate(a, WRITE, pc);
        if (pa < 0) return;
        const off = pa - RAM_BASE;
        if (off < 0 || off >= this.ramSize) return this.trap(Cause.STORE_ACCESS, a >>> 0, false, pc);
        const old = this.mem32[off >>> 2]!;
        const b = x[rs2]!;
        this.writeRam(off, amo(op, old, b), 4);
        this.watchStore(a, pa, 4);
        if (this.stopReason === null) this.checkReadWatch(a, 4);
        x[rd] = old;
        this.pc = npc;
        return;
      }
      case Op.CSRRW:
      case Op.CSRRS:
      case Op.CSRRC:
      case Op.CSRRWI:
      case Op.CSRRSI:
      case Op.CSRRCI:
        this.csrInstruction(op, rd, rs1, imm, npc);
        return;
      case Op.MRET:
        if (this.priv < Priv.M) return this.trap(Cause.ILLEGAL, 0x30200073, false, pc);
        this.mret();
        return;
      case Op.SRET:
        if (this.priv === Priv.U || (this.priv === Priv.S && this.mstatus & MSTATUS.TSR))
          return this.trap(Cause.ILLEGAL, 0x10200073, false, pc);
        this.sret();
        return;
      case Op.WFI: // Illegal in U, and in S when TW is set (as QEMU)
        if (this.priv === Priv.U || (this.priv === Priv.S && this.mstatus & MSTATUS.TW))
          return this.trap(Cause.ILLEGAL, 0x10500073, false, pc);
        this.pc = npc;
        if ((this.mip() & this.mie) === 0) this.waiting = true;
        return;
      case Op.SFENCE_VMA:
        if (this.priv === Priv.U || (this.priv === Priv.S && this.mstatus & MSTATUS.TVM))
          return this.trap(Cause.ILLEGAL, (0x12000073 | (rs1 << 15) | (rs2 << 20)) >>> 0, false, pc);
        this.flushTlb();
        this.pc = npc;
        return;
      default:
        this.trap(Cause.ILLEGAL, 0, false, pc);
    }
  }

  private csrInstruction(op: number, rd: number, rs1: number, csr: number, npc: number): void {
    const immediate = ENCODINGS[op]!.format === 'CSRI';
    const write = op === Op.CSRRW || op === Op.CSRRWI;
    const set = op === Op.CSRRS || op === Op.CSRRSI;
    const src = immediate ? rs1 : this.x[rs1]! >>> 0;
    const writes = write || rs1 !== 0;
    const illegal = (): void => {
      // The instruction's bits for mtval: the row's opcode and funct3, and the operands.
      const rdBits = rd === X0_SINK ? 0 : rd;
      this.trap(
        Cause.ILLEGAL,
        (ENCODINGS[op]!.match | (csr << 20) | (rs1 << 15) | (rdBits << 7)) >>> 0,
        false,
        this.pc,
      );
    };
    const old = readCsr(this, csr);
    if (old === undefined || (writes && csrReadOnly(csr))) return illegal();
    if (writes) {
      // For mip, a read-modify-write sees the software SEIP bit only (privileged spec, "mip").
      const base = csr === CSR.mip ? (old & ~IRQ.SEI) | (this.mipSw & IRQ.SEI) : old;
      const value = write ? src : set ? base | src : base & ~src;
      const status = this.mstatus;
      writeCsr(this, csr, value, true);
      if (!keepsTranslations(csr) || ((status ^ this.mstatus) & TRANSLATION_BITS) !== 0) this.flushTlb();
    }
    this.x[rd] = old;
    this.pc = npc;
  }

  private mret(): void {
    const s = this.mstatus;
    const mpp = (s & MSTATUS.MPP) >>> 11;
    let next = s & ~(MSTATUS.MIE | MSTATUS.MPP);
    if (s & MSTATUS.MPIE) next |= MSTATUS.MIE;
    next |= MSTATUS.MPIE;
    if (mpp !== Priv.M) next &= ~MSTATUS.MPRV;
    this.mstatus = next >>> 0;
    this.triggers.mret();
    this.priv = mpp;
    this.pc = this.mepc | 0;
  }

  private sret(): void {
    const s = this.mstatus;
    const spp = (s & MSTATUS.SPP) >>> 8;
    let next = s & ~(MSTATUS.SIE | MSTATUS.SPP | MSTATUS.MPRV);
    if (s & MSTATUS.SPIE) next |= MSTATUS.SIE;
    next |= MSTATUS.SPIE;
    this.mstatus = next >>> 0;
    this.priv = spp;
    this.pc = this.sepc | 0;
  }

  /** Takes a trap: sets the CSRs, privilege and this.pc, and marks the slow path as trapped. */
  trap(cause: number, tval: number, interrupt: boolean, pc: number): void {
    const deleg = this.priv <= Priv.S && (((interrupt ? this.mideleg : this.medeleg) >>> cause) & 1) !== 0;
    const code = (interrupt ? 0x80000000 | cause : cause) >>> 0;
    const s = this.mstatus;
    if (!deleg && this.firmware !== null && this.priv !== Priv.M) {
      this.pc = pc;
      if (this.firmware(cause, interrupt, tval, pc)) {
        this.traps++;
        this.exit = EXIT_TRAP;
        this.selectTlb();
        return;
      }
    }
    if (deleg) {
      this.scause = code;
      this.sepc = pc >>> 0;
      this.stval = tval >>> 0;
      let next = s & ~(MSTATUS.SPIE | MSTATUS.SIE | MSTATUS.SPP);
      if (s & MSTATUS.SIE) next |= MSTATUS.SPIE;
      if (this.priv === Priv.S) next |= MSTATUS.SPP;
      this.mstatus = next >>> 0;
      this.priv = Priv.S;
      this.pc = ((this.stvec & ~3) + (interrupt && this.stvec & 1 ? 4 * cause : 0)) | 0;
    } else {
      this.mcause = code;
      this.mepc = pc >>> 0;
      this.mtval = tval >>> 0;
      let next = s & ~(MSTATUS.MPIE | MSTATUS.MIE | MSTATUS.MPP);
      if (s & MSTATUS.MIE) next |= MSTATUS.MPIE;
      next |= this.priv << 11;
      this.mstatus = next >>> 0;
      this.priv = Priv.M;
      this.triggers.trapToM();
      this.pc = ((this.mtvec & ~3) + (interrupt && this.mtvec & 1 ? 4 * cause : 0)) | 0;
    }
    this.traps++;
    this.exit = EXIT_TRAP;
  }

  // ---- memory: translation, PMP, slow paths ----

  /** Privilege that loads and stores use: MPRV makes M-mode accesses use MPP. */
  private dataPriv(): number {
    return this.priv === Priv.M && this.mstatus & MSTATUS.MPRV ? (this.mstatus & MSTATUS.MPP) >>> 11 : this.priv;
  }

  /**
   * Translates a virtual address and checks PMP. Returns the physical address
   * (≥ 0, possibly above 4 GiB with Sv32) or -1 after raising the fault.
   */
  private translate(va: number, access: number, pc: number, size = 1): number {
    const priv = access === EXEC ? this.priv : this.dataPriv();
    const v = va >>> 0;
    let pa = v;
    if (priv !== Priv.M && this.satp >>> 31 !== 0) {
      pa = this.walk(v, access, priv, pc);
      if (pa < 0) return -1;
    }
    if (!this.pmpAllows(pa, size, access, priv)) {
      this.trap(
        access === EXEC ? Cause.FETCH_ACCESS : access === READ ? Cause.LOAD_ACCESS : Cause.STORE_ACCESS,
        v,
        false,
        pc,
      );
      return -1;
    }
    return pa;
  }

  private pageFault(va: number, access: number, pc: number): number {
    this.trap(access === EXEC ? Cause.FETCH_PAGE : access === READ ? Cause.LOAD_PAGE : Cause.STORE_PAGE, va, false, pc);
    return -1;
  }

  /** Sv32 page walk (privileged spec, "Virtual Address Translation Process"), setting A and D as QEMU does. */
  private walk(va: number, access: number, priv: number, pc: number): number {
    let table = (this.satp & 0x3fffff) * 4096;
    let level = 1;
    let pte = 0;
    let pteAddr = 0;
    for (;;) {
      const index = level === 1 ? va >>> 22 : (va >>> 12) & 0x3ff;
      pteAddr = table + index * 4;
      const off = pteAddr - RAM_BASE;
      if (!this.pmpAllows(pteAddr, 4, READ, Priv.S) || off < 0 || off >= this.ramSize) {
        this.trap(
          access === EXEC ? Cause.FETCH_ACCESS : access === READ ? Cause.LOAD_ACCESS : Cause.STORE_ACCESS,
          va,
          false,
          pc,
        );
        return -1;
      }
      pte = this.mem32[off >>> 2]! >>> 0;
      if ((pte & PTE_V) === 0 || ((pte & PTE_R) === 0 && (pte & PTE_W) !== 0)) return this.pageFault(va, access, pc);
      if (pte & (PTE_R | PTE_X)) break;
      if (level === 0) return this.pageFault(va, access, pc);
      level = 0;
      table = (pte >>> 10) * 4096;
    }
    const ppn = pte >>> 10;
    if (level === 1 && (ppn & 0x3ff) !== 0) return this.pageFault(va, access, pc);
    if (access === EXEC) {
      if ((pte & PTE_X) === 0) return this.pageFault(va, access, pc);
      if (priv === Priv.U ? (pte & PTE_U) === 0 : (pte & PTE_U) !== 0) return this.pageFault(va, access, pc);
    } else {
      const readable = (pte & PTE_R) !== 0 || ((this.mstatus & MSTATUS.MXR) !== 0 && (pte & PTE_X) !== 0);
      if (access === READ && !readable) return this.pageFault(va, access, pc);
      if (access === WRITE && (pte & PTE_W) === 0) return this.pageFault(va, access, pc);
      if (priv === Priv.U && (pte & PTE_U) === 0) return this.pageFault(va, access, pc);
      if (priv === Priv.S && (pte & PTE_U) !== 0 && (this.mstatus & MSTATUS.SUM) === 0)
        return this.pageFault(va, access, pc);
    }
    const wantD = access === WRITE ? PTE_D : 0;
    if ((pte & PTE_A) === 0 || (pte & wantD) !== wantD) {
      if (!this.pmpAllows(pteAddr, 4, WRITE, Priv.S)) {
        this.trap(
          access === EXEC ? Cause.FETCH_ACCESS : access === READ ? Cause.LOAD_ACCESS : Cause.STORE_ACCESS,
          va,
          false,
          pc,
        );
        return -1;
      }
      this.writeRam(pteAddr - RAM_BASE, pte | PTE_A | wantD | 0, 4);
    }
    return level === 1 ? (ppn >>> 10) * 0x400000 + (va & 0x3fffff) : ppn * 4096 + (va & 0xfff);
  }

  /**
   * Derives the active PMP entries from pmpcfg/pmpaddr: called after every write to them and
   * after a restore, so that a check (every TLB refill and page walk) loops over active entries
   * only, with their bounds at hand.
   */
  pmpChanged(): void {
    const rules: number[] = [];
    let prev = 0;
    for (let i = 0; i < 16; i++) {
      const cfg = this.pmpcfg[i]!;
      const addr = this.pmpaddr[i]!;
      const mode = (cfg >>> 3) & 3;
      let lo = 0;
      let hi = 0;
      if (mode === 1) {
        lo = prev * 4;
        hi = addr * 4;
      } else if (mode === 2) {
        lo = addr * 4;
        hi = lo + 4;
      } else if (mode === 3) {
        // NAPOT: the number of trailing ones gives the size.
        const t = addr === 0xffffffff ? 32 : 31 - Math.clz32(~addr & (addr + 1));
        const span = 2 ** (t + 3);
        lo = Math.floor((addr * 4) / span) * span;
        hi = lo + span;
      }
      prev = addr;
      if (mode !== 0) rules.push(lo, hi, cfg);
    }
    this.pmpRules = rules;
  }

  /** PMP check of [pa, pa+size) (privileged spec, "Physical Memory Protection"). */
  private pmpAllows(pa: number, size: number, access: number, priv: number): boolean {
    const rules = this.pmpRules;
    for (let i = 0; i < rules.length; i += 3) {
      const lo = rules[i]!;
      const hi = rules[i + 1]!;
      if (pa + size <= lo || pa >= hi) continue;
      if (pa < lo || pa + size > hi) return false;
      const cfg = rules[i + 2]!;
      if (priv === Priv.M && (cfg & 0x80) === 0) return true;
      return ((cfg >>> access) & 1) !== 0;
    }
    return priv === Priv.M;
  }

  /** Whether a translation may be cached for a whole page: PMP gives the page one answer. */
  private pageCacheable(pa: number, access: number): boolean {
    const priv = access === EXEC ? this.priv : this.dataPriv();
    return this.pmpAllows(pa - (pa % 4096), 4096, access, priv);
  }

  /** Fills the fetch TLB for pc's page; returns the RAM offset of the page, or -1 after a trap. */
  private fetchPage(pc: number): number {
    const vpn = pc >>> PAGE_SHIFT;
    const e = vpn & TLB_MASK;
    this.fetchCacheable = true;
    if (this.xTag[e] === vpn) return this.xOff[e]!;
    const pa = this.translate(pc, EXEC, pc, 2);
    if (pa < 0) return -1;
    const off = pa - RAM_BASE;
    if (off < 0 || off >= this.ramSize) {
      this.trap(Cause.FETCH_ACCESS, pc >>> 0, false, pc);
      return -1;
    }
    const base = off - (off & 0xfff);
    this.fetchCacheable = this.pageCacheable(pa, EXEC);
    if (this.fetchCacheable) {
      this.xTag[e] = vpn;
      this.xOff[e] = base;
    }
    return base;
  }

  /** Upper half of an instruction whose lower half ends a page; -1 after a fetch fault. */
  private fetchUpperHalf(pc: number): number {
    const a = (pc + 2) | 0;
    const pa = this.translate(a, EXEC, pc);
    if (pa < 0) return -1;
    const off = pa - RAM_BASE;
    if (off < 0 || off >= this.ramSize) {
      this.trap(Cause.FETCH_ACCESS, a >>> 0, false, pc);
      return -1;
    }
    return this.mem16[off >>> 1]!;
  }

  /**
   * @internal A load that missed the TLB: returns true when the slice must end (this.pc says where to go on).
   * `pending`: steps of the slice before this one that `position` does not count yet.
   */
  load(op: number, rd: number, va: number, pc: number, npc: number, pending: number): boolean {
    const size = op === Op.LW ? 4 : op === Op.LH || op === Op.LHU ? 2 : 1;
    // A load address trigger: the lowest byte's address is compared (the one mtval reports).
    if (this.armedTriggers & LOAD && this.triggerFires(LOAD, va, pc)) return true;
    const v = this.loadSlow(va, size, pc, pending);
    if (this.exit === EXIT_TRAP) return true;
    this.x[rd] =
      op === Op.LB
        ? (v << 24) >> 24
        : op === Op.LH
          ? (v << 16) >> 16
          : op === Op.LBU
            ? v & 0xff
            : op === Op.LHU
              ? v & 0xffff
              : v;
    this.pc = npc;
    if (this.readWatchPages !== null) this.checkReadWatch(va, size);
    return this.exit === EXIT_MMIO || this.stopReason !== null;
  }

  /** @internal A store that missed the TLB: returns true when the slice must end (`pending` as for load). */
  store(size: AccessSize, va: number, value: number, pc: number, npc: number, pending: number): boolean {
    if (this.armedTriggers & STORE && this.triggerFires(STORE, va, pc)) return true;
    const tlb = this.dataTlb;
    const e = (va >>> PAGE_SHIFT) & DTLB_MASK;
    if (tlb.cTag[e] === va >>> PAGE_SHIFT && (va & (size - 1)) === 0) {
      // A page with code whose translation is known: no walk, and `touch` drops what it overwrites.
      this.writeRam(tlb.cOff[e]! | (va & 0xfff), value, size);
      this.pc = npc;
      return false;
    }
    this.storeSlow(va, value, size, pc, pending);
    if (this.exit === EXIT_TRAP) return true;
    this.pc = npc;
    return this.exit === EXIT_MMIO || this.stopReason !== null;
  }

  private loadSlow(va: number, size: AccessSize, pc: number, pending: number): number {
    this.exit = EXIT_NONE;
    if ((va & (size - 1)) !== 0) {
      // Misaligned: done byte by byte, as QEMU does (no trap).
      let v = 0;
      for (let k = 0; k < size; k++) {
        const b = this.loadSlow((va + k) | 0, 1, pc, pending);
        if (this.exit !== EXIT_NONE) return 0;
        v |= b << (8 * k);
      }
      return v;
    }
    const pa = this.translate(va, READ, pc, size);
    if (pa < 0) return 0;
    const off = pa - RAM_BASE;
    if (off >= 0 && off < this.ramSize) {
      // Pages watched for loads, and every page while a load trigger is enabled, stay out of the TLB.
      if (
        this.pageCacheable(pa, READ) &&
        (this.armedTriggers & LOAD) === 0 &&
        (this.readWatchPages === null || !this.readWatchPages.has(va >>> PAGE_SHIFT))
      ) {
        const e = (va >>> PAGE_SHIFT) & DTLB_MASK;
        this.dataTlb.noteFill(e);
        this.rTag[e] = va >>> PAGE_SHIFT;
        this.rOff[e] = off - (off & 0xfff);
      }
      return size === 4 ? this.mem32[off >>> 2]! : size === 2 ? this.mem16[off >>> 1]! : this.mem8[off]!;
    }
    // A device sees the exact position (its clock, where its output goes); the slice ends after it.
    this.position += pending;
    const v = pa < 2 ** 32 ? this.bus.read(pa, size) : undefined;
    this.position -= pending;
    if (v === undefined) {
      this.trap(Cause.LOAD_ACCESS, va >>> 0, false, pc);
      return 0;
    }
    this.exit = EXIT_MMIO;
    return v;
  }

  private storeSlow(va: number, value: number, size: AccessSize, pc: number, pending: number): void {
    this.exit = EXIT_NONE;
    if ((va & (size - 1)) !== 0) {
      for (let k = 0; k < size; k++) {
        this.storeSlow((va + k) | 0, value >>> (8 * k), 1, pc, pending);
        if (this.exit !== EXIT_NONE) return;
      }
      return;
    }
    const pa = this.translate(va, WRITE, pc, size);
    if (pa < 0) return;
    const off = pa - RAM_BASE;
    if (off >= 0 && off < this.ramSize) {
      this.writeRam(off, value, size);
      if (!this.watchStore(va, pa, size) && this.pageCacheable(pa, WRITE) && (this.armedTriggers & STORE) === 0) {
        const e = (va >>> PAGE_SHIFT) & DTLB_MASK;
        const tlb = this.dataTlb;
        tlb.noteFill(e);
        // The fast path's, or (a page with code) store()'s own, which calls touch.
        const fast = (this.dirty[off >>> PAGE_SHIFT]! & HAS_CODE) === 0;
        (fast ? tlb.wTag : tlb.cTag)[e] = va >>> PAGE_SHIFT;
        (fast ? tlb.wOff : tlb.cOff)[e] = off - (off & 0xfff);
      }
      return;
    }
    this.position += pending;
    const written = pa < 2 ** 32 && this.bus.write(pa, value, size);
    this.position -= pending;
    if (!written) {
      this.trap(Cause.STORE_ACCESS, va >>> 0, false, pc);
      return;
    }
    this.exit = EXIT_MMIO;
  }

  /** Writes RAM at a byte offset, marking the page dirty and dropping decoded code it overwrites. */
  private writeRam(off: number, value: number, size: number): void {
    if (size === 4) this.mem32[off >>> 2] = value;
    else if (size === 2) this.mem16[off >>> 1] = value;
    else this.mem8[off] = value;
    this.touch(off, size);
  }

  /**
   * After a store of `size` bytes at RAM offset `off`: marks the page dirty
   * and forgets decoded instructions that overlap the bytes written. The
   * flag is 1 (DIRTY) for a dirty page without code and 3 (DIRTY | HAS_CODE)
   * for one with code, so the store fast path calls here only when it must.
   * @internal
   */
  touch(off: number, size: number): void {
    const ppn = off >>> PAGE_SHIFT;
    if (this.codePage[ppn] === 0) {
      this.dirty[ppn] = DIRTY;
      return;
    }
    this.dirty[ppn] = DIRTY | HAS_CODE;
    const page = this.decoded[ppn];
    if (page === undefined) return;
    const inPage = off & 0xfff;
    // An instruction starting up to 2 bytes before the store may overlap it.
    const from = Math.max(0, (inPage - 2) & ~1);
    if (this.jit !== undefined) this.jit.codeWritten(ppn, from, inPage + size);
    for (let k = from; k < inPage + size; k += 2) page[k] = 0;
  }

  /** CPU state by name (registers, CSRs, counters): plain data. */
  saveState(): Record<string, unknown> {
    const state: Record<string, unknown> = { version: 1, x: Array.from(this.x.subarray(0, 32)), pc: this.pc >>> 0 };
    for (const key of SCALAR_FIELDS) state[key] = this[key];
    state.counterOffset = Array.from(this.counterOffset);
    state.counterFrozen = Array.from(this.counterFrozen);
    state.pmpcfg = Array.from(this.pmpcfg);
    state.pmpaddr = Array.from(this.pmpaddr);
    // Left out at reset values, so that states (and state hashes) of machines that never use triggers are as before them.
    if (!this.triggers.atReset()) {
      const t = this.triggers;
      state.triggers = {
        tselect: t.tselect,
        tcontrol: t.tcontrol,
        tdata1: Array.from(t.tdata1),
        tdata2: Array.from(t.tdata2),
      };
    }
    return state;
  }

  /** Restores what saveState returned; throws RewindError('bad-state') on anything malformed. */
  loadState(state: Record<string, unknown>): void {
    const r = new StateReader('cpu', state, 1);
    const x = r.numbers('x', 32);
    this.x.set(x);
    this.x[32] = 0;
    this.pc = r.number('pc') | 0;
    for (const key of SCALAR_FIELDS) {
      if (key === 'waiting') this.waiting = r.boolean(key);
      else (this as Record<string, unknown>)[key] = r.number(key);
    }
    this.counterOffset.set(r.numbers('counterOffset', 6));
    this.counterFrozen.set(r.numbers('counterFrozen', 6));
    this.pmpcfg.set(r.numbers('pmpcfg', 16));
    this.pmpaddr.set(r.numbers('pmpaddr', 16));
    this.pmpChanged();
    this.loadTriggers(state.triggers);
    // Translations depend on what was loaded (satp, the privilege, PMP); decoded code only on RAM.
    this.flushTlb();
  }

  /** Trigger state as saveState wrote it; absent (older states, or at reset) means as at reset. */
  private loadTriggers(saved: unknown): void {
    const t = this.triggers;
    t.reset();
    if (saved !== undefined) {
      if (typeof saved !== 'object' || saved === null) new StateReader('cpu', {}).fail('triggers is not a record');
      const r = new StateReader('cpu.triggers', saved as Record<string, unknown>);
      t.tselect = r.number('tselect');
      t.tcontrol = r.number('tcontrol');
      t.tdata1.set(r.numbers('tdata1', TRIGGER_COUNT));
      t.tdata2.set(r.numbers('tdata2', TRIGGER_COUNT));
    }
    this.armTriggers();
  }

  /** Reads RAM for the debugger and devices without side effects; undefined outside RAM. */
  readPhysical(pa: number, size: AccessSize): number | undefined {
    const off = pa - RAM_BASE;
    if (off < 0 || off + size > this.ramSize) return undefined;
    let v = 0;
    for (let k = 0; k < size; k++) v |= this.mem8[off + k]! << (8 * k);
    return size === 4 ? v : v >>> 0;
  }
}

function amo(op: number, old: number, b: number): number {
  switch (op) {
    case Op.AMOSWAP_W:
      return b;
    case Op.AMOADD_W:
      return (old + b) | 0;
    case Op.AMOXOR_W:
      return old ^ b;
    case Op.AMOAND_W:
      return old & b;
    case Op.AMOOR_W:
      return old | b;
    case Op.AMOMIN_W:
      return old < b ? old : b;
    case Op.AMOMAX_W:
      return old > b ? old : b;
    case Op.AMOMINU_W:
      return old >>> 0 < b >>> 0 ? old : b;
    default:
      return old >>> 0 > b >>> 0 ? old : b; // Op.AMOMAXU_W
  }
}
