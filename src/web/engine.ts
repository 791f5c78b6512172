/**
 * The worker's logic, apart from the Worker global so that tests run it in
 * Node: it keeps one machine host, handles protocol commands, and runs the
 * machine in slices sized to about SLICE_MS of wall time, yielding between
 * slices so that commands (pause, type, read memory) are handled promptly.
 */
import { RewindError } from '../../core/errors.js';
import { TIMEBASE_HZ } from '../../core/memmap.js';
import { VirtioBlock } from '../../core/virtio/block.js';
import { EV_KEY } from '../../core/virtio/input.js';
import { memberEnd, type MemberEnd } from '../../session/group.js';
import { Session, type Stop } from '../../session/session.js';
import { programSpec, type MachineSpec } from '../../session/spec.js';
import { MachineHost, registersOf } from './host.js';
import { ScreenFrames, shrink } from './frames.js';
import { JobCancelled, Jobs, exportWork, importWork, seekWork, type Work } from './jobs.js';
import { partHash } from './share.js';
import { disassembleAround, readMemory } from './peek.js';
import { PaceCap } from './pace.js';
import { pixelAddress } from './pixels.js';
import { markLabel } from './stops.js';
import { SymbolTable } from './symbols.js';
import { MAX_RAM_MIB } from './protocol.js';
import type {
  BenchResult,
  Command,
  Executor,
  LinuxInputEvent,
  QuantumResult,
  ReplyError,
  ShareInfo,
  Stats,
  Status,
  StopCause,
  StopDetail,
  StopMark,
  Thumbnail,
  WatchRange,
  WorkerEvent,
} from './protocol.js';

/** Commands that leave the machine where it is, so a long seek or import goes on beside them. */
const BESIDE_JOBS = new Set<Command['type']>([
  'cancel',
  'pause',
  'readMemory',
  'getRegisters',
  'disassemble',
  'setBreakpoints',
  'setWatchpoints',
  'stateHash',
  'thumbnails',
  'exportVmi',
  'renameBranch',
  'bookmark',
  'setPace',
  // A quantum that comes while a seek is on its way waits for it (the machine is paused meanwhile).
  'quantum',
]);

/** A quantum of a network group on its way: given, and not finished yet. */
interface PendingQuantum {
  cmd: Extract<Command, { type: 'quantum' }>;
  /** Its typed input and frames are in: what is left is to run to its end. */
  started: boolean;
  sent: Uint8Array[];
  typed: Uint8Array | null;
  resolve: (result: QuantumResult) => void;
}

/** The machine's part in a network group (src/web/network.ts). */
interface GroupRole {
  /** The branch it runs on in the group: a look at the past (or another branch) while it is paused comes back to its end. */
  branch: string;
  /** Console input typed since the last quantum began, for the next one. */
  held: number[];
  /** Where the last quantum it ran left it, as the group's switchboard has it. */
  end: MemberEnd;
  pending: PendingQuantum | null;
}

/** Commands that build the machine anew, which a network group's machine refuses. */
const REBUILDS = new Set<Command['type']>(['load', 'attachDisk', 'openShare', 'importVmi', 'setRam', 'bench']);

/** Wall time one slice aims at: short enough for the page to feel instant. */
const SLICE_MS = 12;
const MIN_SLICE = 1_000;
const MAX_SLICE = 5_000_000;
/** How often status, stats and registers go out while running. */
const REPORT_MS = 200;
/** How often console output goes out while running: soon enough for typing to feel immediate, in few messages. */
const OUTPUT_MS = 50;
const DEFAULT_RAM = 64 * 1024 * 1024;
/** The largest disk image the page attaches: the worker holds it (and a copy per recording) in memory. */
export const MAX_DISK = 512 * 1024 * 1024;
/** The most lines one disassemble answers on each side (the page asks for more as it scrolls). */
const MAX_DISASM = 256;
/** The most thumbnails one request gets: each is a seek. */
const MAX_THUMBNAILS = 16;
/** The longest wait for the wall clock after an idle slice: commands are still handled meanwhile. */
const MAX_IDLE_PAUSE_MS = 100;

export interface EngineOptions {
  post: (event: WorkerEvent, transfer?: Transferable[]) => void;
  /** Calls `fn` soon, after pending messages (MessageChannel in a worker, setImmediate in Node). */
  defer: (fn: () => void) => void;
  now?: () => number;
  /** Makes the host for a program (MachineHost.create by default; tests watch hosts here). */
  createHost?: (spec: MachineSpec, record: boolean, budget?: number) => MachineHost;
  /** Opens a .vmi file as a host (MachineHost.open by default). */
  openVmi?: (bytes: Uint8Array, executor?: Executor, budget?: number) => MachineHost;
}

class CommandError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const noTimeTravel = (): never => {
  throw new CommandError('no-time-travel', 'this needs a recording: the machine runs without one (?record=0)');
};

function bitmap(flags: Uint8Array): Uint8Array {
  const out = new Uint8Array((flags.length + 7) >>> 3);
  for (let i = 0; i < flags.length; i++) if (flags[i] !== 0) out[i >>> 3]! |= 1 << (i & 7);
  return out;
}

/**
 * The size of the next slice and how long to wait before it, from how the
 * last one went: `steps` run (all of `slice` when `full`), `idled` ticks
 * slept, `wallMs` taken.
 *
 * A busy guest gets slices of about SLICE_MS of wall time, growing gently
 * and shrinking fast. A guest that slept through most of the slice (timer
 * ticks of an idle OS) would race its virtual clock far ahead of the wall
 * clock, burning the host's CPU and growing the recording: it gets slices
 * of SLICE_MS of virtual time, and a wait until the wall clock catches up.
 */
export function nextSlice(
  slice: number,
  steps: number,
  full: boolean,
  idled: number,
  wallMs: number,
): { slice: number; pauseMs: number } {
  const clamp = (n: number) => Math.round(Math.min(MAX_SLICE, Math.max(MIN_SLICE, n)));
  if (idled > steps) {
    const virtualMs = ((steps + idled) / TIMEBASE_HZ) * 1000;
    return {
      slice: clamp((steps * SLICE_MS) / virtualMs),
      pauseMs: Math.min(MAX_IDLE_PAUSE_MS, Math.max(0, virtualMs - wallMs)),
    };
  }
  if (!full || steps !== slice) return { slice, pauseMs: 0 };
  const ideal = wallMs > 0 ? (slice * SLICE_MS) / wallMs : slice * 2;
  return { slice: clamp(Math.min(ideal, slice * 2)), pauseMs: 0 };
}

/** Bits set in `now` and not in `before`. */
function fresh(now: Uint8Array, before: Uint8Array | null): Uint8Array {
  const out = new Uint8Array(now.length);
  for (let i = 0; i < now.length; i++) out[i] = now[i]! & ~(before?.[i] ?? 0);
  return out;
}

export class Engine {
  host: MachineHost | null = null;
  private state: Status['state'] = 'empty';
  private cause: StopCause | undefined;
  private watchAddress: number | undefined;
  /** Why the machine last stopped, in detail (cleared when it runs). */
  private detail: StopDetail | undefined;
  /** The watched bytes before the slice that is running (a watchpoint stops at the first store into one: these are the old values). */
  private watchBefore: { address: number; bytes: number[] }[] = [];
  /** Stop marks per branch id, for the timeline. */
  private stopMarks = new Map<string, StopMark[]>();
  private stopMarksVersion = 0;
  private slice = 100_000;
  /** Bytes a recording's pages may take (setBudget); unlimited until the page says. */
  private budget: number | undefined;
  /** The next slice is the first of a run the user asked for: it executes a breakpoint it starts on. */
  private resume = false;
  private loopScheduled = false;
  private output: number[] = [];
  /** The position that wrote each byte of `output`. */
  private outputAt: number[] = [];
  private timelineVersion = '';
  private breakpoints: number[] = [];
  private watchpoints: WatchRange[] = [];
  private symbols = SymbolTable.empty;
  /** The name the machine was loaded under. */
  private name = '';
  private lastReport = 0;
  private lastOutputFlush = 0;
  private lastStatsAt = 0;
  private lastStatsPosition = 0;
  private lastRam: Uint8Array | null = null;
  private lastDisk: Uint8Array | null = null;
  /** Bytes the guest's disk reads returned, as told by the block device's hook (see stats). */
  private diskRead = 0;
  private lastDiskRead = 0;
  /** Console bytes the guest had taken where the machine last jumped to (a load, seek, fork…), and typed since. */
  private takenBefore = 0;
  private typed = 0;
  /** Console bytes written up to the current position. */
  private outCount = 0;
  private readonly now: () => number;
  /** Long operations (seek, import, export) in progress. */
  private readonly jobs: Jobs;
  private readonly frames: ScreenFrames;
  /** The CPU share the page gave this VM (setPace). */
  private readonly pace = new PaceCap();
  /**
   * Keys held down on the guest's keyboard, and the pace (real time: a step
   * is one tick of the timebase) it runs at meanwhile. A busy guest runs many
   * times faster than real time, so a key held for a few milliseconds would
   * last seconds of its time, and the guest would repeat it.
   */
  private readonly held = new Set<number>();
  private readonly heldPace = new PaceCap();
  /** In a network group: the page gives the machine its quanta (joinGroup). */
  private group: GroupRole | null = null;

  constructor(private readonly options: EngineOptions) {
    this.now = options.now ?? (() => performance.now());
    this.jobs = new Jobs((e) => options.post(e), options.defer, this.now);
    this.frames = new ScreenFrames(options.post, this.now);
  }

  get capabilities() {
    return { timeTravel: this.host?.timeTravel ?? false };
  }

  /** Handles one command; replies when it has an id (long operations reply when they end). */
  handle(cmd: Command): void {
    const ok = (data: unknown) => {
      if (cmd.id !== undefined) this.options.post({ type: 'reply', id: cmd.id, ok: true, data }, transferables(data));
    };
    const fail = (e: unknown) => {
      const error = toReplyError(e);
      if (cmd.id !== undefined) this.options.post({ type: 'reply', id: cmd.id, ok: false, error });
      else if (error.code !== 'superseded') this.options.post({ type: 'error', error });
    };
    try {
      if (!BESIDE_JOBS.has(cmd.type)) this.jobs.supersede();
      const data = this.dispatch(cmd);
      if (data instanceof Promise) data.then(ok, fail);
      else ok(data);
    } catch (e) {
      fail(e);
    }
  }

  private need(): MachineHost {
    if (!this.host) throw new CommandError('no-machine', 'no program is loaded');
    return this.host;
  }

  private dispatch(cmd: Command): unknown {
    if (this.group && REBUILDS.has(cmd.type))
      throw new CommandError(
        'bad-state',
        'this VM runs in a network group: its machine cannot be replaced (take it out of the group first)',
      );
    switch (cmd.type) {
      case 'load':
        this.load(
          programSpec(cmd.image, {
            ramSize: cmd.ramSize ?? DEFAULT_RAM,
            disk: cmd.disk,
            linux: cmd.linux,
            executor: cmd.executor,
            screen: cmd.screen,
            net: cmd.net,
          }),
          cmd.name ?? 'program',
          cmd.record ?? false,
        );
        if (cmd.run) this.start();
        return undefined;
      case 'attachDisk': {
        const host = this.need();
        const size = cmd.disk.length;
        if (size === 0) throw new CommandError('bad-argument', 'the disk image is empty');
        if (size > MAX_DISK)
          throw new CommandError(
            'bad-argument',
            `the disk image is ${Math.ceil(size / 2 ** 20)} MiB: the page takes disks of up to ${MAX_DISK / 2 ** 20} MiB`,
          );
        this.load({ ...host.session.spec, disk: cmd.disk }, cmd.name ?? this.name, host.timeTravel);
        this.start();
        return undefined;
      }
      case 'readDisk': {
        const host = this.need();
        const disk = host.machine.disk;
        if (!disk) throw new CommandError('no-disk', 'no disk is attached to this machine');
        // The image as attached (the machine rounds it up to whole sectors), as it is at this position.
        return {
          bytes: disk.bytes.slice(0, host.session.spec.disk?.length ?? disk.size),
          position: host.machine.position,
        };
      }
      case 'run':
        this.need();
        this.start();
        return undefined;
      case 'pause':
        if (this.state === 'running' || this.state === 'waiting') this.stop('paused', 'user');
        return undefined;
      case 'step':
        return this.step(Math.max(1, Math.floor(cmd.count ?? 1)));
      case 'type': {
        const host = this.need();
        if (this.group) return this.typeInGroup(host, cmd.bytes);
        const past = host.machine.position < host.end();
        host.type(cmd.bytes);
        // Typed in the past: the session forked a new branch (the console and counts as there), which runs on as at the live end.
        if (past) this.postConsole();
        this.typed += cmd.bytes.length;
        if (past) {
          this.start();
        } else if (this.state === 'waiting') {
          this.state = 'running';
          this.schedule();
        }
        return undefined;
      }
      case 'input': {
        const host = this.need();
        if (this.group)
          throw new CommandError('bad-state', 'this VM runs in a network group: it takes console input only');
        const past = host.machine.position < host.end();
        host.session.sendInput(cmd.device, cmd.events);
        if (cmd.device === 'keyboard') this.keysHeld(cmd.events, host.machine.position);
        // As typing: in the past the session forked, and the new branch runs on.
        if (past) {
          this.postConsole();
          this.start();
        } else if (this.state === 'waiting') {
          this.state = 'running';
          this.schedule();
        }
        return undefined;
      }
      case 'readMemory':
        return readMemory(this.need().machine, cmd.address, cmd.length, cmd.virtual ?? false);
      case 'getRegisters': {
        const registers = registersOf(this.need().machine);
        this.options.post({ type: 'registers', registers });
        return registers;
      }
      case 'disassemble': {
        const m = this.need().machine;
        const count = (n: number | undefined, fallback: number) => Math.min(MAX_DISASM, Math.max(0, n ?? fallback));
        return disassembleAround(
          m,
          cmd.address ?? m.cpu.pcValue,
          count(cmd.before, 8),
          count(cmd.after, 16),
          this.symbols.byAddress,
        );
      }
      case 'setBreakpoints':
        this.breakpoints = [...new Set(cmd.addresses.map((a) => a >>> 0))];
        this.host?.setStops(this.stops());
        this.postStops();
        return undefined;
      case 'setWatchpoints':
        this.watchpoints = cmd.ranges
          .filter((r) => r.length > 0)
          .map((r) => ({ address: r.address >>> 0, length: r.length }));
        this.host?.setStops(this.stops());
        this.postStops();
        return undefined;
      case 'shareInfo':
        return shareInfo(this.needTimeTravel());
      case 'openShare': {
        const { kind, image, initrd, append, disk, ramSize, screen, events, position, executor } = cmd;
        const spec = programSpec(image, {
          ramSize,
          disk,
          linux: kind === 'linux' ? { initrd, append } : undefined,
          executor,
          screen,
        });
        return this.replace(
          importWork(() => MachineHost.replaying(spec, events, position, this.budget), { position }, this.now),
          cmd.name,
        );
      }
      case 'bench':
        return this.bench(cmd.image, cmd.maxSteps ?? Infinity);
      case 'seek': {
        const host = this.needTimeTravel();
        this.halt();
        this.flushOutput();
        // Done or cancelled, the machine stands at a valid position: show it.
        return this.jobs.run(seekWork(host, cmd.branch, cmd.position, this.now), () => {
          this.postConsole();
          this.stop('paused', 'seek');
        });
      }
      case 'stepBack': {
        const host = this.needTimeTravel();
        this.halt();
        this.travel(() => host.stepBack(Math.max(1, Math.floor(cmd.count ?? 1))));
        this.stop('paused', 'step');
        return undefined;
      }
      case 'reverseContinue': {
        const host = this.needTimeTravel();
        this.halt();
        const stop = this.travel(() => host.reverseContinue());
        if (stop?.reason === 'watchpoint') this.watchAddress = stop.address;
        const detail = stop ? this.detailOf(stop, false) : undefined;
        this.stop(
          'paused',
          stop?.reason === 'breakpoint' || stop?.reason === 'watchpoint' ? stop.reason : 'seek',
          detail,
        );
        return stop ? stop.reason : null;
      }
      case 'pixelWriter': {
        const host = this.needTimeTravel();
        const address = pixelAddress(host.machine, cmd.x, cmd.y);
        if (address === null) return null;
        this.halt();
        const back = { branch: host.branch, position: host.machine.position };
        const stop = this.travel(() => {
          const found = host.session.reverseContinue({ watchpoints: [{ address, length: 4, physical: true }] });
          // Nothing wrote it on this lineage: stay where the click was, not at reset.
          if (!found) host.seek(back.branch, back.position);
          return found;
        });
        this.stop('paused', 'seek');
        return stop ? host.machine.position : null;
      }
      case 'thumbnails':
        return this.thumbnails(cmd.positions, cmd.width);
      case 'fork': {
        const host = this.needTimeTravel();
        this.halt();
        const id = this.travel(() => host.fork(cmd.position ?? host.machine.position, cmd.name));
        this.stop('paused', 'seek');
        return id;
      }
      case 'exportVmi':
        return this.jobs.run(exportWork(this.needTimeTravel(), this.now));
      case 'diff': {
        const host = this.needTimeTravel();
        this.halt();
        const result = this.travel(() => host.diff(cmd.a, cmd.b));
        this.stop('paused', 'seek');
        return result;
      }
      case 'renameBranch':
        return this.edit((host) => host.renameBranch(cmd.branch, cmd.name));
      case 'deleteBranch':
        return this.edit((host) => host.deleteBranch(cmd.branch));
      case 'bookmark':
        return this.edit((host) => host.bookmark(cmd.name, cmd.position ?? host.machine.position));
      case 'importVmi': {
        const open = this.options.openVmi ?? MachineHost.open;
        const { bytes, executor } = cmd;
        return this.replace(
          importWork(() => open(bytes, executor, this.budget), cmd.at, this.now),
          cmd.name ?? 'recording.vmi',
        );
      }
      case 'setBudget':
        this.budget = cmd.bytes;
        if (this.host?.timeTravel) this.host.session.setBudget(cmd.bytes);
        return;
      case 'setPace':
        this.pace.set(cmd.mips, this.now(), this.host?.machine.position ?? 0);
        return undefined;
      case 'setRam': {
        const host = this.need();
        const mib = cmd.ramSize / 2 ** 20;
        if (!Number.isInteger(mib) || mib < 1 || mib > MAX_RAM_MIB)
          throw new CommandError(
            'bad-argument',
            `RAM must be a whole number of MiB, from 1 to ${MAX_RAM_MIB}: ${mib} MiB is not`,
          );
        this.load({ ...host.session.spec, ramSize: cmd.ramSize }, this.name, host.timeTravel);
        return undefined;
      }
      case 'cancel':
        return this.jobs.cancel(cmd.job);
      case 'stateHash':
        return this.needTimeTravel().stateHash();
      case 'joinGroup':
        return this.joinGroup(cmd.end);
      case 'groupPresent': {
        const g = this.needGroup();
        const host = this.need();
        this.halt();
        this.toPresent(host, g);
        this.stop('paused', 'seek');
        return host.machine.position;
      }
      case 'leaveGroup':
        if (this.group) {
          this.group = null;
          if (this.host) this.host.session.onTransmit = () => {};
          this.stop('paused', 'user');
        }
        return undefined;
      case 'quantum':
        return this.quantum(cmd);
    }
  }

  private joinGroup(end?: MemberEnd): undefined {
    const host = this.needTimeTravel();
    if (!host.machine.net)
      throw new CommandError('bad-argument', 'this machine has no network device: it cannot join a network group');
    if (this.group) return undefined;
    const power = host.machine.power;
    this.group = {
      branch: host.branch,
      held: [],
      end: end ?? (power && power.kind !== 'reset' ? { state: 'power', power: { ...power } } : { state: 'running' }),
      pending: null,
    };
    host.session.onTransmit = (frame) => this.group?.pending?.sent.push(frame.slice());
    this.report(true);
    return undefined;
  }

  /** Typed into a group's machine: held for the next quantum, at the group's present only. */
  private typeInGroup(host: MachineHost, bytes: Uint8Array): undefined {
    const g = this.group!;
    if (host.branch !== g.branch || host.machine.position < host.session.branchEnd(g.branch))
      throw new CommandError(
        'bad-state',
        "this VM runs in a network group: its input goes in at the group's present; run it (or seek to its end) to type",
      );
    for (const b of bytes) g.held.push(b);
    this.typed += bytes.length;
    if (this.state === 'waiting') {
      this.state = 'running';
      this.report(true);
    }
    return undefined;
  }

  private quantum(cmd: Extract<Command, { type: 'quantum' }>): Promise<QuantumResult> {
    const g = this.needGroup();
    if (g.pending) throw new CommandError('bad-state', 'a quantum is already on its way');
    return new Promise((resolve) => {
      g.pending = { cmd, started: false, sent: [], typed: null, resolve };
      this.advanceQuantum();
    });
  }

  private finishQuantum(result: Omit<QuantumResult, 'position' | 'sent' | 'typed'>): void {
    const g = this.group!;
    const p = g.pending!;
    g.pending = null;
    g.end = result.end;
    p.resolve({ ...result, sent: p.sent, typed: p.typed, position: this.host!.machine.position });
  }

  /**
   * Runs the quantum on its way as far as it can: not while the machine is
   * paused (a seek pauses it; the group waits until a run goes on), nor past
   * a breakpoint or a watchpoint.
   */
  private advanceQuantum(): void {
    const g = this.group;
    const p = g?.pending;
    const host = this.host;
    if (!g || !p || !host) return;
    if (g.end.state === 'power' || g.end.state === 'limit') return this.finishQuantum({ ran: false, end: g.end });
    if (this.state !== 'running' && this.state !== 'waiting') return;
    // Back to the group's present: the user may have looked at the past while it was paused.
    if (this.toPresent(host, g)) this.resume = true;
    if (!p.started) {
      p.started = true;
      const typed = g.held;
      g.held = [];
      if (g.end.state === 'waiting' && typed.length === 0 && p.cmd.frames.length === 0)
        return this.finishQuantum({ ran: false, end: g.end });
      if (typed.length > 0) {
        p.typed = Uint8Array.from(typed);
        host.session.type(typed);
      }
      for (const frame of p.cmd.frames) host.session.receiveFrame(frame, p.cmd.start);
    }
    let stop: Stop;
    try {
      this.snapshotWatches();
      stop = host.run(Infinity, { until: p.cmd.until, resume: this.resume });
      this.resume = false;
    } catch (e) {
      this.stop('paused', 'error');
      this.options.post({ type: 'error', error: toReplyError(e) });
      return;
    }
    this.afterQuantumRun(stop);
  }

  /** Brings the machine back to the group's present; true when it had to move. */
  private toPresent(host: MachineHost, g: GroupRole): boolean {
    const end = host.session.branchEnd(g.branch);
    if (host.branch === g.branch && host.machine.position === end) return false;
    this.travel(() => host.seek(g.branch, end));
    return true;
  }

  /** After (a part of) a quantum's run: a stop at a breakpoint or a watchpoint keeps the quantum for the user to go on with. */
  private afterQuantumRun(stop: Stop): void {
    this.afterRun(stop, 'user');
    if (stop.reason === 'breakpoint' || stop.reason === 'watchpoint') return;
    this.finishQuantum({ ran: true, end: memberEnd(stop, false) });
    if (this.now() - this.lastOutputFlush >= OUTPUT_MS) this.flushOutput();
    this.frames.look(this.host!.machine, false);
    this.report(false);
  }

  /**
   * The screen at each position of the current branch (a seek to each, then
   * back), shrunk. The machine ends where it was, as it was: a stop's reason
   * stays (the filmstrip asks at every stop); none while it runs.
   */
  private thumbnails(positions: number[], width: number): Thumbnail[] {
    const host = this.needTimeTravel();
    // A running machine, or a seek (or import) on its way, owns the machine: none now, the page asks again at the next stop.
    // A guest waiting for input stays so (nothing runs meanwhile).
    if (!host.machine.gpu || this.jobs.busy || this.state === 'running') return [];
    const back = { branch: host.branch, position: host.machine.position };
    const end = Math.max(host.end(), back.position);
    const out: Thumbnail[] = [];
    try {
      for (const position of positions.slice(0, MAX_THUMBNAILS)) {
        if (position < 0 || position > end) continue;
        host.seek(back.branch, position);
        const screen = host.machine.gpu?.screen();
        if (screen) out.push({ ...shrink(screen, Math.max(8, Math.min(320, width))), position });
      }
    } finally {
      host.seek(back.branch, back.position);
    }
    return out;
  }

  /** Runs a job that opens a machine at its point; only then does it replace this one. Replies with where it stands. */
  private replace(work: Work<MachineHost>, name: string): { branch: string; position: number } | Promise<unknown> {
    const opened = (host: MachineHost) => {
      this.halt();
      this.install(() => host, name);
      return { branch: host.branch, position: host.machine.position };
    };
    const host = this.jobs.run(work);
    return host instanceof Promise ? host.then(opened) : opened(host);
  }

  private needGroup(): GroupRole {
    if (!this.group) throw new CommandError('bad-state', 'this VM is not in a network group');
    return this.group;
  }

  private needTimeTravel(): MachineHost {
    const host = this.need();
    if (!host.timeTravel) return noTimeTravel();
    return host;
  }

  /** Follows the keys pressed and released; the first one pressed starts the real-time pace. */
  private keysHeld(events: readonly LinuxInputEvent[], position: number): void {
    const before = this.held.size;
    for (const e of events) {
      if (e.type !== EV_KEY) continue;
      if (e.value === 0) this.held.delete(e.code);
      else this.held.add(e.code);
    }
    if (before === 0 && this.held.size > 0) this.heldPace.set(TIMEBASE_HZ / 1e6, this.now(), position);
  }

  /** Runs a time-travel operation; then the page gets the console as it was at the new position. */
  private travel<T>(op: () => T): T {
    this.flushOutput();
    try {
      return op();
    } finally {
      this.postConsole();
    }
  }

  /** A change to the recording's metadata (the machine does not move); the page learns of it through `timeline`. */
  private edit(op: (host: MachineHost) => void): undefined {
    op(this.needTimeTravel());
    this.postTimeline();
    return undefined;
  }

  /** Builds the machine for a program and reports it, paused at position 0. */
  load(spec: MachineSpec, name: string, record = false): void {
    this.halt();
    this.install(() => (this.options.createHost ?? MachineHost.create)(spec, record, this.budget), name);
  }

  /** Takes a new host and reports it, paused where it stands. */
  private install(make: () => MachineHost, name: string): void {
    const host = make();
    this.host = host;
    this.group = null;
    this.held.clear();
    this.name = name;
    this.output = [];
    this.outputAt = [];
    this.timelineVersion = '';
    this.lastRam = null;
    this.lastDisk = null;
    this.lastStatsPosition = 0;
    this.lastStatsAt = this.now();
    this.frames.reset();
    this.watchDiskReads();
    const m = host.machine;
    host.session.onOutput = (byte, position) => {
      this.outCount++;
      this.output.push(byte);
      this.outputAt.push(position);
      if (this.output.length >= 65536) this.flushOutput();
    };
    this.symbols = new SymbolTable(m.config.program.symbols);
    this.stopMarks = new Map();
    this.stopMarksVersion++;
    this.detail = undefined;
    host.setStops(this.stops());
    this.options.post({ type: 'ready', capabilities: this.capabilities });
    this.options.post({
      type: 'loaded',
      name,
      entry: m.config.program.entry >>> 0,
      symbols: this.symbols.entries(),
      ramSize: m.ram.size,
      executor: m.config.executor !== 'interp' && m.executorNote === null ? 'jit' : 'interp',
      executorNote: m.executorNote,
      diskSize: m.disk ? (host.session.spec.disk?.length ?? m.disk.size) : null,
    });
    this.postConsole();
    this.cause = 'load';
    // A recording that ends powered off opens OFF, with its exit code (stop() sees the power).
    this.stop('paused', 'load');
  }

  /**
   * What a watchpoint stop shows of the watched range holding `address`: the
   * whole range when it is a small variable (8 bytes at most), else the 4
   * bytes written at `address` (within the range). Null when no range holds it.
   */
  private watchedSpan(address: number): { address: number; length: number } | null {
    const a = address >>> 0;
    const w = this.watchpoints.find((r) => a >= r.address && a < r.address + r.length);
    if (!w) return null;
    if (w.length <= 8) return { address: w.address, length: w.length };
    return { address: a, length: Math.min(4, w.address + w.length - a) };
  }

  /** Notes the watched bytes before a run slice (the old values a watchpoint stop shows; the first 64 bytes of each range). */
  private snapshotWatches(): void {
    if (this.watchpoints.length === 0 || !this.host) {
      this.watchBefore = [];
      return;
    }
    const m = this.host.machine;
    this.watchBefore = this.watchpoints.map((w) => ({
      address: w.address,
      bytes: [...readMemory(m, w.address, Math.min(64, w.length), true).bytes],
    }));
  }

  /** The bytes of `span` before the slice that stopped, when the snapshot holds them. */
  private oldBytes(span: { address: number; length: number }): number[] | undefined {
    for (const w of this.watchBefore) {
      const from = span.address - w.address;
      if (from >= 0 && from + span.length <= w.bytes.length) return w.bytes.slice(from, from + span.length);
    }
    return undefined;
  }

  /** How the guest powered off, with the trap it took first when it failed after one. */
  private powerDetail(): StopDetail | undefined {
    const m = this.host?.machine;
    if (!m?.power || m.power.kind === 'reset') return undefined;
    if (m.power.kind === 'pass') return { kind: 'power', power: 'pass', code: 0 };
    const detail: StopDetail = { kind: 'power', power: 'fail', code: m.power.code };
    const csr = registersOf(m).csr;
    const cause = csr['mcause'] ?? 0;
    const epc = csr['mepc'] ?? 0;
    // A trap was taken (mcause/mepc left their reset values) and it was an exception, not an interrupt.
    if ((cause !== 0 || epc !== 0) && cause >>> 31 === 0)
      detail.trap = { cause, epc, tval: csr['mtval'] ?? 0, symbol: this.symbols.describe(epc) };
    return detail;
  }

  /** The detail of a run's stop (`forward`: the watched bytes before the run are known). */
  private detailOf(stop: Stop, forward: boolean): StopDetail | undefined {
    const m = this.host!.machine;
    switch (stop.reason) {
      case 'breakpoint':
        return { kind: 'breakpoint', pc: m.cpu.pcValue, symbol: this.symbols.describe(m.cpu.pcValue) };
      case 'watchpoint': {
        const span = this.watchedSpan(stop.address) ?? { address: stop.address >>> 0, length: 0 };
        const detail: StopDetail = {
          kind: 'watchpoint',
          address: span.address,
          symbol: this.symbols.describe(span.address),
          value: [...readMemory(m, span.address, span.length, true).bytes],
        };
        const old = forward ? this.oldBytes(span) : undefined;
        if (old) detail.old = old;
        return detail;
      }
      case 'power':
        return this.powerDetail();
      case 'waiting':
        return { kind: 'waiting' };
      case 'limit':
        return undefined;
    }
  }

  /** Marks a stop on the current branch's timeline (not for waiting: input marks show those). */
  private markStop(detail: StopDetail | undefined): void {
    const host = this.host;
    if (!detail || detail.kind === 'waiting' || !host?.timeTravel) return;
    const position = host.machine.position;
    const marks = this.stopMarks.get(host.branch) ?? [];
    if (marks.some((k) => k.position === position && k.kind === detail.kind)) return;
    marks.push({ position, kind: detail.kind, label: markLabel(detail) });
    marks.sort((a, b) => a.position - b.position);
    this.stopMarks.set(host.branch, marks);
    this.stopMarksVersion++;
  }

  /** The stop marks along the current branch's lineage. */
  private stopsAlong(host: MachineHost): StopMark[] {
    const out: StopMark[] = [];
    for (const seg of host.session.timeline.lineage(host.branch)) {
      for (const k of this.stopMarks.get(seg.branch) ?? [])
        if (k.position >= seg.from && k.position <= seg.to) out.push(k);
    }
    return out.sort((a, b) => a.position - b.position);
  }

  private stops(): { breakpoints: number[]; watchpoints: WatchRange[] } {
    return { breakpoints: this.breakpoints, watchpoints: this.watchpoints };
  }

  private postStops(): void {
    this.options.post({
      type: 'breakpoints',
      addresses: [...this.breakpoints],
      watchpoints: this.watchpoints.map((w) => ({ ...w })),
    });
  }

  private start(): void {
    const host = this.need();
    if (host.machine.power && host.machine.power.kind !== 'reset') {
      this.stop('off', 'power');
      return;
    }
    if (this.state === 'running') return;
    this.state = 'running';
    this.resume = true;
    this.cause = undefined;
    this.watchAddress = undefined;
    this.detail = undefined;
    this.lastStatsAt = this.now();
    this.lastStatsPosition = host.machine.position;
    this.pace.restart(this.now(), host.machine.position);
    this.report(true);
    this.schedule();
  }

  /** Stops the run loop without reporting (before an operation that reports itself). */
  private halt(): void {
    if (this.state === 'running' || this.state === 'waiting') this.state = 'paused';
  }

  private stop(state: Status['state'], cause: StopCause, detail?: StopDetail): void {
    // Wherever the machine stands powered off (a run's end, a seek or a load there), it is OFF, with its code.
    const power = this.powerDetail();
    if (power && state === 'paused') state = 'off';
    this.state = state;
    this.cause = cause;
    this.detail = detail ?? (state === 'off' ? power : undefined);
    this.markStop(this.detail);
    this.flushOutput();
    if (this.host) this.frames.look(this.host.machine, true);
    this.report(true);
  }

  private step(count: number): Status {
    const host = this.need();
    if (this.group) return this.stepInGroup(host, count);
    this.halt();
    // A step of N runs N steps, polling guest or not.
    this.snapshotWatches();
    const r = host.run(count, { resume: true, whenPolling: 'run' });
    this.afterRun(r, 'step');
    if (this.state === 'running') this.stop('paused', 'step');
    return this.status();
  }

  /** Steps within the quantum on its way, which ends when its end is reached. */
  private stepInGroup(host: MachineHost, count: number): Status {
    const p = this.group!.pending;
    if (!p?.started)
      throw new CommandError(
        'bad-state',
        'this VM runs in a network group: it steps within a quantum the group gives it (run the group, then pause it)',
      );
    this.halt();
    this.snapshotWatches();
    const stop = host.run(count, { resume: true, whenPolling: 'run', until: p.cmd.until });
    const done = stop.reason === 'power' || stop.reason === 'waiting' || host.machine.cpu.cycles() >= p.cmd.until;
    if (done) this.afterQuantumRun(stop);
    else this.afterRun(stop, 'step');
    if (this.state === 'running' || this.state === 'waiting') this.stop('paused', 'step');
    return this.status();
  }

  /** Maps a run's stop to the engine state; returns true when the run loop should go on. */
  private afterRun(stop: Stop, defaultCause: StopCause): boolean {
    switch (stop.reason) {
      case 'power':
        this.stop('off', 'power', this.detailOf(stop, true));
        return false;
      case 'breakpoint':
        this.stop('paused', 'breakpoint', this.detailOf(stop, true));
        return false;
      case 'watchpoint':
        this.watchAddress = stop.address;
        this.stop('paused', 'watchpoint', this.detailOf(stop, true));
        return false;
      case 'waiting':
        if (defaultCause === 'step') {
          this.stop('paused', 'step');
          return false;
        }
        // Only the user can move the guest on: the timeline stops growing until they type.
        this.state = 'waiting';
        this.flushOutput();
        // The frame drawn before it went to sleep, however soon after the last look.
        this.frames.look(this.host!.machine, true);
        this.report(true);
        return false;
      case 'limit':
        if (defaultCause === 'step') {
          this.state = 'running'; // the caller turns this into paused
          return true;
        }
        return true;
    }
  }

  /** Runs the next slice soon, or after `delayMs`. */
  private schedule(delayMs = 0): void {
    if (this.loopScheduled) return;
    this.loopScheduled = true;
    const next = () => {
      this.loopScheduled = false;
      this.tick();
    };
    if (delayMs > 0) setTimeout(next, delayMs);
    else this.options.defer(next);
  }

  /** One slice of the run loop. */
  tick(): void {
    if (this.state !== 'running' || !this.host) return;
    // In a group the page gives the quanta; a run goes on with the one on its way.
    if (this.group) return this.advanceQuantum();
    // Ahead of its CPU share, or of the wall clock while a key is held: wait (commands are handled meanwhile).
    const position = this.host.machine.position;
    const keyHeld = this.held.size > 0;
    const paceWait = Math.max(
      this.pace.wait(this.now(), position),
      keyHeld ? this.heldPace.wait(this.now(), position) : 0,
    );
    if (paceWait > 0) {
      this.schedule(paceWait);
      return;
    }
    const slice = Math.min(
      this.slice,
      this.pace.sliceLimit(SLICE_MS),
      keyHeld ? this.heldPace.sliceLimit(SLICE_MS) : Infinity,
    );
    const t0 = this.now();
    const idleBefore = this.host.machine.cpu.idleTicks;
    let r;
    try {
      this.snapshotWatches();
      r = this.host.run(slice, this.resume ? { resume: true } : {});
      this.resume = false;
    } catch (e) {
      this.stop('paused', 'error');
      this.options.post({ type: 'error', error: toReplyError(e) });
      return;
    }
    const dt = this.now() - t0;
    const next = nextSlice(slice, r.steps, r.reason === 'limit', this.host.machine.cpu.idleTicks - idleBefore, dt);
    this.slice = next.slice;
    const goOn = this.afterRun(r, 'user');
    if (!goOn) return;
    // While running, output goes out in batches: each message is work on the page's main thread.
    if (this.now() - this.lastOutputFlush >= OUTPUT_MS) this.flushOutput();
    this.frames.look(this.host.machine, false);
    this.report(false);
    this.schedule(next.pauseMs);
  }

  private flushOutput(): void {
    this.lastOutputFlush = this.now();
    if (this.output.length === 0) return;
    const bytes = Uint8Array.from(this.output);
    const positions = Float64Array.from(this.outputAt);
    this.output = [];
    this.outputAt = [];
    this.options.post({ type: 'output', bytes, positions }, [bytes.buffer, positions.buffer]);
  }

  /**
   * Sends the console as it was at the current position (the page replaces
   * what it shows), and takes the console's byte counts from there: the
   * picture's I/O box follows time travel.
   */
  private postConsole(): void {
    const host = this.host;
    if (!host) return;
    const text = host.console();
    this.outCount = text.bytes.length;
    this.takenBefore = host.inputTaken();
    this.typed = 0;
    this.options.post({ type: 'console', ...text }, [text.bytes.buffer, text.positions.buffer]);
  }

  /** Sends the branch tree and marks when they changed since last sent. */
  private postTimeline(): void {
    const host = this.host;
    if (!host?.timeTravel) return;
    const version = `${host.timelineVersion()}:${this.stopMarksVersion}`;
    if (version === this.timelineVersion) return;
    this.timelineVersion = version;
    this.options.post({ type: 'timeline', timeline: { ...host.timeline(), stops: this.stopsAlong(host) } });
  }

  status(): Status {
    const host = this.host;
    if (!host) return { state: 'empty', position: 0, end: 0, branch: 'main', pc: 0, priv: 3 };
    const m = host.machine;
    const s: Status = {
      state: this.state,
      position: m.position,
      end: Math.max(host.end(), m.position),
      branch: host.branch,
      pc: m.cpu.pcValue,
      priv: m.cpu.priv,
    };
    if (this.state !== 'running' && this.cause) s.cause = this.cause;
    if (this.cause === 'watchpoint' && this.watchAddress !== undefined) s.watchAddress = this.watchAddress;
    if (this.state === 'waiting') s.stop = { kind: 'waiting' };
    else if (this.state !== 'running' && this.detail) s.stop = this.detail;
    if (m.power && m.power.kind !== 'reset')
      s.power = { kind: m.power.kind, code: m.power.kind === 'fail' ? m.power.code : 0 };
    if (this.group) s.grouped = true;
    return s;
  }

  /** Sends status, stats and registers: always when `force`, else at most every REPORT_MS. */
  report(force: boolean): void {
    const t = this.now();
    if (!force && t - this.lastReport < REPORT_MS) return;
    this.lastReport = t;
    // The branch tree first: a status naming a new branch finds its name there (the page shows ids only when it cannot).
    this.postTimeline();
    this.options.post({ type: 'status', status: this.status() });
    if (!this.host) return;
    const stats = this.stats(t);
    const transfer = [stats.ramTouched.buffer, stats.ramFresh.buffer];
    if (stats.diskTouched && stats.diskFresh) transfer.push(stats.diskTouched.buffer, stats.diskFresh.buffer);
    this.options.post({ type: 'stats', stats }, transfer as ArrayBuffer[]);
    this.options.post({ type: 'registers', registers: registersOf(this.host.machine) });
  }

  /** Counts the bytes the guest reads from its disk (the block device's hook; the machine may be new). */
  private watchDiskReads(): void {
    for (const v of this.host!.machine.virtio)
      if (v.device instanceof VirtioBlock && v.device.onRead === null)
        v.device.onRead = (bytes) => (this.diskRead += bytes);
  }

  private stats(t: number): Stats {
    const m = this.host!.machine;
    const dt = (t - this.lastStatsAt) / 1000;
    const ips = this.state === 'running' && dt > 0 ? Math.max(0, (m.position - this.lastStatsPosition) / dt) : 0;
    this.lastStatsAt = t;
    this.lastStatsPosition = m.position;
    // Never clear the dirty flags (storage owns them): compare with what the last look saw.
    const ram = bitmap(m.ram.dirty);
    const ramFresh = fresh(ram, this.lastRam);
    this.lastRam = ram.slice();
    let disk: Uint8Array | null = null;
    let diskFresh: Uint8Array | null = null;
    if (m.disk) {
      disk = bitmap(m.disk.dirty);
      diskFresh = fresh(disk, this.lastDisk);
      this.lastDisk = disk.slice();
      this.watchDiskReads();
    }
    // Reads are not machine state: only a running guest's are an activity to show (replays read again).
    const diskReadFresh = this.state === 'running' ? this.diskRead - this.lastDiskRead : 0;
    this.lastDiskRead = this.diskRead;
    return {
      position: m.position,
      ips,
      priv: m.cpu.priv,
      pc: m.cpu.pcValue,
      ramTouched: ram,
      ramFresh,
      ramPages: m.ram.pageCount,
      diskTouched: disk,
      diskFresh,
      diskPages: m.disk?.pageCount ?? 0,
      diskReadFresh,
      uartOut: this.outCount,
      uartIn: this.takenBefore + Math.max(0, this.typed - this.host!.session.pendingInput),
      pendingInput: this.host!.session.pendingInput,
    };
  }

  /** Runs a fresh machine from `image` to power-off (or maxSteps) and measures its speed. */
  private bench(image: Uint8Array, maxSteps: number): BenchResult {
    this.halt();
    this.report(true);
    const session = Session.create(programSpec(image, { ramSize: DEFAULT_RAM }), { record: false });
    let output = '';
    session.onOutput = (b) => (output += String.fromCharCode(b));
    const t = this.now();
    while (
      session.position < maxSteps &&
      session.run(Math.min(10_000_000, maxSteps - session.position)).reason === 'limit'
    );
    const seconds = (this.now() - t) / 1000;
    return { steps: session.position, seconds, mips: session.position / seconds / 1e6, output };
  }
}

/** What a share link of the host's current point carries. */
async function shareInfo(host: MachineHost): Promise<ShareInfo> {
  const spec = host.session.spec;
  const hashes: ShareInfo['hashes'] = { program: await partHash(spec.image) };
  if (spec.initrd) hashes.initrd = await partHash(spec.initrd);
  if (spec.disk) hashes.disk = await partHash(spec.disk);
  return {
    kind: spec.kind,
    ramSize: spec.ramSize,
    ...(spec.append !== undefined ? { append: spec.append } : {}),
    ...(spec.screen ? { screen: true } : {}),
    hashes,
    events: host.eventsBefore(),
    position: host.machine.position,
  };
}

function toReplyError(e: unknown): ReplyError {
  if (e instanceof CommandError || e instanceof RewindError || e instanceof JobCancelled)
    return { code: e.code, message: e.message };
  return { code: 'internal', message: e instanceof Error ? e.message : String(e) };
}

/** Buffers in a reply that can move instead of being copied. */
function transferables(data: unknown): Transferable[] | undefined {
  if (data && typeof data === 'object' && 'bytes' in data && (data as { bytes: unknown }).bytes instanceof Uint8Array) {
    const out: ArrayBuffer[] = [(data as { bytes: Uint8Array }).bytes.buffer as ArrayBuffer];
    if ('readable' in data && (data as { readable: unknown }).readable instanceof Uint8Array) {
      out.push((data as { readable: Uint8Array }).readable.buffer as ArrayBuffer);
    }
    return out;
  }
  return undefined;
}
