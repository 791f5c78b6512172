/**
 * The JIT executor: a second executor over the interpreter's decoded records
 * (STYLE note 12). Hot basic blocks become JS functions (compile.ts); cold
 * code, system instructions, fetch-TLB misses and everything unusual run in
 * the interpreter (`cpu.run(k, true)`), which stays the reference.
 *
 * Blocks are keyed by (physical page, offset), found after the fetch
 * translation the interpreter already keeps (xTag/xOff), so TLB flushes
 * never invalidate them. They die when their decoded page is dropped
 * (a checkpoint restore that rewrites the page, DMA: the page object changes) or when a store
 * overlaps them (`Cpu.touch` calls `codeWritten`).
 *
 * Exactness: a block runs only when its whole length fits the slice's
 * remaining budget, otherwise the interpreter runs the exact remainder; a
 * compiled block returns exactly the steps it ran (a trapping instruction
 * counts, as in the interpreter) and ends the slice wherever the
 * interpreter would (traps, MMIO, retries, watchpoints). See docs/jit.md.
 */
import { type Cpu, type CpuExecutor, EXIT_WARM, LEAD } from '../cpu.js';
import type { AccessSize } from '../device.js';
import { type DecodedPage, type DecodedRecord, decodeInto } from '../isa/decode.js';
import { Op } from '../isa/table.js';
import { type BasicBlock, compilable, endsBlock, regionSource } from './compile.js';
import { EXIT, IMPORTS, RECORD, regionModule } from './wasm.js';

/** A compiled block: see compile.ts. */
type BlockFn = (pc0: number, budget: number) => number;
type Factory = (...args: unknown[]) => BlockFn;

/**
 * Compiled WebAssembly modules by a digest of their bytes (FNV-1a; the bytes are compared on a
 * hit), shared by every hart of this host (each instantiates one with its own memory): a region
 * compiled again after a restore or in a seek's machine costs an instantiation.
 */
const modules = new Map<number, { bytes: Uint8Array; module: WebAssembly.Module }[]>();

/** The module of `bytes` from the cache, or compiled (and cached). */
function moduleOf(bytes: Uint8Array<ArrayBuffer>): WebAssembly.Module {
  let h = 0x811c9dc5 ^ bytes.length;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  const same = modules.get(h);
  const found = same?.find((m) => m.bytes.length === bytes.length && m.bytes.every((b, i) => b === bytes[i]));
  if (found !== undefined) return found.module;
  const module = new WebAssembly.Module(bytes);
  if (modules.size >= MAX_FACTORIES) modules.delete(modules.keys().next().value!);
  if (same === undefined) modules.set(h, [{ bytes, module }]);
  else same.push({ bytes, module });
  return module;
}

/**
 * Generated code by source, shared by every hart of this host: closures made
 * by one factory share V8's feedback and optimized code, so a machine built
 * for a seek or a replay runs the same guest code warm at once.
 */
const factories = new Map<string, Factory>();
const MAX_FACTORIES = 20_000;

/**
 * How often a basic block runs in the interpreter before a region is
 * compiled from it. V8 runs new code in its own interpreter until it has
 * seen it often, so compiling code that runs only some thousand times
 * loses: with 32, a Linux boot compiled 3,700 regions and ran several
 * times slower than on the interpreter alone.
 */
const HOT = 2048;
/**
 * Loops that run their body once, around a region function's body: V8 then never compiles the
 * function for on-stack replacement (OSR). V8 requests that code when a function it marked for
 * optimizing still loops in its unoptimized code, at a loop nested less deep than an urgency that
 * grows while it waits (six at most, in Node 20's V8). A region's optimized code that meets an
 * operation it has no type feedback for (a path first taken later) is thrown away, and a function
 * with OSR code then goes on entering that code from its first loop at every call, never marked
 * for optimizing again as most of its time is spent there: the suite's bytecode interpreter ran
 * at 560 MIPS that way for the rest of its 10⁹ steps, 800 without OSR. V8 versions that cap the
 * depth they compare (Chromium's) make such code only later.
 */
const OSR_GUARD = Array.from({ length: 6 }, (_, i) => `for (let o${i} = 0; o${i} < 1; o${i}++) `).join('');
/** Most steps of one call of a region function (see run). */
const CALL_BUDGET = 1 << 14;
/** Calls of a new region with budget 0 (see compile): enough for V8 to record the epilogue's feedback. */
const EPILOGUE_CALLS = 40;
/**
 * Most steps of one interpreter run for the dispatcher (it also stops on entering a warm page,
 * and in a warm page at a counted basic block start: see Cpu.run): a bound on how long code
 * that just got warm keeps running in the interpreter.
 */
const COLD_RUN = 1 << 16;
/**
 * A page is warm (its basic block starts are counted, so that its hot blocks get compiled) once
 * the interpreter has run WARM steps in it, a count halved every DECAY steps the interpreter
 * runs: only code that keeps the interpreter busy (a quarter of its time or more, for a while)
 * pays for the compiler and V8's own tiers. V8 runs fresh code in its own interpreter for a
 * while: a Linux boot, whose time is spread over hundreds of pages, took 1.6 to 3.5 times the
 * interpreter's time when warm meant "a start seen 128 times". Counted in the interpreter's
 * steps, not the hart's: once the rest is compiled, the page the interpreter still runs is
 * the one to compile (libgcc's 64-bit division in divmul: a fifth of the hart's steps, and
 * never warm when the heat was halved every 2 M steps of the hart, as in slices of 2 M steps).
 */
const WARM = 1_000_000;
const DECAY = 2_000_000;
/** Longest basic block, in instructions. */
const MAX_BLOCK = 128;
/** Most basic blocks and instructions in one compiled region. */
const MAX_REGION_BLOCKS = 8;
const MAX_REGION_INSNS = 384;
/**
 * A region that leaves GROW_AFTER times by one of its branches or jumps (not a call or a
 * return) for one basic block of its page is compiled again from its entry and that block, up
 * to MAX_GROWN_BLOCKS basic blocks and MAX_GROWN_INSNS instructions, MAX_GROWTHS times at most.
 * Regions of one function that hand the hart to each other at every turn (a quicksort's
 * partition loops and recursion, more than the eight blocks of a first region) then keep it,
 * without a return to the dispatcher and a reload of the registers each time. Calls and
 * returns alone do not grow a region, and a region grows once: each growth is a new function
 * that V8 warms up again, and a bigger one, whose loops it compiles less well.
 */
const GROW_AFTER = 4096;
const MAX_GROWTHS = 1;
const MAX_GROWN_BLOCKS = 24;
const MAX_GROWN_INSNS = 1024;
/** Times a region takes in hot basic blocks that go on into it (see Jit.absorber), and blocks each time at most. */
const MAX_ABSORPTIONS = 2;
const MAX_ABSORBED = 16;
/** Basic blocks followed from a hot one to find the region it goes on into (see Jit.absorber). */
const ABSORB_REACH = 8;
/**
 * A small leaf function that a region calls and leaves for (through a pointer, a comparator or a
 * callback; or directly, when the region's room ran out before it), taken in whole by the region
 * (see Jit.leaf): its basic blocks and instructions at most, and such functions a region takes in
 * at most.
 */
const LEAF_BLOCKS = 8;
const LEAF_INSNS = 64;
const MAX_LEAVES = 6;
/** Most basic blocks of a region that took blocks in (a function's switch and its cases). */
const MAX_ABSORBING_BLOCKS = 40;

/** A region: basic blocks of one page from an entry; compiled once hot. */
interface Block {
  /** Byte offset in the page of the entry. */
  readonly start: number;
  /** Byte ranges [start, end) in the page of its basic blocks, as pairs. */
  ranges: number[];
  fn: BlockFn | null;
  /**
   * Once compiled: instructions of each of its basic blocks, by halfword of the page (where fn
   * may be entered); 0 where none starts. A typed array: the dispatcher looks here after every call.
   */
  lens: Uint8Array | null;
  dead: boolean;
  /** Index in PageBlocks.list. */
  index: number;
  /** Once compiled: 1 at each halfword outside it that its branches and jumps go to (where it may grow). */
  branchesOut: Uint8Array | null;
  /** Once compiled: 1 at each halfword of the page its basic blocks cover (an exit to one it does not start a block at is a slow path's or a trap's). */
  covers: Uint8Array | null;
  /** Page offsets of the blocks it grew by (see GROW_AFTER and Jit.absorber). */
  grown: number[];
  /** Times it took in basic blocks that go on into it (see Jit.absorber). */
  absorbed: number;
  /** Page offsets of the small leaf functions it took in (see Jit.leaf). */
  leaves: number[];
}

interface PageBlocks {
  readonly ppn: number;
  readonly code: DecodedPage;
  readonly list: Block[];
  /** How many live blocks cover each halfword (a cheap test for stores into data). */
  readonly cover: Uint16Array;
  /** Returns to the dispatcher from a region's branches to each halfword of the page, since the last growth there. */
  readonly exits: Uint16Array;
  /** The region that last left for each halfword of the page, not one of its own basic blocks (see Jit.absorber). */
  readonly leftFrom: (Block | undefined)[];
  /**
   * A compiled region with a basic block starting at each halfword (its own entry first): the
   * hart comes back into the middle of a region after a call into another page returns, a
   * trap handler's xRET, a slow path or a slice's end, and goes on in it there.
   */
  readonly inside: (Block | undefined)[];
  /**
   * Runs left before a basic block starting at each halfword gets compiled (see
   * CpuExecutor.pages): `hot` at first, 0 where a compiled region has a basic block (so the
   * interpreter stops there), NEVER where the instruction is left to the interpreter.
   */
  readonly starts: Int32Array;
}

/** A start count the interpreter never takes down to 0. */
const NEVER = 2 ** 30;

/** Shared with compiled code: set when the slice must end. */
interface Signals {
  stop: number;
}

/** Whether code generation works, and why not. */
export interface JitSupport {
  ok: boolean;
  /** Empty when ok; else a sentence for the user. */
  reason: string;
}

/**
 * Tries to generate code with `make` (default `new Function`): a page whose
 * content security policy forbids 'unsafe-eval' throws an EvalError here.
 */
export function probeCodegen(make: (source: string) => unknown = (source) => new Function(source)): JitSupport {
  try {
    const f = make('return 1') as () => number;
    if (f() === 1) return { ok: true, reason: '' };
    return { ok: false, reason: 'code generation does not work here; using the interpreter' };
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return { ok: false, reason: `code generation is not allowed here (${why}); using the interpreter` };
  }
}

let support: JitSupport | null = null;

/** probeCodegen(), asked once per host. */
export function jitSupported(): JitSupport {
  support ??= probeCodegen();
  return support;
}

export interface JitOptions {
  /** Runs in the interpreter before a region is compiled (default 2,048; tests use 1 or 2). */
  hot?: number;
  /** Interpreter steps in a page before it is warm (default 1,000,000; with a smaller `hot`, `hot - 1`). */
  warm?: number;
  /** Steps of one call of a region at most (default 16,384; the warm-up uses less: core/warmup.ts). */
  callBudget?: number;
  /** Exits by one branch before a region grows (default 4,096; the warm-up uses less). */
  growAfter?: number;
  /** Interpreter steps between halvings of the heat (default 2,000,000; the warm-up uses less). */
  decay?: number;
  /** How to check that code generation works (tests); default jitSupported(). */
  probe?: () => JitSupport;
  /**
   * What regions compile to: 'wasm' (the default, where RAM lives in a WebAssembly memory and
   * the host compiles modules: see wasm.ts) or 'js' (compile.ts; also wasm's fallback).
   */
  target?: 'wasm' | 'js';
}

export class Jit implements CpuExecutor {
  /** Regions compiled (in WebAssembly of them), invalidated and grown, and calls of region functions, so far (for benches and tests). */
  readonly stats = { compiled: 0, wasm: 0, invalidated: 0, calls: 0, grown: 0 };
  /** By RAM page (filled with undefined from the start: a sparse array would be slow to index); the interpreter counts in their `starts`. */
  readonly pages: (PageBlocks | undefined)[];
  private readonly signals: Signals = { stop: 0 };
  private readonly scratch: DecodedRecord = { fields: 0, imm: 0 };
  private readonly mem16: Uint16Array;
  private readonly factoryArgs: unknown[];
  /** After a store into a page with decoded code: whether it overwrote the running region. */
  private readonly touch = (b: Block, o: number, size: number): boolean => {
    this.cpu.touch(o, size);
    return b.dead;
  };
  /**
   * A load the fast path could not do, by the interpreter's slow path; returns the region's
   * steps. Out of line, so that compiled code reads no property it has no feedback for.
   */
  private readonly slow = (
    op: number,
    rd: number,
    a: number,
    pcb: number,
    off: number,
    npc: number,
    c: number,
  ): number => {
    // True when the slow path ended the slice (trap, MMIO, watchpoint).
    if (this.cpu.load(op, rd, a, (pcb + off) | 0, npc, c - 1)) this.signals.stop = 1;
    return c;
  };
  /**
   * A store the fast path could not do, by the interpreter's slow path, in place (see
   * compile.ts): `c + dd` steps so far with it. True when the region must end after it: the
   * slice ends (trap, MMIO, watchpoint), or the store overwrote the region's own code.
   */
  private readonly put = (
    b: Block,
    a: number,
    v: number,
    size: AccessSize,
    pcb: number,
    off: number,
    next: number,
    c: number,
    dd: number,
  ): boolean => {
    if (this.cpu.store(size, a, v, (pcb + off) | 0, (pcb + next) | 0, c + dd - 1)) {
      this.signals.stop = 1;
      return true;
    }
    return b.dead;
  };
  /** The exit record of WebAssembly regions (see wasm.ts), or null when regions compile to JS. */
  private wasmExit: Int32Array | null;

  /** Runs in the interpreter before a region is compiled (see HOT). */
  readonly hot: number;
  /** Interpreter steps in a page before its basic block starts are counted (see WARM). */
  readonly warmAt: number;
  /** Interpreter steps by RAM page (counted by Cpu.run, see CpuExecutor). */
  readonly heat: Float64Array;
  /** Steps of one call of a region function at most (see CALL_BUDGET). */
  private readonly callBudget: number;
  /** Exits by one branch before a region grows (see GROW_AFTER). */
  private readonly growAfter: number;
  /** Whether the last run ended for its limit (not a trap or a system instruction): see run. */
  private sliceEnded = false;
  /** Steps the interpreter ran for this JIT since the last decay of the heat. */
  private interpreted = 0;
  /** Interpreter steps between decays of the heat (see DECAY). */
  private readonly decayEvery: number;
  /**
   * Virtual pages seen warm through the fetch TLB, by its index (a hint that outlives TLB
   * flushes: after a trap, an xRET or a CSR write, the hart usually goes on in the same pages).
   */
  private readonly warmTag = new Int32Array(256).fill(-1);

  constructor(
    private readonly cpu: Cpu,
    options: JitOptions = {},
  ) {
    this.hot = options.hot ?? HOT;
    this.callBudget = options.callBudget ?? CALL_BUDGET;
    this.growAfter = options.growAfter ?? GROW_AFTER;
    this.decayEvery = options.decay ?? DECAY;
    this.pages = new Array<PageBlocks | undefined>(cpu.ram.pageCount).fill(undefined);
    this.warmAt = options.warm ?? (this.hot >= HOT ? WARM : Math.max(0, this.hot - 1));
    this.heat = new Float64Array(Math.ceil(cpu.ram.size / 4096));
    const ram = cpu.ram;
    this.mem16 = ram.halves;
    this.factoryArgs = [
      cpu,
      cpu.x,
      ram.bytes,
      cpu.mem8s,
      ram.halves,
      cpu.mem16s,
      ram.words,
      this.touch,
      this.slow,
      this.put,
    ];
    this.wasmExit =
      options.target !== 'js' && ram.wasm !== null
        ? new Int32Array(ram.wasm.buffer, LEAD.EXIT, Object.keys(RECORD).length)
        : null;
  }

  run(limit: number): number {
    const cpu = this.cpu;
    // Breakpoints are checked at every instruction: the interpreter does that exactly.
    if (cpu.breakpoints !== null) return cpu.run(limit, true);
    const xTag = cpu.xTag;
    const xOff = cpu.xOff;
    const decoded = cpu.decoded;
    const x = cpu.x;
    const signals = this.signals;
    let n = 0;
    /**
     * Whether the pc is not to be counted as a basic block start (see below): the interpreter
     * stopped there for its count, or the last slice ended there, anywhere in a basic block
     * (counting such places would compile regions entered at each).
     */
    let counted = this.sliceEnded;
    /** Whether the run ends for its limit (see sliceEnded), not a stop. */
    let ended = true;
    let vpnNow = -1;
    /** Region calls, added to stats.calls on the way out (a field's increment per call cost ~5 % of a call-heavy guest's dispatch). */
    let calls = 0;
    let pb: PageBlocks | undefined;
    slice: while (n < limit) {
      const pc = cpu.pc;
      const vpn = pc >>> 12;
      const room = limit - n;
      /** Steps for the interpreter; 0 while the dispatcher may enter a region. */
      let want = 0;
      if (vpn !== vpnNow) {
        const e = vpn & 255;
        const code = xTag[e] === vpn ? decoded[xOff[e]! >>> 12] : undefined;
        if (code === undefined) {
          // Fetch TLB miss (or a page the interpreter has not decoded yet): the interpreter fills
          // it and runs on until it enters a warm page; so in a page that is warm already, it
          // would run on up to its next counted block start (or COLD_RUN steps). Every trap, xRET
          // and CSR write flushes the TLB, so in a page seen warm before (and with every page
          // warm, warmAt 0, tests) one step, as the dispatcher then looks at the page at once: a
          // guest taking an interrupt every few thousand steps, or a kernel's user space making
          // system calls, would otherwise run mostly in the interpreter.
          want = this.warmAt === 0 || this.warmTag[e] === vpn ? 1 : room < COLD_RUN ? room : COLD_RUN;
        } else {
          const ppn = xOff[e]! >>> 12;
          if (this.heat[ppn]! < this.warmAt) {
            // A cold page runs in the interpreter, in long runs that stop on entering a warm page;
            // the interpreter counts its steps by page (the heat). Only pages where it spends much
            // of its time have their block starts counted and compiled (see WARM).
            want = room < COLD_RUN ? room : COLD_RUN;
          } else {
            // Warm for good (the decay leaves it so), until its code is rewritten.
            this.heat[ppn] = Infinity;
            this.warmTag[e] = vpn;
            pb = this.pages[ppn];
            if (pb === undefined || pb.code !== code) pb = this.newPage(ppn, code);
            vpnNow = vpn;
          }
        }
      }
      if (want === 0) {
        const h = (pc & 0xfff) >> 1;
        let b = pb!.inside[h];
        // The interpreter counts the basic block starts of a warm page (Cpu.run) and stops at one
        // whose count is spent: a compiled region's, or one that has run `hot` times. Any other pc
        // the dispatcher finds the hart at is counted here: where a region left (a branch, a call,
        // a return), or where a run begins (after a system instruction or a trap, a block starts).
        if (b === undefined) {
          if (!counted) pb!.starts[h]!--;
          if (pb!.starts[h]! <= 0) b = this.hotStart(pb!, h << 1, pc);
        }
        counted = false;
        if (b !== undefined && b.lens![h]! <= room) {
          // A call runs at most CALL_BUDGET steps, then the region is entered again where it
          // stopped: V8 then optimizes it as a whole function soon, rather than living on the
          // slower on-stack-replacement code of a first call that loops for long.
          let at = pc;
          for (;;) {
            const left = limit - n;
            const r = b.fn!(at, left < this.callBudget ? left : this.callBudget);
            calls++;
            n += r;
            cpu.position += r;
            if (signals.stop !== 0) {
              signals.stop = 0;
              ended = false;
              break slice;
            }
            at = cpu.pc;
            if (r === 0) {
              // It left before its first instruction: one straddling the page end whose upper
              // half or next page is not what it was compiled for (see compile.ts). The
              // interpreter runs it.
              want = 1;
              break;
            }
            if (b.dead || ((at ^ pc) & -4096) !== 0) break;
            const ah = (at & 4095) >> 1;
            let len = b.lens![ah]!;
            if (len === 0) {
              if (b.branchesOut![ah] !== 0) this.left(pb!, b, at);
              // An indirect jump or a call, not a return (one goes where ra points): see absorber.
              else if (at !== x[1]) this.jumpedOut(pb!, b, at);
              // Into another region of the page: entered here, as the slice's head would.
              const o = pb!.inside[ah];
              if (o === undefined) break;
              b = o;
              len = o.lens![ah]!;
            }
            if (len > limit - n) break;
          }
          if (want === 0) continue;
        } else {
          // The interpreter, counting block starts, up to the next one it must stop at (or the
          // exact remainder of the slice, when a region does not fit it).
          want = room < COLD_RUN ? room : COLD_RUN;
        }
      }
      const r = cpu.run(n + want, true, n);
      n += r;
      // The heat is a rate: halved every DECAY steps of the interpreter, so that only code that
      // keeps it busy gets warm, not code that merely runs now and then over a long boot.
      this.interpreted += r;
      if (this.interpreted >= this.decayEvery) this.decay();
      if (cpu.exit === EXIT_WARM) {
        // Stopped at a warm page or a block start: the slice goes on (and no stale exit code stays behind).
        cpu.exit = 0;
        counted = true;
      } else if (r < want || cpu.exit !== 0 || cpu.stopReason !== null) {
        ended = false;
        break;
      }
    }
    this.sliceEnded = ended;
    this.stats.calls += calls;
    return n;
  }

  /** Halves the heat of every page (see run). */
  private decay(): void {
    this.interpreted = 0;
    // Branch-free over every page (warm ones stay Infinity): 16 k pages every DECAY steps.
    const heat = this.heat;
    for (let i = 0; i < heat.length; i++) heat[i]! *= 0.5;
  }

  codeWritten(ppn: number, from: number, to: number): void {
    const pb = this.pages[ppn];
    if (pb === undefined) return;
    const cover = pb.cover;
    let hit = false;
    for (let h = from >> 1; h < (to + 1) >> 1 && h < 2048; h++) {
      if (cover[h] !== 0) {
        hit = true;
        break;
      }
    }
    if (!hit) return;
    // Code that is being rewritten: the page must earn its heat again before it is compiled.
    this.heat[ppn] = 0;
    for (let i = pb.list.length - 1; i >= 0; i--) {
      const b = pb.list[i]!;
      const r = b.ranges;
      for (let j = 0; j < r.length; j += 2) {
        if (r[j]! < to && r[j + 1]! > from) {
          this.kill(pb, b);
          break;
        }
      }
    }
  }

  private newPage(ppn: number, code: DecodedPage): PageBlocks {
    const old = this.pages[ppn];
    if (old !== undefined) for (let i = old.list.length - 1; i >= 0; i--) this.kill(old, old.list[i]!);
    const pb: PageBlocks = {
      ppn,
      code,
      list: [],
      cover: new Uint16Array(2048),
      exits: new Uint16Array(2048),
      leftFrom: new Array(2048).fill(undefined),
      inside: new Array(2048),
      starts: new Int32Array(2048).fill(this.hot),
    };
    this.pages[ppn] = pb;
    return pb;
  }

  private kill(pb: PageBlocks, b: Block): void {
    b.dead = true;
    this.stats.invalidated++;
    this.leave(pb, b);
    this.cover(pb, b.ranges, -1);
    const last = pb.list.pop()!;
    if (last !== b) {
      pb.list[b.index] = last;
      last.index = b.index;
    }
  }

  /** Makes region b's basic blocks places to enter it (see PageBlocks.inside); its own entry is always its. */
  private enter(pb: PageBlocks, b: Block): void {
    const lens = b.lens!;
    const inside = pb.inside;
    for (let h = 0; h < 2048; h++) {
      if (lens[h] === 0) continue;
      if (h << 1 === b.start || inside[h] === undefined) inside[h] = b;
      pb.starts[h] = 0;
    }
  }

  /** Takes region b out of PageBlocks.inside, handing its places to other live regions with a basic block there. */
  private leave(pb: PageBlocks, b: Block): void {
    const inside = pb.inside;
    for (let h = 0; h < 2048; h++) {
      if (inside[h] !== b) continue;
      // Another live region with a basic block there, the one entered there first.
      let by: Block | undefined;
      for (const o of pb.list)
        if (o !== b && !o.dead && o.lens !== null && o.lens[h] !== 0 && (by === undefined || o.start === h << 1))
          by = o;
      inside[h] = by;
      // No region there any more: the start must earn its runs again.
      if (inside[h] === undefined) pb.starts[h] = this.hot;
    }
  }

  private cover(pb: PageBlocks, ranges: readonly number[], by: number): void {
    for (let j = 0; j < ranges.length; j += 2)
      // A range ends past the page when it holds an instruction straddling the page end.
      for (let h = ranges[j]! >> 1; h < Math.min(ranges[j + 1]!, 4096) >> 1; h++) pb.cover[h]! += by;
  }

  /**
   * The basic block starting at byte k of the page: the instructions up to
   * a control transfer, an instruction the compiler leaves to the
   * interpreter, a 32-bit instruction straddling the page end, or the page
   * end. Decodes into the shared decoded page as the interpreter would.
   * `stop` is the op that ended it before being included (Op.ILLEGAL for an
   * illegal instruction or one undecodable here, Op.UNDECODED = 0 for none).
   */
  private basicBlock(pb: PageBlocks, k: number): BasicBlock & { stop: number } {
    const code = pb.code;
    const base = pb.ppn << 12;
    let off = k;
    let stop: number = Op.UNDECODED;
    const insns: BasicBlock['insns'] = [];
    while (off < 4096 && insns.length < MAX_BLOCK) {
      let f = code[off]!;
      if (f === 0) {
        const half = this.mem16[(base + off) >>> 1]!;
        if ((half & 3) === 3 && off === 0xffe) {
          // Straddling the page end (never cached in the decoded page, as in the interpreter): its
          // upper half as the next physical page holds it now, which the compiled code checks.
          const next = base + 4096;
          const rec = this.scratch;
          if (next >= this.mem16.length * 2) {
            stop = Op.ILLEGAL;
            break;
          }
          const upper = this.mem16[next >>> 1]!;
          decodeInto(half | (upper << 16), rec);
          const op = rec.fields & 127;
          if (!compilable(op)) {
            stop = op;
            break;
          }
          insns.push({ fields: rec.fields, imm: rec.imm, delta: off, upper: { half: upper, page: next } });
          off += 4;
          break;
        }
        const rec = this.scratch;
        decodeInto((half & 3) !== 3 ? half : half | (this.mem16[((base + off) >>> 1) + 1]! << 16), rec);
        code[off] = rec.fields;
        code[off + 1] = rec.imm;
        this.cpu.decodedAt(pb.ppn, off);
        f = rec.fields;
      }
      const op = f & 127;
      if (!compilable(op)) {
        stop = op;
        break;
      }
      insns.push({ fields: f, imm: code[off + 1]!, delta: off });
      off += (f & (1 << 23)) !== 0 ? 2 : 4;
      if (endsBlock(op)) break;
    }
    return { start: k, end: off, insns, stop };
  }

  /**
   * A basic block start at byte k of the page whose count is spent: compiles a region entered
   * there, or marks the start NEVER when its first instruction is left to the interpreter.
   */
  private hotStart(pb: PageBlocks, k: number, pc: number): Block | undefined {
    const bb = this.basicBlock(pb, k);
    if (bb.insns.length === 0) {
      pb.starts[k >> 1] = NEVER;
      return undefined;
    }
    const into = this.absorber(pb, bb, pb.leftFrom[k >> 1]);
    if (into !== undefined) {
      this.absorb(pb, into, k);
      if (into.lens![k >> 1] !== 0) return into;
    }
    const b: Block = {
      start: k,
      ranges: [k, k],
      fn: null,
      lens: null,
      dead: false,
      index: pb.list.length,
      branchesOut: null,
      covers: null,
      grown: [],
      absorbed: 0,
      leaves: [],
    };
    pb.list.push(b);
    this.compile(pb, b, pc);
    return b;
  }

  /**
   * Region `from` (the one that last left for bb's start by a jump or a call), when bb goes on
   * into it within a few basic blocks of the page (its branches, jumps, calls or falling
   * through reach a basic block of `from`) and it may still take blocks in: it then grows by
   * bb, rather than a new region starting at bb that would hold most of its code again. The
   * cases of a switch reached through a jump table are such blocks: in one region with the
   * dispatch, a bytecode interpreter's loop, or a recursive evaluator's calls and returns, stay
   * inside it. So is a small leaf function that returns to it (see leaf).
   */
  private absorber(pb: PageBlocks, bb: BasicBlock & { stop: number }, from: Block | undefined): Block | undefined {
    if (from === undefined || from.dead) return undefined;
    if (from.leaves.length < MAX_LEAVES && this.leaf(pb, bb) !== null) return from;
    if (from.absorbed >= MAX_ABSORPTIONS) return undefined;
    const lens = from.lens!;
    const seen = new Set<number>();
    const queue = [bb];
    for (let n = 0; n < queue.length && n < ABSORB_REACH; n++) {
      for (const at of successors(queue[n]!)) {
        if (at < 0 || at >= 4096 || seen.has(at)) continue;
        if (lens[at >> 1] !== 0) return from;
        seen.add(at);
        const after = this.basicBlock(pb, at);
        if (after.insns.length > 0) queue.push(after);
      }
    }
    return undefined;
  }

  /**
   * The room of a small leaf function starting at bb, or null: every path from it through its
   * branches and jumps ends in a return (`jalr x0, 0(ra)`) within LEAF_BLOCKS basic blocks and
   * LEAF_INSNS instructions, with no call, other indirect jump, or instruction left to the
   * interpreter on the way. Taken into the region that calls it, the call and the return stay
   * inside that region (its return site is one of the region's basic blocks), where each would
   * otherwise leave it: a merge sort's comparator is called every few dozen instructions, a
   * hash table's string compare at every probe.
   */
  private leaf(pb: PageBlocks, bb: BasicBlock & { stop: number }): { blocks: number; insns: number } | null {
    const seen = new Set<number>([bb.start]);
    const queue = [bb];
    let insns = 0;
    for (let n = 0; n < queue.length; n++) {
      const b = queue[n]!;
      insns += b.insns.length;
      if (queue.length > LEAF_BLOCKS || insns > LEAF_INSNS) return null;
      const last = b.insns[b.insns.length - 1]!;
      const op = last.fields & 127;
      // A return ends the path; any other indirect jump, or a call, is not a leaf's.
      if (endsInCall(b) || (op === Op.JALR && (((last.fields >>> 13) & 31) !== 1 || last.imm !== 0))) return null;
      if (!endsBlock(op) && b.stop !== Op.UNDECODED) return null;
      for (const at of successors(b)) {
        if (at < 0 || at >= 4096) return null;
        if (seen.has(at)) continue;
        seen.add(at);
        const after = this.basicBlock(pb, at);
        if (after.insns.length === 0) return null;
        queue.push(after);
      }
    }
    return { blocks: queue.length, insns };
  }

  /** Region b left by one of its branches or jumps for virtual address `at`, in its page but outside it: see GROW_AFTER. */
  private left(pb: PageBlocks, b: Block, at: number): void {
    const h = (at & 4095) >> 1;
    const exits = ++pb.exits[h]!;
    // Both tested each time: V8 then has feedback for both before the first growth.
    if (b.grown.length >= MAX_GROWTHS || exits < this.growAfter) return;
    pb.exits[h] = 0;
    b.grown.push(h << 1);
    this.stats.grown++;
    this.compile(pb, b, (at & -4096) | b.start);
  }

  /**
   * Region b left by an indirect jump or a call for `at`, in its page but outside it: remembered
   * (see absorber), and after GROW_AFTER such exits there, b takes the block in when it goes on
   * into b (a case of a switch whose code a region of its own compiled first).
   */
  private jumpedOut(pb: PageBlocks, b: Block, at: number): void {
    const h = (at & 4095) >> 1;
    // Inside one of its basic blocks: a slow path or a trap ended the call there, not a jump.
    if (b.covers![h] !== 0) return;
    pb.leftFrom[h] = b;
    if (++pb.exits[h]! < this.growAfter) return;
    pb.exits[h] = 0;
    const bb = this.basicBlock(pb, h << 1);
    if (bb.insns.length > 0 && this.absorber(pb, bb, b) === b) this.absorb(pb, b, h << 1);
  }

  /**
   * Grows region b by the block at k and the other places it last left for that ran and go on
   * into it (see absorber): one compile for a switch's cases that got hot at about the same time.
   * Small leaf functions (see leaf) join with the room they take; anything else makes b a
   * region that takes blocks in, with the room of one (MAX_ABSORBING_BLOCKS).
   */
  private absorb(pb: PageBlocks, b: Block, k: number): void {
    const starts = [k];
    for (let h = 0; h < 2048 && starts.length < MAX_ABSORBED; h++) {
      if (pb.leftFrom[h] !== b || b.lens![h] !== 0 || h === k >> 1) continue;
      const other = this.basicBlock(pb, h << 1);
      if (other.insns.length > 0 && this.absorber(pb, other, b) === b) starts.push(h << 1);
    }
    const leaves = starts.filter((at) => this.leaf(pb, this.basicBlock(pb, at)) !== null);
    if (leaves.length === starts.length) b.leaves.push(...leaves);
    else {
      b.grown.push(...starts);
      b.absorbed++;
    }
    this.stats.grown++;
    this.compile(pb, b, (this.cpu.pc & -4096) | b.start);
  }

  /**
   * Compiles the region from b's entry: basic blocks of the page reachable through direct
   * branches and jumps, and the blocks it grew by.
   */
  private compile(pb: PageBlocks, b: Block, pc: number): void {
    const bbs: (BasicBlock & { stop: number })[] = [];
    const seen = new Set<number>();
    /** Adds the basic block at k when it has run (an entry was seen); returns it. */
    const add = (k: number): (BasicBlock & { stop: number }) | null => {
      if (seen.has(k) || k < 0 || k >= 4096) return null;
      seen.add(k);
      // Only basic blocks that have run (counted at least once) join: paths never taken would
      // leave type feedback holes in the compiled code.
      if (k !== b.start && pb.starts[k >> 1]! >= this.hot) return null;
      const bb = this.basicBlock(pb, k);
      if (bb.insns.length === 0) return null;
      bbs.push(bb);
      return bb;
    };
    const grown = b.grown.length > 0;
    let maxBlocks = b.absorbed > 0 ? MAX_ABSORBING_BLOCKS : grown ? MAX_GROWN_BLOCKS : MAX_REGION_BLOCKS;
    let maxInsns = grown ? MAX_GROWN_INSNS : MAX_REGION_INSNS;
    // Leaf functions taken in come with their own room: the region does not fill up with more of its neighbours.
    for (const at of b.leaves) {
      const room = this.leaf(pb, this.basicBlock(pb, at));
      maxBlocks += room?.blocks ?? 0;
      maxInsns += room?.insns ?? 0;
    }
    let insns = 0;
    /** Adds the basic block at k (see add), and queues where it goes on. */
    const take = (k: number, queue: number[]): void => {
      const bb = add(k);
      if (bb === null) return;
      insns += bb.insns.length;
      if (endsBlock(bb.insns[bb.insns.length - 1]!.fields & 127) || bb.stop === Op.UNDECODED)
        queue.push(...successors(bb));
      // A call's return site too: the callee's return then stays in the region.
      if (endsInCall(bb)) queue.push(bb.end);
    };
    // Breadth first from the entry. A growth keeps the blocks the region had, then explores from
    // the blocks it grew by before going on from the others: the path the hart kept leaving by (a
    // callee's, the far half of a loop) joins whole, rather than the entry's other neighbours
    // filling the room first.
    const ahead = [...b.grown, ...b.leaves];
    const behind: number[] = [];
    take(b.start, behind);
    for (let j = 0; j < b.ranges.length; j += 2) if (b.ranges[j] !== b.start) take(b.ranges[j]!, behind);
    while ((ahead.length > 0 || behind.length > 0) && bbs.length < maxBlocks && insns < maxInsns)
      if (ahead.length > 0) take(ahead.shift()!, ahead);
      else take(behind.shift()!, behind);
    if (bbs[0]?.start !== b.start) throw new Error('jit: a region entry with no instruction to compile');
    // WebAssembly where it can be (see wasm.ts), else JS, whose V8 feedback the epilogue calls below give.
    const wasm = this.wasmRegion(bbs, b);
    const fn = wasm ?? jsFactory(bbs)(...this.factoryArgs, b);
    const ranges: number[] = [];
    const lens = new Uint8Array(2048);
    for (const bb of bbs) {
      ranges.push(bb.start, bb.end);
      lens[bb.start >> 1] = bb.insns.length;
    }
    if (b.lens !== null) this.leave(pb, b);
    b.lens = lens;
    this.enter(pb, b);
    const branchesOut = new Uint8Array(2048);
    for (const bb of bbs)
      for (const k of branchTargets(bb)) if (k < 4096 && lens[k >> 1] === 0) branchesOut[k >> 1] = 1;
    b.branchesOut = branchesOut;
    const covers = new Uint8Array(2048);
    for (const bb of bbs) covers.fill(1, bb.start >> 1, Math.min(bb.end, 4096) >> 1);
    b.covers = covers;
    this.cover(pb, b.ranges, -1);
    b.ranges = ranges;
    this.cover(pb, b.ranges, 1);
    b.fn = fn;
    this.stats.compiled++;
    if (wasm !== null) {
      this.stats.wasm++;
      return;
    }
    // Calls that run nothing (budget 0) and leave through the epilogue, writing back the values
    // they read: the epilogue then has type feedback before V8 optimizes a long first run of the
    // region (on-stack replacement), which would otherwise deoptimize at its exit. And again at
    // every later run through the same compiled loop, V8 keeping that code: a region of `stream`
    // that leaves by its slow path made 2,300 such deoptimizations in 3·10⁸ steps, every other run.
    // Several calls, because V8 gives a function a place for feedback only once it has run a while
    // (a few hundred bytes of its bytecode); a region's first calls record nothing.
    // They leave the pc at the entry: a region grown while the hart is elsewhere gives it back.
    const at = this.cpu.pc;
    for (let i = 0; i < EPILOGUE_CALLS; i++) fn(pc, 0);
    this.cpu.pc = at;
  }

  /**
   * Region b compiled to WebAssembly, as a function like a JS region's: null when regions
   * compile to JS here, the region has what wasm.ts leaves to compile.ts, or the host refuses
   * the module (a content security policy without 'wasm-unsafe-eval': then JS from now on).
   */
  private wasmRegion(bbs: readonly BasicBlock[], b: Block): BlockFn | null {
    const record = this.wasmExit;
    if (record === null) return null;
    const compiled = regionModule(bbs);
    if (compiled === null) return null;
    const { put, touch, slow, cpu } = this;
    let instance: WebAssembly.Instance;
    try {
      instance = new WebAssembly.Instance(moduleOf(compiled.bytes), {
        r: {
          [IMPORTS.memory]: cpu.ram.wasm!,
          // The region's block first, bound: the slow paths' other arguments come from the module.
          [IMPORTS.put]: put.bind(null, b),
          [IMPORTS.touch]: touch.bind(null, b),
        },
      });
    } catch {
      this.wasmExit = null;
      return null;
    }
    const region = instance.exports.f as (pc0: number, budget: number, tb: number) => number;
    const exits = compiled.exits;
    return (pc0: number, budget: number): number => {
      const c = region(pc0, budget, cpu.tlbBase);
      const row = record[RECORD.ROW]! * EXIT.width;
      const steps = c + exits[row + EXIT.D]!;
      const kind = exits[row + EXIT.KIND]!;
      const to = exits[row + EXIT.TO]!;
      const pcb = pc0 & -4096;
      if (kind === 0) {
        cpu.pc = (pcb + to) | 0;
        return steps;
      }
      if (kind === 3) {
        cpu.pc = record[RECORD.VALUE]!;
        return steps;
      }
      if (kind === 2) return steps;
      const op = exits[row + EXIT.OP]!;
      return slow(op, exits[row + EXIT.RD]!, record[RECORD.VALUE]!, pcb, exits[row + EXIT.AT]!, (pcb + to) | 0, steps);
    };
  }
}

/** The factory of a JS region function from its basic blocks (compile.ts), made once per source. */
function jsFactory(bbs: readonly BasicBlock[]): Factory {
  const body = regionSource(bbs);
  let factory = factories.get(body);
  if (factory === undefined) {
    factory = new Function(
      'cpu',
      'x',
      'mem8',
      'mem8s',
      'mem16',
      'mem16s',
      'mem32',
      'touch',
      'slow',
      'put',
      'B',
      `"use strict";\nreturn function region(pc0, budget) {\n${OSR_GUARD}{\n${body}\n}\n};`,
    ) as Factory;
    if (factories.size >= MAX_FACTORIES) factories.delete(factories.keys().next().value!);
    factories.set(body, factory);
  }
  return factory;
}

/**
 * Where the hart may go on after a basic block, as page offsets: a jump's target (a call's too),
 * a branch's target and its fall-through, nothing after an indirect jump, the next instruction
 * after any other end.
 */
function successors(bb: BasicBlock): number[] {
  const last = bb.insns[bb.insns.length - 1]!;
  const op = last.fields & 127;
  if (op === Op.JAL) return [last.delta + last.imm];
  if (op === Op.JALR) return [];
  return endsBlock(op) ? [last.delta + last.imm, bb.end] : [bb.end];
}

/** Where a basic block's branch (taken or not) or plain jump goes, as page offsets; none for calls, returns and the rest. */
function branchTargets(bb: BasicBlock): number[] {
  return endsBlock(bb.insns[bb.insns.length - 1]!.fields & 127) && !endsInCall(bb) ? successors(bb) : [];
}

/** Whether a basic block ends in a call: a jump that links (`jal`/`jalr` with rd ≠ x0), whose callee returns to its end. */
function endsInCall(bb: BasicBlock): boolean {
  const last = bb.insns[bb.insns.length - 1]!;
  const op = last.fields & 127;
  return (op === Op.JAL || op === Op.JALR) && ((last.fields >>> 7) & 63) !== 32;
}

/** Attaches a JIT to a hart (`run` then goes through it); returns why not when the host forbids code generation. */
export function attachJit(cpu: Cpu, options: JitOptions = {}): JitSupport {
  const support = (options.probe ?? jitSupported)();
  if (!support.ok) return support;
  cpu.jit ??= new Jit(cpu, options);
  return support;
}

/** Back to the interpreter alone. */
export function detachJit(cpu: Cpu): void {
  cpu.jit = undefined;
}
