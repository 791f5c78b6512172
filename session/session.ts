/**
 * The one owner of execution: a machine, its recording (a timeline of
 * branches with their input events, and checkpoints) and everything that
 * moves it — the run loop with its stops, console input and output, seek,
 * step back, reverse-continue, fork, diff and bookmarks. The CLI, the gdb
 * stub and the web app's worker are adapters over this one API: none of
 * them runs the machine, types into it, listens to its UART or sets
 * breakpoints on its hart. What "at position N" means for input, seeks and
 * forks is defined once, in docs/determinism.md.
 */
import type { Cpu, WatchKind, WatchRange } from '../core/cpu.js';
import { peekAllCsrs } from '../core/csr.js';
import { RewindError } from '../core/errors.js';
import type { PowerEvent } from '../core/devices/syscon.js';
import type { InputEvent as MachineEvent, Machine } from '../core/machine.js';
import { PAGE_SIZE } from '../core/memmap.js';
import { encodeEvents, type InputEvent as KeyOrPointerEvent } from '../core/virtio/input.js';
import { MAX_FRAME, MIN_FRAME } from '../core/virtio/net.js';
import {
  Checkpointer,
  PageStore,
  Timeline,
  VMI_LIMITS,
  ZERO_PAGE_HASH,
  hashPage,
  timelineFromTree,
  type Branch,
  type Checkpoint,
  type Hash128,
  type InputEvent,
  type PageStoreOptions,
  type Recording,
} from '../storage/index.js';
import { OutputHistory, type ConsoleText } from './output.js';
import { buildMachine, specFromOptions, specOptions, type MachineSpec } from './spec.js';

/**
 * Steps between the checkpoints a recording keeps (they bound how far any
 * seek replays: some 60–160 ms on the JIT). Each costs 2–5 ms on a guest
 * that changes a few hundred pages between them (hashing, the state's
 * bytes, the page maps; the first ones in code V8 has not compiled yet), and
 * the JIT runs 50 M steps in 40–100 ms: 50 M apart, they cost a CPU-bound
 * run about a tenth of its speed (record ÷ run 1.14–1.24 on `mix`,
 * `sv32user` and `alloc`), 100 M apart about half that.
 */
export const CHECKPOINT_INTERVAL = 100_000_000;
/** Steps between the extra checkpoints long seeks leave where they come back to, so that stepping back there is quick. */
const NEAR_INTERVAL = 500_000;
/** The last NEAR_INTERVAL boundary before `target`: where a seek there leaves a checkpoint. */
const nearStart = (target: number) => Math.floor((target - 1) / NEAR_INTERVAL) * NEAR_INTERVAL;
/** SessionOptions.seekMemory's default. */
const SEEK_MEMORY = 256 << 20;
/** Largest slice run at once, so long operations can report progress. */
const SLICE = 2_000_000;
/**
 * Slice at the live end with no input queued: a guest polling the UART for input is noticed
 * within it. It doubles (up to SLICE) with each slice the guest spends busy rather than
 * polling, since every slice costs the executors a restart (a JIT's region left midway).
 */
const LIVE_SLICE = 100_000;

/** A point in time: a position on a branch (the current branch when omitted). */
export interface Point {
  branch?: string;
  position: number;
}

/** The architectural state at a point, as `rewind state` prints it. */
export interface StateSnapshot {
  branch: string;
  position: number;
  pc: number;
  x: number[];
  csr: Record<string, number>;
  priv: number;
  hash: Hash128;
}

/** What differs between two points. */
export interface Diff {
  a: { branch: string; position: number; hash: Hash128 };
  b: { branch: string; position: number; hash: Hash128 };
  pc: [number, number] | null;
  registers: { index: number; a: number; b: number }[];
  csrs: { name: string; a: number; b: number }[];
  ram: PageChange[];
  disk: PageChange[];
}

/** A changed 4 KiB page (of RAM at its physical address, or of the disk at its byte offset). */
export interface PageChange {
  page: number;
  address: number;
  /** Runs of differing bytes: offset within the page and the bytes on each side. */
  runs: { offset: number; a: number[]; b: number[] }[];
}

export interface SessionOptions {
  /** Steps between checkpoints (default CHECKPOINT_INTERVAL). */
  interval?: number;
  /** Opening a recording: which executor runs the hart (a recording does not keep it: both give the same run). */
  executor?: 'interp' | 'jit';
  /**
   * Whether to record (default true). A session that does not record runs
   * forward only, as `rewind run` does: no checkpoints, no console history,
   * and every time-travel operation is refused.
   */
  record?: boolean;
  /**
   * Bytes the recording's pages may take (default: no limit). Past it, the
   * session thins its checkpoints, dense near the present and sparser into
   * the past, and forgets the pages no checkpoint kept names; input events
   * are never dropped, so every position stays reachable by replay.
   */
  budget?: number;
  /** Where the recording keeps its pages (a spill store on disk bounds the memory they take). */
  pages?: PageStoreOptions;
  /**
   * Whether a long seek that comes back near where the one before it went
   * (a step back, say) leaves a checkpoint there, so that stepping back on
   * from there is quick (default true). A command that seeks once and exits
   * has no use for it.
   */
  seekCheckpoints?: boolean;
  /**
   * Bytes of pages in memory past which the oldest checkpoints that seeks
   * left are dropped (default 256 MiB): each can hold all of RAM, for a guest
   * that writes all over it. A recording's pages on disk are kept within its
   * budget instead.
   */
  seekMemory?: number;
  /**
   * Milliseconds, from any origin (default `performance.now`): the pace at which the machine
   * runs, which spaces a busy guest's periodic checkpoints (see adaptSpacing).
   */
  clock?: () => number;
}

/** Pages changed since a seek's restore up to which it leaves a checkpoint the first time it goes near there (see cheapCapture). */
const CHEAP_CAPTURE_PAGES = 512;
/** Bytes of pages that forgotten nearby checkpoints leave in memory before a sweep frees them (see forgetNearby). */
const ORPHAN_BYTES = 32 << 20;
/** A periodic checkpoint that finds this many pages changed (4 MiB) is a busy guest's (see adaptSpacing). */
const BUSY_PAGES = 1024;
/** The run between a busy guest's periodic checkpoints, at most (ms on this host): what a seek there replays at worst. */
const REPLAY_MS = 150;
/** The run a periodic checkpoint may be put off by while its page store readies memory for it (ms; see putOffCheckpoint). */
const PUT_OFF_MS = 100;
/** The most intervals between periodic checkpoints. */
const MAX_STRIDE = 8;
/** A busy guest's periodic checkpoints are spaced in this share of an interval (see adaptSpacing). */
const SPACING_GRAIN = 10;
/** Times an interval that a recording tells its page store how many pages the next checkpoint may bring (see PageStore.expect). */
const EXPECT_LOOKS = 8;

/**
 * What a recording's file takes besides its pages, from above (see
 * fileOverhead): an index row for each page, each entry of the checkpoints'
 * page maps, and each checkpoint besides its state; the header and the rest
 * of the index.
 */
const INDEX_PAGE = 34;
const INDEX_ENTRY = 20;
const INDEX_CHECKPOINT = 256;
const FILE_FIXED = 64 << 10;
/** Bytes the index takes for each byte of console output it keeps (the byte and its position). */
const INDEX_CONSOLE = 10;

/**
 * Thinning brings the pages down to this share of the budget, so that it does not run at every
 * checkpoint. It costs no copying (the file's holes take the pages that come next: see
 * PageFile.compact), so it runs often and keeps the recording near its budget: at 0.7, a
 * recording of 10¹⁰ steps of 48 MiB checkpoints ended with 26–39 of them, the oldest 8·10⁸ steps
 * apart; at 0.85, with 35–39, 4·10⁸ apart.
 */
const THIN_TO = 0.85;
/**
 * Steps before the present where seeks matter most (stepping back, scrubbing
 * what just happened): thinning drops a checkpoint there only where one
 * further back would widen the replay twice as much (RECENT_WEIGHT).
 */
const RECENT = 1_000_000_000;
const RECENT_WEIGHT = 2;

/** Progress of a long operation: done out of total steps; return false to cancel. */
export type Progress = (done: number, total: number) => boolean | void;

/**
 * Why a run stopped, with `steps` run:
 * - `limit`: the step budget is spent;
 * - `power`: the guest powered off;
 * - `waiting`: the guest waits for input it has not been given — asleep in
 *   wfi with nothing else to wake it, or polling the UART's line status
 *   (`asleep` false) — at the live end of its branch; only new input moves it on;
 * - `breakpoint`: the hart reached a breakpoint (`pc`) and has not executed it;
 * - `watchpoint`: a store wrote into a watched range (`address` written); the store has executed.
 */
export type Stop =
  | { reason: 'limit'; steps: number }
  | { reason: 'power'; steps: number; power: PowerEvent }
  | { reason: 'waiting'; steps: number; asleep: boolean }
  | { reason: 'breakpoint'; steps: number; pc: number }
  | { reason: 'watchpoint'; steps: number; address: number; kind?: WatchKind };

export type StopReason = Stop['reason'];

/** Breakpoints (pcs) and watchpoints (written ranges) a run stops at. */
export interface DebugStops {
  breakpoints?: readonly number[];
  watchpoints?: readonly WatchRange[];
}

export interface RunOptions {
  /**
   * Execute a breakpoint the hart stands on instead of stopping at it (a
   * continue from a stop). By default a run resumes past one only where the
   * last run stopped for a reason other than its budget, or where a seek,
   * fork or typing put the machine: a run cut in budget-sized slices still
   * stops at a breakpoint that falls on a slice boundary.
   */
  resume?: boolean;
  /**
   * A guest polling the UART at the live end with no input queued stops the
   * run as `waiting` (the default, 'wait'), or goes on polling ('run': a run
   * to a given position, as `rewind state --at` makes).
   */
  whenPolling?: 'wait' | 'run';
  /**
   * Stops the run where the virtual clock (`cpu.cycles()`) reaches this, or
   * where the hart falls asleep until then or later (Machine.run's
   * `until`), as `limit`: a group's quantum of virtual time.
   */
  until?: number;
}

const toMachineEvent = (e: InputEvent): MachineEvent => ({
  position: e.position,
  time: e.time,
  device: e.device,
  payload: payloadBytes(e.payload),
});

/** Console bytes an event delivered. */
function uartBytes(e: InputEvent): number {
  return e.device === 'uart0' ? payloadBytes(e.payload).length : 0;
}

function payloadBytes(p: InputEvent['payload']): number[] {
  return typeof p === 'number' ? [p] : typeof p === 'string' ? [...new TextEncoder().encode(p)] : [...p];
}

export class Session {
  /**
   * Receives the console output of what `run` executes, with the position
   * that wrote each byte (replaying the branch's past on the way included).
   * Seeks and searches do not call it: their output only goes into the history.
   */
  onOutput: (byte: number, position: number) => void = () => {};
  /**
   * Receives each frame the guest transmits on its network device while
   * `run` executes, with the position of the store that sent it.
   */
  onTransmit: (frame: Uint8Array, position: number) => void = () => {};
  /** Whether this session records (see SessionOptions.record). */
  readonly recording: boolean;
  /** Whether a long seek leaves a checkpoint near its target (SessionOptions.seekCheckpoints). */
  private readonly seekCheckpoints: boolean;
  /**
   * The last NEAR_INTERVAL boundary before where the last seek went. A long
   * seek into the same stretch leaves a checkpoint there: a capture costs as much
   * as the pages changed since the checkpoint restored (all of RAM, for a
   * guest that writes all over it), wasted on a seek that nothing follows
   * nearby, as when scrubbing. Where few changed, the first seek leaves one.
   */
  private lastNear: { branch: string; position: number } | null = null;
  /** The checkpoints seeks left (see lastNear), oldest first: dropped past seekMemory. */
  private seekLeft: Checkpoint[] = [];
  /**
   * A checkpoint the last long seek left near its target where its replay
   * changed few pages (see cheapCapture), held out of the timeline: seeks
   * restore it, so the first step back after a jump replays little, and the
   * next such seek replaces it, so scrubbing adds nothing to the recording.
   * A seek that comes back near it puts it in the timeline.
   */
  private nearby: { cp: Checkpoint; bytes: number } | null = null;
  /** Bytes of pages in memory that forgotten nearby checkpoints stored (see forgetNearby). */
  private orphanBytes = 0;
  /** True when a restore and its recovery both failed: the machine holds no position's state (see recover). */
  private lost = false;
  /** SessionOptions.seekMemory. */
  private readonly seekMemory: number;
  /** The console output by position, per branch (null when not recording). */
  readonly history: OutputHistory | null;
  private current: string;
  /** Id of the checkpoint the machine's memory was last captured at or restored from. */
  private base: string | null = null;
  private pending: InputEvent[] = [];
  private readonly interval: number;
  private readonly clock: () => number;
  private budget: number;
  /** Steps between periodic checkpoints now (see adaptSpacing). */
  private spacing: number;
  /** Time the machine ran at the live end since the last periodic checkpoint (ms), and the steps it ran. */
  private liveRunMs = 0;
  private liveRunSteps = 0;
  /** Position of the next periodic checkpoint at the live end. */
  private nextAt = 0;
  /** Where afterRun next tells the page store how many pages are dirty (see PageStore.expect). */
  private expectAt = 0;
  /** Where the recording last told its page store what to expect, and the pages dirty then. */
  private lookedAt = 0;
  private lookedDirty = 0;
  /**
   * Where the recording is known to end (`rewind record --max-instructions`): afterRun leaves the
   * periodic checkpoint that would fall there to {@link checkpointAtEnd}.
   */
  plannedEnd = Infinity;
  /** The run since the last periodic checkpoint (liveRunMs) when the coming one was first put off, or -1 (see putOffCheckpoint). */
  private putOffAt = -1;
  /** The page store's bound after the last periodic checkpoint this session took, or -1 before one (see afterRun). */
  private boundBefore = -1;
  /** True while `run` executes, when output goes to `onOutput`. */
  private emitting = false;
  private stops: { breakpoints: number[]; watchpoints: WatchRange[] } = { breakpoints: [], watchpoints: [] };
  /** The hart the stops were last given to (a reset builds a new one). */
  private stopsOn: Cpu | null = null;
  /** Where a run executes a breakpoint instead of stopping at it (RunOptions.resume). */
  private resumeAt = 0;
  /** The slice at the live end with no input queued (see LIVE_SLICE). */
  private liveSlice = LIVE_SLICE;
  /** Console input scripted for every branch (see `script`), or null when input is typed. */
  private scripted: number[] | null = null;
  /** How many events each branch had when the script began (the script feeds only later ones; newer branches from their start). */
  private scriptStart = new Map<string, number>();
  /** Script bytes taken along a branch's lineage, kept up to date as events are recorded. */
  private consumed: { branch: string; bytes: number } | null = null;

  private constructor(
    readonly spec: MachineSpec,
    readonly machine: Machine,
    readonly timeline: Timeline,
    readonly checkpoints: Checkpointer,
    options: SessionOptions,
  ) {
    this.interval = options.interval ?? CHECKPOINT_INTERVAL;
    this.spacing = this.interval;
    this.clock = options.clock ?? (() => performance.now());
    this.budget = options.budget ?? Infinity;
    this.recording = options.record ?? true;
    this.seekCheckpoints = options.seekCheckpoints ?? true;
    this.seekMemory = options.seekMemory ?? SEEK_MEMORY;
    this.history = this.recording ? new OutputHistory() : null;
    this.current = timeline.root().id;
    machine.onOutput = (byte) => {
      const at = machine.position;
      this.history?.write(byte, at);
      if (this.emitting) this.onOutput(byte, at);
    };
    machine.onTransmit = (frame) => {
      if (this.emitting) this.onTransmit(frame, machine.position);
    };
    machine.onEvent = (event) => {
      this.pending.push({ ...event, payload: Uint8Array.from(event.payload) });
    };
  }

  /** A new machine from reset: a recording, or (`record: false`) a forward-only run. */
  static create(spec: MachineSpec, options: SessionOptions = {}): Session {
    const machine = buildMachine(spec);
    const pages = new PageStore(options.pages);
    const session = new Session(spec, machine, Timeline.create('main'), new Checkpointer(machine, { pages }), options);
    if (session.recording) session.checkpointHere();
    return session;
  }

  /** Opens a recording (from a .vmi); the machine is placed at the start of the root branch. */
  static open(rec: Recording, options: SessionOptions = {}): Session {
    const diskImage = rec.config.diskSize === null ? undefined : diskFromPages(rec);
    const spec: MachineSpec = {
      ...specFromOptions(rec.config.machine, rec.kernel, rec.config.ramSize, diskImage),
      executor: options.executor,
    };
    const machine = buildMachine(spec);
    const checkpoints = new Checkpointer(machine, { pages: new PageStore({ ...options.pages, cold: rec.pages }) });
    const ordered = [...rec.checkpoints].sort((a, b) => a.depth - b.depth || a.position - b.position);
    const added = new Set<string>();
    // Parents before children: a delta can only be added once what it rests on is there.
    for (let round = 0; added.size < ordered.length && round <= ordered.length; round++) {
      for (const cp of ordered) {
        if (added.has(cp.id) || (!cp.full && cp.parent !== null && !added.has(cp.parent))) continue;
        checkpoints.add(cp);
        added.add(cp.id);
      }
    }
    if (added.size < ordered.length)
      throw new RewindError('bad-vmi', 'a checkpoint rests on a checkpoint that is not in the recording');
    const timeline = timelineFromTree(rec.timeline);
    const session = new Session(spec, machine, timeline, checkpoints, { ...options, record: true });
    if (rec.console) session.history!.load(rec.console);
    session.seek({ branch: timeline.root().id, position: 0 });
    return session;
  }

  /** Everything needed to write a .vmi. */
  toRecording(): Recording {
    this.needRecording('writing a recording');
    this.flushEvents();
    // Out of the timeline, so out of the file, unless a checkpoint rests on it: then it joins the timeline.
    const near = this.nearby?.cp;
    if (near && [...this.checkpoints.all()].some((c) => c.parent === near.id)) this.keepSeekLeft(this.promoteNearby());
    const left = this.nearby?.cp;
    const store = this.checkpoints.pages;
    store.compress();
    let disk: Map<number, Hash128> | null = null;
    if (this.spec.disk) {
      disk = new Map();
      const image = padToPages(this.spec.disk);
      for (let i = 0; i < image.length / PAGE_SIZE; i++) {
        const page = image.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE);
        const h = hashPage(page);
        if (h === ZERO_PAGE_HASH) continue;
        disk.set(i, h);
        if (!store.has(h)) store.put(page, h);
      }
    }
    return {
      config: {
        ramSize: this.spec.ramSize,
        diskSize: this.machine.disk ? this.machine.disk.size : null,
        machine: { ...specOptions(this.spec), diskBytes: this.spec.disk?.length ?? 0 },
      },
      kernel: this.spec.image,
      disk,
      timeline: this.timeline.snapshot(),
      timelineLog: [...this.timeline.log],
      checkpoints: [...this.checkpoints.all()].filter((c) => c !== left),
      pages: { has: (h) => store.has(h), get: (h) => store.getRecord(h) },
      console: this.history?.toLog() ?? null,
    };
  }

  /** The current branch's id. */
  get branch(): string {
    return this.current;
  }

  get position(): number {
    return this.machine.position;
  }

  /** The current branch's name. */
  get branchName(): string {
    return this.timeline.branch(this.current).name;
  }

  /** Where a branch ends: the last position it has run to. */
  branchEnd(id = this.current): number {
    const b = this.timeline.branch(id);
    return b.forkPosition + b.length;
  }

  /** Finds a branch by id or name. */
  resolveBranch(idOrName: string): string {
    const branches = this.timeline.branches();
    const hit = branches.find((b) => b.id === idOrName) ?? branches.find((b) => b.name === idOrName);
    if (!hit)
      throw new RewindError(
        'not-found',
        `no branch "${idOrName}" (branches: ${branches.map((b) => b.name).join(', ')})`,
      );
    return hit.id;
  }

  // ---- input ----

  /**
   * Console input typed now. It waits in a queue and enters the UART as the
   * guest becomes ready for it. Typed in the past, it forks a new branch
   * first (history is never rewritten), back at the oldest input the console
   * shows no sign of yet, so that the new input replaces it rather than
   * follows it (docs/determinism.md, "An input event at position N").
   */
  type(bytes: Iterable<number>): void {
    if (this.position < this.branchEnd()) this.fork(this.unseenInputStart());
    this.machine.type(bytes);
    this.resumeAt = this.position;
  }

  /**
   * Console input scripted for the whole recording (gdb's input file and
   * `monitor type`): the live end of whichever branch the machine is on is
   * given what the script holds beyond the console bytes that branch's
   * lineage has taken since the script began. Replaying a branch's past
   * takes only its recorded input.
   */
  script(bytes: Iterable<number>): void {
    if (!this.scripted) {
      this.flushEvents();
      this.scripted = [];
      this.scriptStart = new Map(this.timeline.branches().map((b) => [b.id, b.events.length]));
      this.consumed = null;
    }
    for (const b of bytes) this.scripted.push(b & 0xff);
  }

  /**
   * Scripts `bytes` from here on, in place of whatever script there was:
   * what the guest has not taken of the old one is dropped (a group fork
   * gives each machine its input from the moment on, docs/network.md).
   */
  rescript(bytes: Iterable<number>): void {
    this.scripted = null;
    this.machine.clearInput();
    this.script(bytes);
  }

  /** Console bytes typed (or scripted) that the guest has not taken yet. */
  get pendingInput(): number {
    return this.machine.pendingInput;
  }

  /** Script bytes the current branch's lineage has taken (console input recorded since the script began). */
  private scriptTaken(): number {
    this.flushEvents();
    if (this.consumed === null || this.consumed.branch !== this.current) {
      let n = 0;
      for (const s of this.timeline.lineage(this.current)) {
        const events = this.timeline.branch(s.branch).events;
        for (let i = this.scriptStart.get(s.branch) ?? 0; i < events.length; i++) {
          const e = events[i]!;
          if (e.position >= s.from && e.position < s.to) n += uartBytes(e);
        }
      }
      this.consumed = { branch: this.current, bytes: n };
    }
    return this.consumed.bytes;
  }

  /** At the live end, the queue holds what the script still has for this branch; in the past, nothing. */
  private feedScript(): void {
    const script = this.scripted;
    if (!script) return;
    const m = this.machine;
    if (this.position < this.branchEnd()) {
      if (m.pendingInput > 0) m.clearInput();
      return;
    }
    const taken = this.scriptTaken();
    const left = Math.max(0, script.length - taken);
    if (m.pendingInput === left) return;
    m.clearInput();
    if (left > 0) m.type(script.slice(taken));
  }

  /**
   * Where typing in the past forks: here, or back at the oldest console
   * input the user cannot see an effect of — input delivered since the last
   * byte the console shows (the guest has not echoed or answered it yet),
   * or still unread in the UART's receive FIFO.
   */
  private unseenInputStart(): number {
    const here = this.position;
    const input = this.timeline.eventsBetween(this.current, 0, here).filter((e) => e.device === 'uart0');
    let start = here;
    const shown = this.history?.at(this.timeline.lineage(this.current), here);
    if (shown?.complete) {
      const lastOutput = shown.positions.length > 0 ? shown.positions[shown.positions.length - 1]! : 0;
      const unseen = input.find((e) => e.position >= lastOutput);
      if (unseen) start = unseen.position;
    }
    let unread = this.machine.uart.unreadInput;
    for (let i = input.length - 1; i >= 0 && unread > 0; i--) {
      unread -= uartBytes(input[i]!);
      if (unread <= 0) start = Math.min(start, input[i]!.position);
    }
    return start;
  }

  // ---- stops ----

  /** The breakpoints and watchpoints every run, search and step stops at, until changed. */
  setStops(stops: DebugStops): void {
    this.stops = {
      breakpoints: [...new Set((stops.breakpoints ?? []).map((a) => a >>> 0))],
      watchpoints: (stops.watchpoints ?? [])
        .filter((w) => w.length > 0)
        .map((w) => ({
          address: w.address >>> 0,
          length: w.length,
          kind: w.kind ?? 'write',
          physical: w.physical === true,
        })),
    };
    this.stopsOn = null;
  }

  private applyStops(stops: DebugStops = this.stops): void {
    const cpu = this.machine.cpu;
    if (stops === this.stops && this.stopsOn === cpu) return;
    cpu.setBreakpoints(stops.breakpoints ?? null);
    cpu.setWatchpoints(stops.watchpoints ?? null);
    this.stopsOn = stops === this.stops ? cpu : null;
  }

  private stopped(stop: Stop): Stop {
    this.resumeAt = stop.reason === 'limit' ? -1 : this.position;
    return stop;
  }

  // ---- the run loop ----

  /**
   * Runs forward up to `maxSteps`, or until a stop (see Stop): replaying
   * the branch's recorded events while in its past, recording new ones past
   * its end, and checkpointing every `interval` steps when recording.
   */
  run(maxSteps: number, options: RunOptions = {}): Stop {
    this.applyStops();
    const resume = options.resume ?? this.resumeAt === this.position;
    let steps = 0;
    for (;;) {
      const pos = this.position;
      const end = this.branchEnd();
      this.feedScript();
      if (steps >= maxSteps) return this.stopped({ reason: 'limit', steps });
      let chunk = Math.min(maxSteps - steps, SLICE);
      if (this.recording && pos >= end) chunk = Math.min(chunk, this.nextCheckpoint(pos) - pos);
      if (pos < end) chunk = Math.min(chunk, end - pos);
      else if (this.machine.pendingInput > 0) this.liveSlice = LIVE_SLICE;
      else if (options.whenPolling !== 'run') chunk = Math.min(chunk, this.liveSlice);
      this.emitting = true;
      let r;
      const started = this.clock();
      try {
        r = this.machine.run(chunk, steps === 0 && resume, options.until);
      } finally {
        this.emitting = false;
      }
      if (pos >= end) {
        this.liveRunMs += this.clock() - started;
        this.liveRunSteps += r.steps;
      }
      steps += r.steps;
      this.afterRun(pos);
      const cpu = this.machine.cpu;
      switch (r.reason) {
        case 'limit':
        case 'time':
          // Polling is seen after a slice (not before one), so a run always moves: a step, or a breakpoint in the polling loop, is reached.
          // A slice that reached the branch's end gets the script's input first.
          this.feedScript();
          if (options.whenPolling !== 'run' && this.pollingAtEnd()) {
            this.liveSlice = LIVE_SLICE;
            return this.stopped({ reason: 'waiting', steps, asleep: false });
          }
          if (pos >= end) this.liveSlice = Math.min(this.liveSlice * 2, SLICE);
          // The clock reached the run's `until`: its end, as a limit.
          if (r.reason === 'time') return this.stopped({ reason: 'limit', steps });
          continue;
        case 'idle':
          return this.stopped({ reason: 'waiting', steps, asleep: true });
        case 'power':
          return this.stopped({ reason: 'power', steps, power: { ...this.machine.power! } });
        case 'breakpoint':
          return this.stopped({ reason: 'breakpoint', steps, pc: cpu.pcValue });
        case 'watchpoint':
          return this.stopped({ reason: 'watchpoint', steps, address: cpu.watchAddress >>> 0, kind: cpu.watchKind });
      }
    }
  }

  /** The guest spins on the UART's line status at the live end with no input queued: only new input can move it on. */
  private pollingAtEnd(): boolean {
    return this.position >= this.branchEnd() && this.machine.pendingInput === 0 && this.machine.uart.pollingForInput();
  }

  /** Where the next periodic checkpoint goes at the live end: `spacing` after the last one, else on a multiple of the interval. */
  private nextCheckpoint(pos: number): number {
    // Recomputed when passed, or left from another branch further on than one spacing.
    if (this.nextAt <= pos || this.nextAt - pos > this.spacing)
      this.nextAt = (Math.floor(pos / this.interval) + 1) * this.interval;
    return this.nextAt;
  }

  /**
   * Sets the spacing from the last periodic checkpoint. A busy guest (one that changed BUSY_PAGES
   * or more since the one before) is checkpointed every REPLAY_MS of its run on this host, in
   * tenths of an interval (SPACING_GRAIN), one interval at least and MAX_STRIDE at most: a fast
   * guest that rewrites memory all the time would spend more time in checkpoints than in its own
   * work if it were checkpointed every interval, while a seek replays no longer than it would
   * between the checkpoints of a slower one. (In whole intervals, a guest that ran one in 86 ms
   * was checkpointed every 86 ms, not every 146.) A quiet guest is checkpointed every interval,
   * at the same positions on every host.
   */
  private adaptSpacing(cp: Checkpoint): void {
    const last = this.checkpoints.lastCapture;
    if (cp.parent !== null && last?.id === cp.id && this.liveRunSteps > 0) {
      const busy = last.changedPages >= BUSY_PAGES;
      const grain = Math.max(1, Math.floor(this.interval / SPACING_GRAIN));
      // What REPLAY_MS runs at the pace since the last one (a hair over, so that an exact fit stays one).
      const fits = Math.floor((REPLAY_MS * this.liveRunSteps) / (this.liveRunMs * grain) + 1e-9) * grain;
      this.spacing = busy ? Math.max(this.interval, Math.min(MAX_STRIDE * this.interval, fits)) : this.interval;
    }
    this.liveRunMs = 0;
    this.liveRunSteps = 0;
    this.nextAt = this.position + this.spacing;
  }

  /** Bookkeeping after the machine ran from `from`: events, length of the branch, console history, the periodic checkpoint. */
  private afterRun(from: number): void {
    this.flushEvents();
    const pos = this.position;
    const live = from >= this.branchEnd();
    if (pos > this.branchEnd()) this.timeline.extendTo(this.current, pos);
    this.history?.keep(this.timeline.lineage(this.current), from, pos);
    if (this.recording && live && pos >= this.expectAt) {
      // The page store gets ready for what the next checkpoint may hand it (see PageStore.expect):
      // the pages dirty now and, from the second look since the last checkpoint on, perhaps as many
      // more as the pace since the look before brings by then (at most as many again: a guest's
      // pace falls as it has dirtied its working set). Early, so that its thread readies its
      // memory while the guest runs, not while the guest's thread copies pages in. Before this
      // session's first periodic checkpoint, at every slice: a guest that dirties its memory from
      // the start has its store's thread up (~0.1 s) and its slots ready before that checkpoint.
      this.expectAt = pos + (this.boundBefore < 0 ? SLICE : this.interval / EXPECT_LOOKS);
      const dirty = this.dirtyPages;
      const paced = this.lookedAt > this.nextAt - this.spacing && pos > this.lookedAt && this.nextAt > pos;
      const more = paced ? (Math.max(0, dirty - this.lookedDirty) * (this.nextAt - pos)) / (pos - this.lookedAt) : 0;
      this.lookedAt = pos;
      this.lookedDirty = dirty;
      this.checkpoints.pages.expect(dirty, Math.ceil(Math.min(more, dirty)));
    }
    if (this.recording && live && pos === this.nextAt && pos !== this.plannedEnd && !this.putOffCheckpoint(pos)) {
      const pages = this.checkpoints.pages;
      pages.mark();
      this.adaptSpacing(this.checkpointHere());
      // Pages are stored raw at capture and deflated later; bound what waits (32 MiB).
      if (pages.compress(0) > 8192) pages.compress();
      // A bound that waits for no deflate on another thread (see PageSpill.boundBytes).
      // It thins ahead, by what the last checkpoint brought, so that the pages stay within the
      // budget as they come: the file's holes then take the next ones (see PageFile.compact).
      const bound = pages.boundBytes;
      // A recording opened again has no last checkpoint of its own: it thins at the budget first.
      const ahead = this.boundBefore < 0 ? 0 : Math.max(0, bound - this.boundBefore);
      if (bound + ahead + this.fileOverhead() > this.budget) this.thin();
      this.boundBefore = pages.boundBytes;
    }
  }

  /** Pages of RAM and disk marked dirty: changed, or perhaps changed, since the last checkpoint. */
  private get dirtyPages(): number {
    return this.machine.ram.dirtyCount() + (this.machine.disk?.dirtyCount() ?? 0);
  }

  /**
   * Puts the periodic checkpoint due at `pos` off by a slice while the page store's memory is not
   * ready for the pages it would take (its thread still starting, or readying its ring: ~0.1–0.3 s
   * at a busy guest's start): copied into fresh memory, a page costs the guest's thread ~12 µs,
   * twenty times its copy. PUT_OFF_MS of run at most. Returns whether it did.
   */
  private putOffCheckpoint(pos: number): boolean {
    if (this.checkpoints.pages.readyFor(this.dirtyPages)) {
      this.putOffAt = -1;
      return false;
    }
    if (this.putOffAt < 0) this.putOffAt = this.liveRunMs;
    if (this.liveRunMs - this.putOffAt >= PUT_OFF_MS) {
      this.putOffAt = -1;
      return false;
    }
    this.nextAt = pos + SLICE;
    return true;
  }

  /**
   * Bytes the recording's file takes besides its pages, from above: the
   * index (a row for each page, the checkpoints' page maps and states, the
   * console output it keeps) and the boot image. Counted against the budget
   * with the pages, so that the file as a whole stays within it.
   */
  private fileOverhead(): number {
    const cps = this.checkpoints;
    let n = FILE_FIXED + INDEX_PAGE * cps.pages.count + this.spec.image.length + (this.spec.initrd?.length ?? 0);
    // Without waiting for a checkpoint whose pages are still being hashed.
    n += cps.indexBytes(INDEX_CHECKPOINT, INDEX_ENTRY);
    const console = this.history?.size ?? 0;
    if (console <= VMI_LIMITS.maxConsoleBytes) n += INDEX_CONSOLE * console;
    return n;
  }

  /** Bytes the recording's pages may take from now on (see SessionOptions.budget); over it, thins at the next checkpoint. */
  setBudget(bytes: number): void {
    if (!(bytes > 0)) throw new RewindError('bad-argument', `a budget is a number of bytes above 0, not ${bytes}`);
    this.budget = bytes;
  }

  /**
   * Thins when the file would be over the budget, its pages counted exactly (the end of a
   * recording: see afterRun's bound); gives back the space kept for pages to come when that is
   * what puts it over. The bounds, which wait for no page still being encoded on another thread,
   * answer first when they are within the budget: the exact counts could only be less.
   */
  keepWithinBudget(): void {
    const pages = this.checkpoints.pages;
    const overhead = this.fileOverhead();
    // The file's extent from above first too: the exact one waits for the thread's last pages,
    // which the end of a recording would rather let it write while it plans the index.
    const within = (bytes: number): boolean => bytes + overhead <= this.budget;
    if (within(pages.boundBytes) && (within(pages.extentBound) || within(pages.extentBytes))) return;
    if (!within(pages.bytes)) this.thin();
    // Within the budget but for space kept for pages that will not come now: given back.
    else
      pages.sweep(
        this.checkpoints.pageRefs((h) => pages.sizeOf(h)),
        this.budget - overhead,
      );
  }

  /**
   * Bytes of the recording's file so far, without waiting for pages being hashed or encoded on
   * another thread: the space of the pages written (holes kept for the pages to come included),
   * and the rest from above (see fileOverhead). What a progress line shows.
   */
  get fileBytesWritten(): number {
    return this.checkpoints.pages.extentWritten + this.fileOverhead();
  }

  /**
   * Brings the recording's pages within its budget: drops checkpoints, a
   * few at a time, those whose loss widens the replay least for their age
   * (so that what is kept thins out geometrically into the past: see
   * thinningVictims), until the
   * pages the rest name take at most THIN_TO of the budget; then forgets the
   * other pages. The first checkpoint of each branch, each branch's newest,
   * and the one the machine rests on are kept.
   */
  thin(): void {
    const pages = this.checkpoints.pages;
    pages.compress();
    // What the checkpoints name, counted once and kept up to date as they are dropped.
    const live = this.checkpoints.pageRefs((h) => pages.sizeOf(h));
    // What the pages may take: the budget, less the rest of the file (as it is now; less as checkpoints go).
    const room = this.budget - this.fileOverhead();
    let bytes = live.bytes;
    while (bytes > room * THIN_TO) {
      const victims = this.thinningVictims();
      if (victims.size === 0) break;
      for (const [branch, ids] of victims) {
        this.timeline.removeCheckpoints(branch, ids);
        for (const id of ids) this.checkpoints.drop(id);
      }
      const before = bytes;
      bytes = live.bytes;
      // What is left is mostly the machine's memory itself, which no thinning frees: stop before dropping all.
      if (bytes <= room && before - bytes < this.budget / 100) break;
    }
    pages.sweep(live, this.budget - this.fileOverhead());
  }

  /**
   * An eighth (at least one) of the checkpoints that may go, cheapest first:
   * the replay widened, divided by the fourth root of the age of the gap it
   * would leave (from its end, so that no gap reaching into the last RECENT
   * steps counts as old), and by RECENT_WEIGHT in the last RECENT steps.
   * Replays then grow as the fourth root of the age: the oldest seeks of a
   * recording of 10^10 steps replay some 3 times what its newest do. With
   * the square root, a recording of 10^10 steps of 48 MiB checkpoints under
   * 2 GiB was left at times with gaps of 8·10^8 steps in its far past (a
   * seek there replays for over a second); with the fourth root, at most
   * 4·10^8, for as many checkpoints.
   */
  private thinningVictims(): Map<string, Set<string>> {
    const scored: { branch: string; id: string; score: number }[] = [];
    for (const b of this.branches()) {
      const end = b.forkPosition + b.length;
      const cps = b.checkpoints;
      for (let i = 1; i < cps.length - 1; i++) {
        const c = cps[i]!;
        if (c.id === this.base) continue;
        const widened = cps[i + 1]!.position - cps[i - 1]!.position;
        const age = end - cps[i + 1]!.position;
        const weight = Math.sqrt(Math.sqrt(Math.max(1, age))) / (age < RECENT ? RECENT_WEIGHT : 1);
        scored.push({ branch: b.id, id: c.id, score: widened / weight });
      }
    }
    scored.sort((a, b) => a.score - b.score);
    const out = new Map<string, Set<string>>();
    // Not neighbours in one round: each score assumed the others stay.
    const taken = new Set<string>();
    for (const v of scored.slice(0, Math.max(1, Math.ceil(scored.length / 8)))) {
      const list = this.timeline.branch(v.branch).checkpoints;
      const i = list.findIndex((c) => c.id === v.id);
      if (taken.has(list[i - 1]!.id) || taken.has(list[i + 1]!.id)) continue;
      taken.add(v.id);
      let set = out.get(v.branch);
      if (!set) out.set(v.branch, (set = new Set()));
      set.add(v.id);
    }
    return out;
  }

  private flushEvents(): void {
    if (this.pending.length === 0) return;
    const events = this.pending;
    this.pending = [];
    this.timeline.appendEvents(this.current, events);
    if (this.scripted && this.consumed?.branch === this.current)
      for (const e of events) this.consumed.bytes += uartBytes(e);
  }

  private needRecording(what: string): void {
    if (!this.recording) throw new RewindError('bad-state', `${what} needs a recording: this machine runs without one`);
  }

  /** The branch of the current lineage that owns position `p` (a fork position belongs to the parent). */
  private ownerOf(p: number): string {
    for (const s of this.timeline.lineage(this.current)) if (p <= s.to) return s.branch;
    return this.current;
  }

  /** Captures a checkpoint at the current position unless the lineage has one there. */
  checkpointHere(): Checkpoint {
    this.needRecording('a checkpoint');
    const pos = this.position;
    const owner = this.ownerOf(pos);
    const existing = this.timeline.branch(owner).checkpoints.find((c) => c.position === pos);
    if (existing && this.checkpoints.has(existing.id)) return this.checkpoints.get(existing.id);
    const cp = this.checkpoints.capture(this.base, owner);
    this.base = cp.id;
    this.timeline.addCheckpoint(owner, { id: cp.id, position: pos });
    return cp;
  }

  /**
   * The recording ends here: captures a checkpoint unless one near enough is the end's. A busy
   * guest's (BUSY_PAGES or more dirty) is left out where its run since the last periodic
   * checkpoint took no longer than REPLAY_MS: a seek to the end then replays no longer than one
   * between two periodic checkpoints, and the recording's end does not wait for that many pages
   * to be encoded and written (a matrix transpose's last 11 k: ~0.2 s of a 0.8 s recording).
   * That stretch is replayed by `replay --verify`, with no state hash at its end to check.
   * Returns the checkpoint, or null.
   */
  checkpointAtEnd(): Checkpoint | null {
    this.needRecording('a checkpoint');
    const busy = this.dirtyPages >= BUSY_PAGES;
    const since = this.timeline.checkpointAtOrBefore(this.current, this.position);
    if (busy && since !== null && this.liveRunMs <= REPLAY_MS && this.position <= since.position + this.spacing)
      return null;
    return this.checkpointHere();
  }

  // ---- time travel ----

  /**
   * Puts the machine at `point`: restores the nearest checkpoint at or
   * before it on the branch's lineage (unless running on from where the
   * machine is is shorter) and replays the recorded events up to it. The
   * console output on the way goes into the history. Returns false when
   * cancelled through `progress` (the machine then stands at a valid
   * position of the branch short of the target; seek again to go on).
   */
  seek(point: Point, progress?: Progress): boolean {
    this.needRecording('seeking');
    this.flushEvents();
    const branch = point.branch === undefined ? this.current : this.resolveBranch(point.branch);
    const target = point.position;
    const end = this.branchEnd(branch);
    if (!Number.isSafeInteger(target) || target < 0)
      throw new RewindError('bad-argument', `position must be a whole number ≥ 0, not ${target}`);
    if (target > end)
      throw new RewindError('bad-argument', `branch ${this.timeline.branch(branch).name} only runs to position ${end}`);
    const sameLineage = this.onLineage(branch, this.current, this.position);
    const cp = this.restorePoint(branch, target);
    this.current = branch;
    this.machine.clearInput();
    this.history?.drop();
    if (this.lost || !(sameLineage && this.position <= target && this.position >= cp.position)) {
      try {
        this.checkpoints.restore(cp.id);
      } catch (e) {
        this.recover(branch);
        throw e;
      }
      this.base = cp.id;
      this.lost = false;
    }
    const from = this.position;
    this.machine.schedule(this.timeline.eventsBetween(branch, from, Infinity).map(toMachineEvent));
    try {
      return this.replayTo(target, progress);
    } finally {
      // A seek stopped short (cancelled, or a broken recording) still ran without a break from `from`.
      this.history?.keep(this.timeline.lineage(branch), from, this.position);
      this.resumeAt = this.position;
    }
  }

  /**
   * The checkpoint a seek to `target` on `branch` restores: the timeline's
   * nearest at or before it, or the {@link nearby} one where that is nearer
   * (a seek back into its stretch, a step back, puts it in the timeline).
   */
  private restorePoint(branch: string, target: number): { id: string; position: number } {
    const inTimeline = this.timeline.checkpointAtOrBefore(branch, target);
    if (!inTimeline) throw new RewindError('bad-state', `no checkpoint on branch ${branch} at or before ${target}`);
    const near = this.nearby?.cp;
    if (
      !near ||
      near.position > target ||
      near.position <= inTimeline.position ||
      !this.onLineage(branch, near.branch, near.position)
    )
      return inTimeline;
    if (nearStart(target) === near.position) this.keepSeekLeft(this.promoteNearby());
    return near;
  }

  /**
   * After a restore that failed midway (a damaged page), memory is part one
   * checkpoint's and part the machine's: no position's state. Puts the
   * machine at the start of the branch's lineage, where it stands somewhere
   * real; if that fails too, the next seek restores whatever its target is.
   */
  private recover(branch: string): void {
    const start = this.timeline.checkpointAtOrBefore(branch, 0)!;
    try {
      this.checkpoints.restore(start.id);
      this.base = start.id;
    } catch {
      this.lost = true;
      return;
    }
    this.machine.schedule(this.timeline.eventsBetween(branch, this.position, Infinity).map(toMachineEvent));
    this.resumeAt = this.position;
  }

  /** Whether position p of branch `of` is shared by branch `branch` (p lies on branch's lineage). */
  private onLineage(branch: string, of: string, p: number): boolean {
    if (branch === of) return true;
    const mine = this.timeline.lineage(branch);
    const theirs = this.timeline.lineage(of);
    for (let i = 0; i < Math.min(mine.length, theirs.length); i++) {
      if (mine[i]!.branch !== theirs[i]!.branch) return false;
      if (p <= Math.min(mine[i]!.to, theirs[i]!.to)) return true;
    }
    return false;
  }

  private replayTo(target: number, progress?: Progress): boolean {
    const start = this.position;
    const near = nearStart(target);
    const long = near > start && target - start > NEAR_INTERVAL;
    const again = this.lastNear?.branch === this.current && this.lastNear.position === near;
    this.lastNear = { branch: this.current, position: near };
    // Searches and seeks replay without the debugger's stops.
    this.applyStops({});
    while (this.position < target) {
      const pos = this.position;
      let chunk = Math.min(target - pos, SLICE);
      if (near > pos && long) chunk = Math.min(chunk, near - pos);
      const r = this.machine.run(chunk);
      this.flushEvents();
      if (this.position === near && long && this.seekCheckpoints) {
        if (again) this.leaveCheckpoint();
        else if (this.cheapCapture()) this.keepNearby();
      }
      if (r.reason === 'power' || r.reason === 'idle' || (r.steps === 0 && r.reason === 'limit')) break;
      if (progress && progress(this.position - start, target - start) === false) return false;
    }
    if (this.position !== target) {
      throw new RewindError(
        'bad-state',
        `replay stopped at ${this.position} before reaching ${target}: the recording does not replay`,
      );
    }
    return true;
  }

  /**
   * Whether a checkpoint here would cost a seek little: few pages changed since the restore
   * (a millisecond or two), so the first step back after a jump need not replay the whole way again.
   */
  private cheapCapture(): boolean {
    return this.dirtyPages <= CHEAP_CAPTURE_PAGES;
  }

  /** A checkpoint here out of the timeline, in place of the last such (see nearby). */
  private keepNearby(): void {
    this.forgetNearby();
    const pos = this.position;
    if (this.timeline.checkpointAtOrBefore(this.current, pos)?.position === pos) return;
    const pages = this.checkpoints.pages;
    const before = pages.storedBytes;
    const cp = this.checkpoints.capture(this.base, this.ownerOf(pos));
    this.base = cp.id;
    this.nearby = { cp, bytes: pages.storedBytes - before };
  }

  /**
   * Drops the {@link nearby} checkpoint: those captured over it take over its pages (see
   * Checkpointer.drop). Its own pages stay in memory until ORPHAN_BYTES of such wait, then go.
   */
  private forgetNearby(): void {
    if (this.nearby === null) return;
    const { cp, bytes } = this.nearby;
    this.nearby = null;
    if (this.base === cp.id) this.base = cp.parent;
    const cps = this.checkpoints;
    cps.drop(cp.id);
    this.orphanBytes += bytes;
    if (this.orphanBytes <= ORPHAN_BYTES) return;
    cps.pages.sweepMemory(cps.pageRefs((h) => cps.pages.sizeOf(h)));
    this.orphanBytes = 0;
  }

  /** Puts the {@link nearby} checkpoint in the timeline; returns it. */
  private promoteNearby(): Checkpoint {
    const cp = this.nearby!.cp;
    this.nearby = null;
    this.timeline.addCheckpoint(cp.branch, { id: cp.id, position: cp.position });
    return cp;
  }

  /** A checkpoint here, left by a seek: the oldest such go when the pages in memory pass seekMemory. */
  private leaveCheckpoint(): void {
    const cps = this.checkpoints;
    const count = cps.size;
    const cp = this.checkpointHere();
    if (cps.size !== count) this.keepSeekLeft(cp);
  }

  /** Counts `cp` among the checkpoints seeks left, and drops the oldest while those in memory pass seekMemory. */
  private keepSeekLeft(cp: Checkpoint): void {
    const cps = this.checkpoints;
    this.seekLeft.push(cp);
    this.seekLeft = this.seekLeft.filter((c) => cps.has(c.id));
    if (cps.pages.storedBytes <= this.seekMemory || this.seekLeft.length < 2) return;
    const live = cps.pageRefs((h) => cps.pages.sizeOf(h));
    while (cps.pages.storedBytes > this.seekMemory && this.seekLeft.length > 1) {
      const old = this.seekLeft.shift()!;
      this.timeline.removeCheckpoints(old.branch, new Set([old.id]));
      cps.drop(old.id);
      cps.pages.sweepMemory(live);
    }
  }

  /** Steps back `count` steps (a seek to position - count). */
  stepBack(count = 1): void {
    this.seek({ position: Math.max(0, this.position - count) });
  }

  /**
   * Goes back to the last point before now where a stop would have stopped
   * the machine: pc at a breakpoint, or just after a store into a watched
   * range. Uses the stops set (setStops) unless given others. Searches
   * backwards one checkpoint interval at a time. Returns the stop and moves
   * there, or returns null and moves to the start of the branch's history
   * when nothing hit.
   */
  reverseContinue(stops: DebugStops = this.stops, progress?: Progress): Stop | null {
    this.needRecording('running backwards');
    const branch = this.current;
    const origin = this.position;
    let hi = origin;
    while (hi > 0) {
      const cp = this.timeline.checkpointAtOrBefore(branch, hi - 1);
      const lo = cp ? cp.position : 0;
      // A store retiring just before `hi` stops at `hi` itself: inside this interval unless `hi` is where we started.
      const hit = this.lastHitBetween(branch, lo, hi, stops, hi < origin);
      if (hit) {
        this.seek({ branch, position: hit.position });
        const stop: Stop =
          hit.reason === 'watchpoint'
            ? { reason: 'watchpoint', steps: 0, address: hit.address, kind: hit.kind ?? 'write' }
            : { reason: 'breakpoint', steps: 0, pc: hit.address };
        return stop;
      }
      if (progress && progress(origin - lo, origin) === false) break;
      hi = lo;
    }
    this.seek({ branch, position: 0 });
    return null;
  }

  /** The last stop in [lo, hi) on a branch (watchpoint stops at `hi` too when `watchAtEnd`), by replaying it once. */
  private lastHitBetween(branch: string, lo: number, hi: number, stops: DebugStops, watchAtEnd: boolean): Hit | null {
    this.seek({ branch, position: lo });
    const cpu = this.machine.cpu;
    let last: Hit | null = null;
    if (stops.breakpoints?.some((b) => b >>> 0 === cpu.pcValue))
      last = { position: lo, reason: 'breakpoint', address: cpu.pcValue };
    this.applyStops(stops);
    try {
      while (this.position < hi) {
        const r = this.machine.run(hi - this.position);
        if (r.reason === 'breakpoint' || r.reason === 'watchpoint') {
          const inside = this.position < hi || (r.reason === 'watchpoint' && watchAtEnd);
          if (inside)
            last = {
              position: this.position,
              reason: r.reason,
              address: r.reason === 'watchpoint' ? cpu.watchAddress >>> 0 : cpu.pcValue,
              kind: cpu.watchKind,
            };
          // Step over the stop to look further.
          if (r.reason === 'breakpoint') this.machine.run(1);
          continue;
        }
        if (r.reason !== 'limit') break;
      }
    } finally {
      this.stopsOn = null;
      this.flushEvents();
      this.history?.drop();
    }
    return last;
  }

  /**
   * Starts a new branch at `position` of the current branch (default: here)
   * and moves onto it; the original branch is kept whole. The new branch
   * has the events before `position` and none at it (docs/determinism.md).
   */
  fork(position = this.position, name?: string): string {
    this.needRecording('forking');
    this.flushEvents();
    const id = this.timeline.fork(this.current, position, name ?? `fork@${position}`);
    const parentOf = this.timeline.branch(id).parent!;
    this.seek({ branch: parentOf, position });
    this.current = id;
    this.machine.schedule([]);
    return id;
  }

  /**
   * Writes a register (1..31, or 32 for pc) as a recorded event; in the
   * past of the branch this forks a new branch first.
   */
  writeRegister(index: number, value: number): void {
    if (!Number.isInteger(index) || index < 1 || index > 32)
      throw new RewindError('bad-argument', `no register ${index}`);
    this.beforeChange();
    const v = value >>> 0;
    this.machine.inject('cpu', [index, v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24]);
    this.flushEvents();
  }

  /** Writes a CSR (by number, as M-mode would) as a recorded event; in the past this forks first. */
  writeCsr(num: number, value: number): void {
    this.beforeChange();
    const v = value >>> 0;
    this.machine.inject('csr', [
      num & 0xff,
      (num >>> 8) & 0xff,
      v & 0xff,
      (v >>> 8) & 0xff,
      (v >>> 16) & 0xff,
      v >>> 24,
    ]);
    this.flushEvents();
  }

  /** Writes bytes at a physical address in RAM as a recorded event; in the past this forks first. */
  writeMemory(address: number, bytes: Uint8Array): void {
    this.beforeChange();
    const a = address >>> 0;
    this.machine.inject('memory', [a & 0xff, (a >>> 8) & 0xff, (a >>> 16) & 0xff, a >>> 24, ...bytes]);
    this.flushEvents();
  }

  /**
   * Sends keyboard or tablet events (a batch the caller ends with a
   * SYN_REPORT) as one recorded event at this position; in the past this
   * forks first. The machine must have a screen.
   */
  sendInput(device: 'keyboard' | 'tablet', events: readonly KeyOrPointerEvent[]): void {
    // Refused before forking, so that a refusal leaves no empty branch behind.
    if (!this.machine[device]) throw new RewindError('bad-argument', 'this machine has no screen (use --screen)');
    if (events.length === 0) throw new RewindError('bad-argument', 'no input events to send');
    this.beforeChange();
    this.machine.inject(device, encodeEvents(events));
    this.flushEvents();
  }

  /**
   * Delivers an Ethernet frame to the network device as one recorded event
   * at this position (device `net`, the frame as payload); in the past this
   * forks first. The device hands it to the driver as it gives receive
   * buffers (docs/network.md). `at`, a virtual time (`cpu.cycles()`), is
   * when it arrives for a machine asleep here (see Machine.deliverFrame);
   * by default, now.
   */
  receiveFrame(frame: Uint8Array, at = this.machine.cpu.cycles()): void {
    if (!this.machine.net) throw new RewindError('bad-argument', 'this machine has no network device (use --net)');
    if (frame.length < MIN_FRAME || frame.length > MAX_FRAME)
      throw new RewindError('bad-argument', `a frame is ${MIN_FRAME} to ${MAX_FRAME} bytes, not ${frame.length}`);
    this.beforeChange();
    this.machine.deliverFrame([...frame], at);
    this.flushEvents();
  }

  /** History is never rewritten: a change before the end of the branch happens on a new branch. */
  private beforeChange(): void {
    if (this.position < this.branchEnd()) this.fork(this.position);
  }

  /** Adds or moves a bookmark on the current branch (default: here). */
  bookmark(name: string, position = this.position): void {
    this.timeline.addBookmark(this.current, name, position);
  }

  /** Renames a branch (by id or name); recorded in the timeline's log, so a .vmi keeps it. */
  renameBranch(idOrName: string, name: string): void {
    const id = this.resolveBranch(idOrName);
    if (name.trim() === '') throw new RewindError('bad-argument', 'a branch needs a name');
    this.timeline.rename(id, name.trim());
  }

  /** Deletes a branch (by id or name) that is not the one the machine is on, nor the root, nor a parent. */
  deleteBranch(idOrName: string): void {
    const id = this.resolveBranch(idOrName);
    if (id === this.current)
      throw new RewindError('bad-argument', 'cannot delete the branch the machine is on: switch to another first');
    if (this.nearby?.cp.branch === id) this.forgetNearby();
    this.timeline.deleteBranch(id);
    this.history?.forget(id);
  }

  /** Whether the console history holds all output of a branch's lineage up to `position`. */
  consoleKnown(branch: string, position: number): boolean {
    return this.history?.knows(this.timeline.lineage(this.resolveBranch(branch)), position) ?? false;
  }

  /** The console as it was at the current position of the current branch. */
  console(): ConsoleText {
    if (!this.history)
      return { bytes: new Uint8Array(0), positions: new Float64Array(0), complete: this.position === 0 };
    return this.history.at(this.timeline.lineage(this.current), this.position);
  }

  /** The state hash of the machine now. */
  stateHash(): Hash128 {
    return this.checkpoints.stateHash();
  }

  /** Registers, CSRs and hash now. */
  snapshot(): StateSnapshot {
    return snapshotOf(this.machine, this.branchName, this.stateHash());
  }

  /**
   * Compares two points (on any branches): registers, CSRs, and which RAM
   * pages and disk blocks differ, with the bytes. The machine ends at `b`.
   */
  diff(a: Point, b: Point): Diff {
    this.seek(a);
    const snapA = this.snapshot();
    const ramA = this.machine.ram.bytes.slice();
    const diskA = this.machine.disk ? this.machine.disk.bytes.slice() : null;
    const tablesA = this.checkpoints.hasher.ram.allHashes();
    const diskTablesA = this.checkpoints.hasher.disk ? this.checkpoints.hasher.disk.allHashes() : null;
    this.seek(b);
    const snapB = this.snapshot();
    this.checkpoints.hasher.sync();
    const registers: Diff['registers'] = [];
    for (let i = 1; i < 32; i++)
      if (snapA.x[i] !== snapB.x[i]) registers.push({ index: i, a: snapA.x[i]!, b: snapB.x[i]! });
    const csrs: Diff['csrs'] = [];
    for (const name of Object.keys(snapA.csr))
      if (snapA.csr[name] !== snapB.csr[name]) csrs.push({ name, a: snapA.csr[name]!, b: snapB.csr[name]! });
    return {
      a: { branch: snapA.branch, position: snapA.position, hash: snapA.hash },
      b: { branch: snapB.branch, position: snapB.position, hash: snapB.hash },
      pc: snapA.pc === snapB.pc ? null : [snapA.pc, snapB.pc],
      registers,
      csrs,
      ram: pageChanges(
        tablesA,
        this.checkpoints.hasher.ram.allHashes(),
        ramA,
        this.machine.ram.bytes,
        this.machine.ramBase,
      ),
      disk:
        diskA && diskTablesA && this.machine.disk && this.checkpoints.hasher.disk
          ? pageChanges(diskTablesA, this.checkpoints.hasher.disk.allHashes(), diskA, this.machine.disk.bytes, 0)
          : [],
    };
  }

  /**
   * Replays a branch from reset on a fresh machine, to its end: the console
   * output goes to `onOutput`, and with `verify` every checkpoint's state
   * hash is checked on the way. Returns where the replay ended, how the
   * guest ended (if it powered off) and the first checkpoint that differs.
   */
  replay(branch = this.current, options: ReplayOptions = {}): ReplayResult {
    const lineage = this.timeline.lineage(branch);
    const refs = options.verify
      ? lineage.flatMap((s) =>
          this.timeline.branch(s.branch).checkpoints.filter((c) => c.position >= s.from && c.position <= s.to),
        )
      : [];
    refs.sort((x, y) => x.position - y.position);
    const end = this.branchEnd(branch);
    const fresh = buildMachine(this.spec);
    if (options.onOutput) fresh.onOutput = options.onOutput;
    const hasher = options.verify ? new Checkpointer(fresh).hasher : null;
    fresh.schedule(this.timeline.eventsBetween(branch, 0, Infinity).map(toMachineEvent));
    let checked = 0;
    const goals = [...refs.map((r) => r.position), end];
    for (let g = 0; g < goals.length; g++) {
      const goal = goals[g]!;
      while (fresh.position < goal) {
        const r = fresh.run(Math.min(SLICE, goal - fresh.position));
        options.progress?.(fresh.position, end);
        if (r.reason !== 'limit') break;
      }
      const ref = refs[g];
      if (!ref || !hasher) continue;
      const expected = this.checkpoints.get(ref.id).stateHash;
      const actual =
        fresh.position === ref.position ? hasher.stateHash() : `never reached (replay ended at ${fresh.position})`;
      if (actual !== expected)
        return {
          position: fresh.position,
          power: fresh.power,
          checked,
          mismatch: { position: ref.position, expected, actual },
          damaged: null,
        };
      checked++;
    }
    // The replay proves the hashes; the stored checkpoints must hold what their hashes say, or a later seek would use a wrong state.
    const bad = options.verify ? this.checkpoints.verifyStored() : null;
    const damaged = bad ? { position: bad.checkpoint.position, message: bad.error.message } : null;
    return { position: fresh.position, power: fresh.power, checked, mismatch: null, damaged };
  }

  /** All branches, in id order. */
  branches(): Branch[] {
    return this.timeline.branches();
  }
}

/** Where a debugger stop was found: the position, why, and the pc (breakpoint) or the address written (watchpoint). */
interface Hit {
  position: number;
  reason: 'breakpoint' | 'watchpoint';
  address: number;
  /** Which watchpoint kind stopped (a watchpoint hit). */
  kind?: WatchKind;
}

export interface ReplayOptions {
  onOutput?: (byte: number) => void;
  verify?: boolean;
  progress?: Progress;
}

export interface ReplayResult {
  /** Where the replay ended. */
  position: number;
  /** How the guest powered off, if it did. */
  power: PowerEvent | null;
  /** Checkpoints whose hash matched. */
  checked: number;
  /** The first checkpoint whose hash differs, or null. */
  mismatch: { position: number; expected: Hash128; actual: string } | null;
  /** With `verify`: the first stored checkpoint whose contents do not match its own state hash, or null. */
  damaged: { position: number; message: string } | null;
}

/** The architectural state of a machine, with a hash computed by the caller. */
export function snapshotOf(machine: Machine, branch: string, hash: Hash128): StateSnapshot {
  const cpu = machine.cpu;
  // Every CSR as M-mode would read it, without side effects.
  const csr = peekAllCsrs(cpu);
  return {
    branch,
    position: machine.position,
    pc: cpu.pcValue,
    x: Array.from(cpu.x.subarray(0, 32), (v) => v >>> 0),
    csr,
    priv: cpu.priv,
    hash,
  };
}

function pageChanges(
  ta: readonly Hash128[],
  tb: readonly Hash128[],
  a: Uint8Array,
  b: Uint8Array,
  base: number,
): PageChange[] {
  const out: PageChange[] = [];
  for (let p = 0; p < Math.min(ta.length, tb.length); p++) {
    if (ta[p] === tb[p]) continue;
    const runs: PageChange['runs'] = [];
    const off = p * PAGE_SIZE;
    let i = 0;
    while (i < PAGE_SIZE) {
      if (a[off + i] === b[off + i]) {
        i++;
        continue;
      }
      const start = i;
      while (i < PAGE_SIZE && a[off + i] !== b[off + i]) i++;
      runs.push({ offset: start, a: [...a.subarray(off + start, off + i)], b: [...b.subarray(off + start, off + i)] });
    }
    out.push({ page: p, address: base + off, runs });
  }
  return out;
}

function padToPages(bytes: Uint8Array): Uint8Array {
  const size = Math.ceil(bytes.length / PAGE_SIZE) * PAGE_SIZE;
  if (size === bytes.length) return bytes;
  const out = new Uint8Array(size);
  out.set(bytes);
  return out;
}

/** The disk image at reset, rebuilt from the recording's page map. */
function diskFromPages(rec: Recording): Uint8Array {
  const size = rec.config.diskSize!;
  const bytesLength = Number(rec.config.machine['diskBytes'] ?? size);
  const image = new Uint8Array(size);
  const store = new PageStore({ cold: rec.pages });
  for (const [i, h] of rec.disk ?? new Map<number, Hash128>()) image.set(store.get(h), i * PAGE_SIZE);
  return bytesLength <= size ? image.subarray(0, bytesLength) : image;
}
