/**
 * The message protocol between the page and the machine's Web Worker.
 *
 * Every command may carry an `id`; the worker answers a command that has one
 * with a `reply` event holding the same id (data on success, an error with a
 * code and a message on failure). Commands without an id are fire-and-forget.
 * Events the worker sends on its own (console output, status, stats) never
 * carry an id.
 *
 * The time-travel commands (seek, stepBack, reverseContinue, fork, diff,
 * exportVmi, the branch and bookmark edits, stateHash) are part of the
 * protocol from the start; a worker whose machine does not record answers
 * them with the error code `no-time-travel`, and says so in
 * `ready.capabilities.timeTravel`. importVmi always works: it replaces the
 * machine with the recording it opens.
 *
 * All payloads are structured-clone friendly; byte arrays travel as
 * Uint8Array (transferred where the sender no longer needs them).
 */

import type { MemberEnd } from '../../session/group.js';
import type { InputEvent } from '../../storage/index.js';

/** The most RAM (MiB) a machine of the page gets (setRam): the worker holds it, and a recording's copies of its pages, in memory. */
export const MAX_RAM_MIB = 2048;

/** A watched range of guest (virtual) addresses: the machine stops after a store into it. */
export interface WatchRange {
  address: number;
  length: number;
}

/** What boots a Linux kernel besides the kernel itself. */
export interface LinuxBoot {
  /** The initramfs. */
  initrd?: Uint8Array;
  /** The kernel command line (default: console=ttyS0 earlycon=sbi). */
  append?: string;
}

/** The interpreter (the reference) or the block JIT, which falls back to the interpreter where code generation is forbidden. */
export type Executor = 'interp' | 'jit';

/** What a share link of the current point carries (src/web/share.ts), but the file names. */
export interface ShareInfo {
  kind: 'elf' | 'raw' | 'linux';
  ramSize: number;
  append?: string;
  /** The machine has a screen (virtio GPU, keyboard, tablet). */
  screen?: boolean;
  /** Digests of the machine's parts (see share.ts partHash). */
  hashes: { program: string; initrd?: string; disk?: string };
  events: InputEvent[];
  position: number;
}

/** One Linux input event (struct input_event's type, code, value), as the virtio keyboard and tablet take them. */
export interface LinuxInputEvent {
  type: number;
  code: number;
  value: number;
}

/** The machine's screen at a position, as the canvas puts it (RGBA, opaque). */
export interface ScreenFrame {
  width: number;
  height: number;
  rgba: Uint8ClampedArray<ArrayBuffer>;
  position: number;
}

/** A small picture of the screen at a position, for the filmstrip. */
export type Thumbnail = ScreenFrame;

/** Where the machine is: a position (steps since reset) on a branch. */
export interface PointRef {
  /** Branch id; the current branch when omitted. */
  branch?: string;
  position: number;
}

// ---------------------------------------------------------------- commands

export type Command =
  /**
   * Builds a fresh machine from program bytes (ELF, or a raw image when not
   * ELF) and pauses at position 0. With `linux`, `image` is a Linux kernel
   * Image that the built-in SBI firmware boots.
   */
  | {
      type: 'load';
      id?: number;
      image: Uint8Array;
      name?: string;
      ramSize?: number;
      disk?: Uint8Array;
      linux?: LinuxBoot;
      /** Start running once loaded. */
      run?: boolean;
      /** Record (time travel) when the worker can. */
      record?: boolean;
      /** Which executor runs the hart (default the block JIT); a recording does not keep it: both give the same run. */
      executor?: Executor;
      /** A screen: the virtio GPU, keyboard and tablet (a recording keeps it). */
      screen?: boolean;
      /** A network device with this MAC (a recording keeps it): the machine can join a network group. */
      net?: { mac: string };
    }
  /** Runs forward until paused, a breakpoint/watchpoint, or power-off. */
  | { type: 'run'; id?: number }
  | { type: 'pause'; id?: number }
  /** Executes `count` steps (default 1) then stops; breakpoints stop it early except at the first step. */
  | { type: 'step'; id?: number; count?: number }
  /** Console input: bytes typed (they wait in the machine's queue until the guest is ready for them). */
  | { type: 'type'; id?: number; bytes: Uint8Array }
  /** Keyboard or tablet input: Linux input events ending with a SYN_REPORT, one recorded event here (in the past it forks). */
  | { type: 'input'; id?: number; device: 'keyboard' | 'tablet'; events: LinuxInputEvent[] }
  /** Reads guest memory (physical addresses unless `virtual`, which translates through the current satp). */
  | { type: 'readMemory'; id: number; address: number; length: number; virtual?: boolean }
  /** Asks for a `registers` event (also answered through `reply`). */
  | { type: 'getRegisters'; id?: number }
  /** Disassembly of `before` instructions before `address` (default pc) and `after` from it. */
  | { type: 'disassemble'; id: number; address?: number; before?: number; after?: number }
  | { type: 'setBreakpoints'; id?: number; addresses: number[] }
  | { type: 'setWatchpoints'; id?: number; ranges: WatchRange[] }
  /**
   * Attaches a disk image (virtio-blk): the program starts again from reset
   * with it, as a new machine (a disk is part of what a machine is built
   * from, so a recording keeps it). Runs once attached.
   */
  | { type: 'attachDisk'; id?: number; disk: Uint8Array; name?: string }
  /** Replies with `{ bytes, position }`: the disk as it is at the current position (error `no-disk` without one). */
  | { type: 'readDisk'; id: number }
  /** Replies with a ShareInfo: what a share link of the current point carries (recording hosts only). */
  | { type: 'shareInfo'; id: number }
  /**
   * Builds the machine a share link names and replays its events to
   * `position` (a job, as an import); replies with `{ branch, position }`.
   */
  | {
      type: 'openShare';
      id?: number;
      kind: 'elf' | 'raw' | 'linux';
      image: Uint8Array;
      initrd?: Uint8Array;
      append?: string;
      disk?: Uint8Array;
      ramSize: number;
      screen?: boolean;
      events: InputEvent[];
      position: number;
      name: string;
      executor?: Executor;
    }
  /** Measures guest speed: runs a fresh machine from `image` to power-off (or `maxSteps`) and replies with a BenchResult. */
  | { type: 'bench'; id: number; image: Uint8Array; maxSteps?: number }
  // ---- time travel (answered with error `no-time-travel` until the host records)
  | { type: 'seek'; id?: number; branch?: string; position: number }
  | { type: 'stepBack'; id?: number; count?: number }
  /** Runs backwards to the last breakpoint/watchpoint hit (or the start of the branch). */
  | { type: 'reverseContinue'; id?: number }
  /**
   * Goes back to the instruction that last wrote the guest memory behind the
   * screen's pixel (x, y) (a store into its 4 bytes of the resource's
   * backing); replies with its position, or null (the machine stays put) when
   * none wrote it, or the pixel has no memory behind it.
   */
  | { type: 'pixelWriter'; id?: number; x: number; y: number }
  /**
   * Replies with a Thumbnail of the screen at each of `positions` (at most
   * 16) on the current branch, `width` pixels wide at most; the machine ends
   * where it was. A position with nothing on the screen is left out.
   */
  | { type: 'thumbnails'; id: number; positions: number[]; width: number }
  | { type: 'fork'; id?: number; position?: number; name?: string }
  /** Replies with `{ bytes: Uint8Array, name: string, branch, position }`: the recording as a .vmi file, and the point it was taken at. */
  | { type: 'exportVmi'; id: number }
  /** Opens a .vmi (validated before anything changes), at `at` or else where its root branch ends, on `executor` as for load; replies with `{ branch, position }`. Works whether or not the machine it replaces records. */
  | { type: 'importVmi'; id?: number; bytes: Uint8Array; name?: string; at?: PointRef; executor?: Executor }
  /** Bytes a recording's pages may take, for this machine and the ones loaded or imported after (it thins its past to stay within). */
  | { type: 'setBudget'; id?: number; bytes: number }
  /**
   * The VM's CPU share: at most `mips` million instructions per second of
   * wall time (null: as fast as the host runs it). Kept for the machines
   * loaded or imported after.
   */
  | { type: 'setPace'; id?: number; mips: number | null }
  /**
   * Rebuilds the machine with `ramSize` bytes of RAM: the program starts
   * again from reset, paused, as a new machine (RAM size is part of what a
   * machine is built from, so a recording keeps it).
   */
  | { type: 'setRam'; id?: number; ramSize: number }
  /** Cancels the long operation `job` (from its `progress` events), or every one. */
  | { type: 'cancel'; id?: number; job?: number }
  /** Replies with the state hash (hex) of the machine now, as `rewind state` prints it. */
  | { type: 'stateHash'; id: number }
  /** Compares two points (on any branches); replies with a DiffResult. The machine stays where it is. */
  | { type: 'diff'; id: number; a: PointRef; b: PointRef }
  | { type: 'renameBranch'; id?: number; branch: string; name: string }
  /** Deletes a branch that is neither the root, the current one, nor the parent of another. */
  | { type: 'deleteBranch'; id?: number; branch: string }
  /** Adds (or moves) a bookmark on the current branch, here unless `position` is given. */
  | { type: 'bookmark'; id?: number; name: string; position?: number }
  // ---- a network group (src/web/network.ts; docs/network.md, "Groups in the web app")
  /**
   * The machine (recording, with a network device) joins a network group
   * where it stands: from now on it runs only in the quanta the page gives
   * it, and console input typed into it goes in at the start of the next
   * quantum (on its way, the machine shows as running). `end` is where
   * the group's last quantum left it (a saved group's moment); by default
   * running, or powered off when it stands so.
   */
  | { type: 'joinGroup'; id?: number; end?: MemberEnd }
  /** Brings a group's machine back to the group's present (where its quanta left it), paused; replies with that position. */
  | { type: 'groupPresent'; id?: number }
  /** The machine leaves its network group (paused there): it runs on its own again. */
  | { type: 'leaveGroup'; id?: number }
  /**
   * Runs quantum `quantum`: the typed input held, then `frames` delivered at
   * time `start`, then the machine runs until its clock reaches `until`, falls
   * asleep, or powers off; replies with a QuantumResult. A machine that waits
   * for input, given none, does not run. The reply waits while the machine is
   * paused (by the user, a breakpoint or a watchpoint): the group waits for it.
   */
  | { type: 'quantum'; id: number; quantum: number; start: number; until: number; frames: Uint8Array[] };

/** How a member of a network group ran a quantum. */
export interface QuantumResult {
  /** It ran (it was not waiting for input with nothing given, nor powered off). */
  ran: boolean;
  /** Where it ended, as the group's switchboard takes it (session/group.ts MemberEnd). */
  end: MemberEnd;
  /** The frames it sent, in order. */
  sent: Uint8Array[];
  /** The console input typed since the last quantum, given at this one's start (null for none). */
  typed: Uint8Array | null;
  position: number;
}

// ---------------------------------------------------------------- events

export type RunState =
  /** Running forward in slices. */
  | 'running'
  /** Stopped by the user, a step, a breakpoint or a watchpoint. */
  | 'paused'
  /** Running but asleep in wfi with nothing that could wake it except input. */
  | 'waiting'
  /** The guest powered off (or failed); it runs no further. */
  | 'off'
  /** No machine loaded yet. */
  | 'empty';

export type StopCause = 'user' | 'step' | 'breakpoint' | 'watchpoint' | 'power' | 'seek' | 'load' | 'error';

/** Why the machine stopped, with what the page says about it (see src/web/stops.ts). */
export type StopDetail =
  | { kind: 'breakpoint'; pc: number; symbol?: string }
  /** `old`: the watched bytes before the store (unknown after a run back); `value`: after it. */
  | { kind: 'watchpoint'; address: number; symbol?: string; old?: number[]; value: number[] }
  /** `trap`: the exception the guest took before a failing power-off (mcause, mepc, mtval), when there was one. */
  | {
      kind: 'power';
      power: 'pass' | 'fail';
      code: number;
      trap?: { cause: number; epc: number; tval: number; symbol?: string };
    }
  | { kind: 'waiting' };

/** A stop on the timeline (breakpoint, watchpoint, power-off) where the machine stopped on the current branch. */
export interface StopMark {
  position: number;
  kind: StopDetail['kind'];
  label: string;
}

export interface Status {
  state: RunState;
  /** Steps since reset. */
  position: number;
  /** The furthest position the current run (branch) has reached: the timeline's length. */
  end: number;
  /** Current branch id ('main' when the host does not record). */
  branch: string;
  pc: number;
  /** Privilege mode: 0 U, 1 S, 3 M. */
  priv: number;
  /** Why it last stopped (absent while running). */
  cause?: StopCause;
  /** For cause 'watchpoint': the address written. */
  watchAddress?: number;
  /** For state 'off': 'pass' | 'fail' with the syscon code. */
  power?: { kind: string; code: number };
  /** Why it stopped, in detail (breakpoint, watchpoint, power-off, waiting for input); absent while running. */
  stop?: StopDetail;
  /** It runs in a network group: only in the quanta the page gives it. */
  grouped?: boolean;
}

export interface Registers {
  position: number;
  pc: number;
  priv: number;
  /** x0..x31 as unsigned 32-bit values. */
  x: number[];
  /** CSR name → unsigned value, read as M-mode would (no side effects). */
  csr: Record<string, number>;
}

/** What each part of the machine is doing, for the live picture. Sent a few times a second. */
export interface Stats {
  position: number;
  /** Steps per second over the last interval (0 when stopped). */
  ips: number;
  priv: number;
  pc: number;
  /** RAM pages whose dirty flag is set (bit per 4 KiB page). */
  ramTouched: Uint8Array;
  /** RAM pages whose dirty flag became set since the previous stats (bit per page). */
  ramFresh: Uint8Array;
  ramPages: number;
  /** Same for the disk, or null without one. */
  diskTouched: Uint8Array | null;
  diskFresh: Uint8Array | null;
  diskPages: number;
  /** Bytes the running guest read from its disk since the previous stats. */
  diskReadFresh: number;
  /** Console traffic totals and the bytes typed but not yet taken by the guest. */
  uartOut: number;
  uartIn: number;
  pendingInput: number;
}

export interface DisasmLine {
  address: number;
  /** The instruction bits (16-bit parcel or 32-bit word). */
  bits: number;
  length: number;
  text: string;
  /** Symbol at this address, if the ELF names one. */
  symbol?: string;
}

export interface MemoryBlock {
  address: number;
  /** The bytes; positions that cannot be read (outside RAM, unmapped) are 0 and flagged in `readable`. */
  bytes: Uint8Array;
  /** One per byte: 1 when read, 0 when not readable (MMIO is never read: reads have side effects). */
  readable: Uint8Array;
}

export interface Capabilities {
  /** Seek, step back, reverse-continue, fork, .vmi export/import. */
  timeTravel: boolean;
}

export interface BenchResult {
  steps: number;
  seconds: number;
  mips: number;
  output: string;
}

/** The long operations that report progress and can be cancelled. */
export type ProgressOp = 'seek' | 'import' | 'export';

export interface ReplyError {
  /** 'no-time-travel', 'bad-argument', 'no-machine', 'cancelled', 'superseded', or a RewindError code. */
  code: string;
  message: string;
}

/** One branch of the recording. */
export interface BranchInfo {
  id: string;
  name: string;
  /** Parent branch id; null for the root. */
  parent: string | null;
  forkPosition: number;
  /** The last position it has run to. */
  end: number;
}

/** The branch tree and what happened along the current branch (its lineage), for the scrubber. */
export interface TimelineInfo {
  branch: string;
  branches: BranchInfo[];
  /** Positions of checkpoints, input events and console output (thinned), ascending. */
  checkpoints: number[];
  inputs: number[];
  /** Where each command line typed into the console starts (see branches.ts commandStarts): what `[` and `]` go by, with stops and bookmarks. */
  commands: number[];
  output: number[];
  bookmarks: { name: string; position: number }[];
  /** Where the machine stopped for a reason along this lineage (this session's stops, and a power-off found at a load). */
  stops?: StopMark[];
}

/** A changed 4 KiB page: where, how many bytes differ, and the first runs of differing bytes. */
export interface PageDiff {
  page: number;
  address: number;
  changedBytes: number;
  runs: { offset: number; a: number[]; b: number[] }[];
}

/** What differs between two points. Long lists are cut: the totals say how much there is. */
export interface DiffResult {
  a: { branch: string; name: string; position: number; hash: string };
  b: { branch: string; name: string; position: number; hash: string };
  pc: [number, number] | null;
  registers: { index: number; a: number; b: number }[];
  csrs: { name: string; a: number; b: number }[];
  ram: PageDiff[];
  disk: PageDiff[];
  ramPages: number;
  diskPages: number;
}

export type WorkerEvent =
  | { type: 'ready'; capabilities: Capabilities }
  | {
      type: 'loaded';
      name: string;
      entry: number;
      symbols: [string, number][];
      ramSize: number;
      /** The executor in use (the interpreter when the JIT asked for could not run). */
      executor: Executor;
      /** Why the JIT asked for could not run, or null. */
      executorNote: string | null;
      /** Bytes of the disk image attached, or null without a disk. */
      diskSize: number | null;
    }
  /** Bytes the guest wrote to its console (with the position of the instruction that wrote each). */
  | { type: 'output'; bytes: Uint8Array; positions?: Float64Array }
  /** The console as it was at the current position (after a seek, a fork, a load): the page shows exactly this. */
  | { type: 'console'; bytes: Uint8Array; positions: Float64Array; complete: boolean }
  /** The branches and the marks of the current one, whenever they change (recording hosts only). */
  | { type: 'timeline'; timeline: TimelineInfo }
  /** The screen when it changed (src/web/frames.ts); null when the machine shows nothing (or has no screen). */
  | { type: 'screen'; frame: ScreenFrame | null }
  | { type: 'status'; status: Status }
  | { type: 'registers'; registers: Registers }
  | { type: 'stats'; stats: Stats }
  | { type: 'breakpoints'; addresses: number[]; watchpoints: WatchRange[] }
  /** A problem not tied to a command (e.g. the guest could not be built). */
  | { type: 'error'; error: ReplyError }
  /**
   * A long operation (seek, import, export) reports how far it is, from its
   * second slice on; the last report has `finished` (done, failed or cancelled).
   */
  | { type: 'progress'; job: number; op: ProgressOp; done: number; total: number; finished?: boolean }
  | { type: 'reply'; id: number; ok: true; data?: unknown }
  | { type: 'reply'; id: number; ok: false; error: ReplyError };
