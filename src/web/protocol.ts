/**
 * The message protocol between the page and the machine's Web Worker.
 *
 * Every command may carry an `id`; the worker answers a command that has one
 * with a `reply` event holding the same id (data on success, an error with a
 * code and a message on failure). Commands without an id are fire-and-forget.
 * Events the worker sends on its own (console output, status, stats) never
 * carry an id.
 *
 * The time-travel commands (seek, stepBack, reverseContinue, fork, exportVmi,
 * importVmi) are part of the protocol from the start; a worker whose host
 * cannot travel in time answers them with the error code `no-time-travel`,
 * and says so up front in `ready.capabilities.timeTravel`.
 *
 * All payloads are structured-clone friendly; byte arrays travel as
 * Uint8Array (transferred where the sender no longer needs them).
 */

/** A watched range of guest (virtual) addresses: the machine stops after a store into it. */
export interface WatchRange {
  address: number;
  length: number;
}

/** Where the machine is: a position (steps since reset) on a branch. */
export interface PointRef {
  /** Branch id; the current branch when omitted. */
  branch?: string;
  position: number;
}

// ---------------------------------------------------------------- commands

export type Command =
  /** Builds a fresh machine from program bytes (ELF, or a raw image when not ELF) and pauses at position 0. */
  | {
      type: 'load';
      id?: number;
      image: Uint8Array;
      name?: string;
      ramSize?: number;
      disk?: Uint8Array;
      /** Start running once loaded. */
      run?: boolean;
      /** Record (time travel) when the worker can. */
      record?: boolean;
    }
  /** Runs forward until paused, a breakpoint/watchpoint, or power-off. */
  | { type: 'run'; id?: number }
  | { type: 'pause'; id?: number }
  /** Executes `count` steps (default 1) then stops; breakpoints stop it early except at the first step. */
  | { type: 'step'; id?: number; count?: number }
  /** Console input: bytes typed (they wait in the machine's queue until the guest is ready for them). */
  | { type: 'type'; id?: number; bytes: Uint8Array }
  /** Reads guest memory (physical addresses unless `virtual`, which translates through the current satp). */
  | { type: 'readMemory'; id: number; address: number; length: number; virtual?: boolean }
  /** Asks for a `registers` event (also answered through `reply`). */
  | { type: 'getRegisters'; id?: number }
  /** Disassembly of `before` instructions before `address` (default pc) and `after` from it. */
  | { type: 'disassemble'; id: number; address?: number; before?: number; after?: number }
  | { type: 'setBreakpoints'; id?: number; addresses: number[] }
  | { type: 'setWatchpoints'; id?: number; ranges: WatchRange[] }
  /** Measures guest speed: runs a fresh machine from `image` to power-off (or `maxSteps`) and replies with a BenchResult. */
  | { type: 'bench'; id: number; image: Uint8Array; maxSteps?: number }
  // ---- time travel (answered with error `no-time-travel` until the host records)
  | { type: 'seek'; id?: number; branch?: string; position: number }
  | { type: 'stepBack'; id?: number; count?: number }
  /** Runs backwards to the last breakpoint/watchpoint hit (or the start of the branch). */
  | { type: 'reverseContinue'; id?: number }
  | { type: 'fork'; id?: number; position?: number; name?: string }
  /** Replies with `{ bytes: Uint8Array, name: string }`, the recording as a .vmi file. */
  | { type: 'exportVmi'; id: number }
  | { type: 'importVmi'; id?: number; bytes: Uint8Array; name?: string };

export type CommandType = Command['type'];

/** The time-travel commands, for UIs that enable them by capability. */
export const TIME_TRAVEL_COMMANDS = ['seek', 'stepBack', 'reverseContinue', 'fork', 'exportVmi', 'importVmi'] as const;

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

export interface ReplyError {
  /** 'no-time-travel', 'bad-argument', 'no-machine', or a RewindError code. */
  code: string;
  message: string;
}

export type WorkerEvent =
  | { type: 'ready'; capabilities: Capabilities }
  | { type: 'loaded'; name: string; entry: number; symbols: [string, number][]; ramSize: number }
  /** Bytes the guest wrote to its console. */
  | { type: 'output'; bytes: Uint8Array }
  | { type: 'status'; status: Status }
  | { type: 'registers'; registers: Registers }
  | { type: 'stats'; stats: Stats }
  | { type: 'breakpoints'; addresses: number[]; watchpoints: WatchRange[] }
  /** A problem not tied to a command (e.g. the guest could not be built). */
  | { type: 'error'; error: ReplyError }
  | { type: 'reply'; id: number; ok: true; data?: unknown }
  | { type: 'reply'; id: number; ok: false; error: ReplyError };

export type EventType = WorkerEvent['type'];
