/**
 * The web app's state: what the worker last reported, and the actions the
 * controls and inspectors take. Components read it and call its methods;
 * only this class talks to the worker client, so component tests drive it
 * with a fake client.
 */
import type { MachineClient, Request } from '../src/web/client.js';
import type {
  Capabilities,
  DiffResult,
  DisasmLine,
  Executor,
  LinuxBoot,
  LinuxInputEvent,
  MemoryBlock,
  PointRef,
  Registers,
  ScreenFrame,
  Stats,
  Thumbnail,
  Status,
  TimelineInfo,
  WatchRange,
  WorkerEvent,
} from '../src/web/protocol.js';
import { SymbolTable } from '../src/web/symbols.js';
import { CodeView } from './code-view.svelte.js';
import { ConsoleLog } from './console-log.js';

/** What the state needs of a client (MachineClient, or a fake). */
export type ClientLike = Pick<MachineClient, 'send' | 'request' | 'on'>;

/** Why a time-travel control is disabled until the worker records. */
export const NEEDS_RECORDING = 'Needs a recording: time travel is not available yet';

const EMPTY_STATUS: Status = { state: 'empty', position: 0, end: 0, branch: 'main', pc: 0, priv: 3 };
const RECENT_OUTPUT = 400;
/**
 * How often the registers, disassembly and memory follow a running machine
 * (a stop shows them at once): each look redraws their rows and scrolls the
 * code to pc (a layout), work the page's main thread cannot spend five times
 * a second while a guest like Linux boots.
 */
const LIVE_REFRESH_MS = 1000;

export class AppState {
  status = $state<Status>({ ...EMPTY_STATUS });
  capabilities = $state<Capabilities>({ timeTravel: false });
  registers = $state<Registers | null>(null);
  /** Registers at the stop before the current one (or at the last stop while running): what "changed" compares with. */
  reference = $state<Registers | null>(null);
  stats = $state<Stats | null>(null);
  breakpoints = $state<number[]>([]);
  watchpoints = $state<WatchRange[]>([]);
  /** The disassembly's lines (around pc, or where the user went). */
  readonly code = new CodeView((cmd) => this.call(cmd) as Promise<DisasmLine[] | undefined>);
  /** The loaded program's ELF symbols, for go-to, memory and watchpoints by name. */
  symbols = $state.raw(SymbolTable.empty);
  memory = $state<MemoryBlock | null>(null);
  memoryAddress = $state(0x8000_0000);
  memoryVirtual = $state(false);
  programName = $state('');
  /** Bytes of the disk image attached to the machine, or null without one. */
  diskSize = $state<number | null>(null);
  /** The guest's latest console output, as text (for the machine picture). */
  recentOutput = $state('');
  /** Bytes typed in the last few seconds, for the picture. */
  recentInput = $state('');
  message = $state<string | null>(null);
  helpOpen = $state(false);
  /** The machine's screen as the worker last sent it; null when it shows nothing or has no screen. */
  screen = $state.raw<ScreenFrame | null>(null);
  /** Branches and the current branch's marks (recording only). */
  timeline = $state<TimelineInfo | null>(null);
  /** Whether the console shows all output up to here (false when some was never replayed, e.g. after an import). */
  consoleComplete = $state(true);
  /** The console's bytes since its last reset and the position that wrote each (for click-to-jump). */
  readonly consoleLog = new ConsoleLog();
  /** The terminal's handler for a reset: it clears and shows these bytes instead. */
  onConsoleReset: ((bytes: Uint8Array) => void) | null = null;

  /** Called with console output bytes (the terminal registers itself here). */
  onOutput: ((bytes: Uint8Array) => void) | null = null;
  private lastStop: Registers | null = null;
  /** When the registers, code and memory views last followed the running machine. */
  private liveRefreshAt = 0;
  private stopPending = true;
  private memoryBusy = false;
  private memoryAgain = false;
  private readonly decoder = new TextDecoder();

  constructor(readonly client: ClientLike) {
    client.on((e) => this.receive(e));
  }

  get running(): boolean {
    return this.status.state === 'running' || this.status.state === 'waiting';
  }

  get loaded(): boolean {
    return this.status.state !== 'empty';
  }

  /** Registers (0..31, 32 = pc) and CSR names that differ from the reference. */
  changed = $derived.by(() => {
    const r = this.registers;
    const ref = this.reference;
    const x = new Set<number>();
    const csr = new Set<string>();
    if (!r || !ref) return { x, csr };
    for (let i = 0; i < 32; i++) if (r.x[i] !== ref.x[i]) x.add(i);
    if (r.pc !== ref.pc) x.add(32);
    for (const k of Object.keys(r.csr)) if (r.csr[k] !== ref.csr[k]) csr.add(k);
    if (r.priv !== ref.priv) csr.add('priv');
    return { x, csr };
  });

  receive(e: WorkerEvent): void {
    switch (e.type) {
      case 'ready':
        this.capabilities = e.capabilities;
        break;
      case 'loaded':
        this.programName = e.name;
        this.diskSize = e.diskSize;
        this.symbols = new SymbolTable(e.symbols);
        this.executorInUse = e.executor;
        if (e.executorNote) this.message = `JIT unavailable: ${e.executorNote}`;
        this.lastStop = null;
        this.reference = null;
        this.recentOutput = '';
        this.timeline = null;
        break;
      case 'output':
        this.recentOutput = (this.recentOutput + this.decoder.decode(e.bytes, { stream: true })).slice(-RECENT_OUTPUT);
        this.consoleLog.append(e.bytes, e.positions);
        this.onOutput?.(e.bytes);
        break;
      case 'console':
        this.recentOutput = new TextDecoder().decode(e.bytes.subarray(-RECENT_OUTPUT));
        this.consoleLog.reset(e.bytes, e.positions);
        this.consoleComplete = e.complete;
        this.onConsoleReset?.(e.bytes);
        break;
      case 'timeline':
        this.timeline = e.timeline;
        break;
      case 'screen':
        this.screen = e.frame;
        break;
      case 'status': {
        const wasRunning = this.running;
        this.status = e.status;
        const nowRunning = this.running;
        if (!nowRunning && (wasRunning || e.status.cause !== undefined)) this.stopPending = true;
        if (nowRunning && !wasRunning) this.reference = this.lastStop;
        if (!nowRunning) {
          // A stop (a step, a seek, a breakpoint…) shows pc again, wherever the user had gone in the code.
          void this.code.backToPc();
          void this.refreshMemory();
        }
        break;
      }
      case 'registers':
        // A running machine is followed once a LIVE_REFRESH_MS: registers, code and memory together.
        if (this.running && Date.now() - this.liveRefreshAt < LIVE_REFRESH_MS) break;
        this.registers = e.registers;
        if (this.stopPending && !this.running) {
          this.stopPending = false;
          this.reference = this.lastStop ?? e.registers;
          this.lastStop = e.registers;
        } else if (this.running) {
          this.liveRefreshAt = Date.now();
          void this.code.refresh();
          void this.refreshMemory();
        }
        break;
      case 'stats':
        this.stats = e.stats;
        break;
      case 'breakpoints':
        this.breakpoints = e.addresses;
        this.watchpoints = e.watchpoints;
        break;
      case 'error':
        this.message = e.error.message;
        break;
      case 'reply':
      case 'progress': // ui/Progress.svelte follows the jobs
        break;
    }
  }

  /**
   * The terminal attaches here and gets the console so far: all of it, as
   * a terminal made again (the VM focused again in the host) starts empty.
   */
  attachConsole(sink: (bytes: Uint8Array) => void): () => void {
    this.onOutput = sink;
    if (this.consoleLog.length > 0) sink(this.consoleLog.bytes.slice());
    return () => {
      if (this.onOutput === sink) this.onOutput = null;
    };
  }

  private async call(cmd: Request, transfer?: Transferable[]): Promise<unknown> {
    try {
      return await this.client.request(cmd, transfer);
    } catch (e) {
      // A long operation another command took over from is no news to the user.
      if ((e as { code?: unknown }).code !== 'superseded') this.message = e instanceof Error ? e.message : String(e);
      return undefined;
    }
  }

  /** Whether loads ask the worker to record (time travel). */
  record = $state(false);
  /** The executor loads ask for. */
  executor = $state<Executor>('jit');
  /** Bytes of RAM loads ask for; the worker's default (64 MiB) when null. */
  ramSize = $state<number | null>(null);
  /** The executor the loaded machine runs on, as the worker reported it (null before a load). */
  executorInUse = $state<Executor | null>(null);

  /** Loads a program, or with `boot.linux` a Linux kernel; the bytes move to the worker. */
  load(
    image: Uint8Array,
    name: string,
    run = true,
    boot: { disk?: Uint8Array; linux?: LinuxBoot; screen?: boolean; net?: { mac: string } } = {},
  ): Promise<unknown> {
    this.message = null;
    const moved = [image, boot.disk, boot.linux?.initrd].flatMap((b) => (b ? [b.buffer as ArrayBuffer] : []));
    const ram = this.ramSize === null ? {} : { ramSize: this.ramSize };
    return this.call(
      { type: 'load', image, name, run, record: this.record, executor: this.executor, ...ram, ...boot },
      moved,
    );
  }

  /** Attaches a disk image: the program starts again from reset with it (a new VM); the bytes move to the worker. */
  attachDisk(disk: Uint8Array, name: string): Promise<unknown> {
    this.message = null;
    return this.call({ type: 'attachDisk', disk, name }, [disk.buffer as ArrayBuffer]);
  }

  /** The disk as it is at the current position (and that position), or undefined (the message says why). */
  async readDisk(): Promise<{ bytes: Uint8Array; position: number } | undefined> {
    return (await this.call({ type: 'readDisk' })) as { bytes: Uint8Array; position: number } | undefined;
  }

  run(): void {
    this.client.send({ type: 'run' });
  }

  pause(): void {
    this.client.send({ type: 'pause' });
  }

  toggleRun(): void {
    if (this.running) this.pause();
    else this.run();
  }

  step(count = 1): void {
    this.client.send({ type: 'step', count });
  }

  type(bytes: Uint8Array): void {
    // Typed during a seek, it waits for it: a key must land where the machine is going, not halfway (that would fork there).
    if (this.seeking) {
      void this.seeking.then(() => this.type(bytes));
      return;
    }
    this.recentInput = (this.recentInput + this.decoder.decode(bytes)).slice(-40);
    this.client.send({ type: 'type', bytes });
  }

  /** Keyboard or tablet events for the screen's devices (sent in the past, they fork, as typing does). */
  sendInput(device: 'keyboard' | 'tablet', events: LinuxInputEvent[]): void {
    if (this.seeking) {
      void this.seeking.then(() => this.sendInput(device, events));
      return;
    }
    this.client.send({ type: 'input', device, events });
  }

  stepBack(): Promise<unknown> {
    return this.call({ type: 'stepBack', count: 1 });
  }

  runBack(): Promise<unknown> {
    return this.call({ type: 'reverseContinue' });
  }

  seek(position: number): Promise<unknown> {
    return this.seekTo({ branch: this.status.branch, position });
  }

  /** The seek in flight (a long one goes on in slices in the worker). */
  private seeking: Promise<unknown> | null = null;

  /** Goes to a point on any branch. */
  seekTo(point: PointRef): Promise<unknown> {
    const p = this.call({ type: 'seek', ...point });
    this.seeking = p;
    void p.finally(() => {
      if (this.seeking === p) this.seeking = null;
    });
    return p;
  }

  /** Seeks to the instruction that wrote byte `index` of the console. */
  jumpToOutput(index: number): Promise<unknown> | undefined {
    const position = this.consoleLog.positionOf(index);
    return position === undefined ? undefined : this.seek(position);
  }

  /** Seeks to the instruction that last wrote the memory behind the screen's pixel (x, y); says so when none did. */
  async jumpToPixelWriter(x: number, y: number): Promise<void> {
    const found = await this.call({ type: 'pixelWriter', x, y });
    if (found === null) this.message = `No store wrote the memory behind pixel ${x},${y} before this point.`;
  }

  /** Small pictures of the screen at positions of the current branch (the machine stays where it is). */
  async thumbnails(positions: number[], width: number): Promise<Thumbnail[]> {
    return ((await this.call({ type: 'thumbnails', positions, width })) as Thumbnail[] | undefined) ?? [];
  }

  forkAt(position: number, name?: string): Promise<unknown> {
    return this.call(name ? { type: 'fork', position, name } : { type: 'fork', position });
  }

  renameBranch(branch: string, name: string): Promise<unknown> {
    return this.call({ type: 'renameBranch', branch, name });
  }

  deleteBranch(branch: string): Promise<unknown> {
    return this.call({ type: 'deleteBranch', branch });
  }

  bookmark(name: string): Promise<unknown> {
    return this.call({ type: 'bookmark', name, position: this.status.position });
  }

  async diff(a: PointRef, b: PointRef): Promise<DiffResult | undefined> {
    return (await this.call({ type: 'diff', a, b })) as DiffResult | undefined;
  }

  fork(name?: string): Promise<unknown> {
    return this.call(
      name === undefined
        ? { type: 'fork', position: this.status.position }
        : { type: 'fork', position: this.status.position, name },
    );
  }

  toggleBreakpoint(address: number): void {
    const a = address >>> 0;
    const next = this.breakpoints.includes(a) ? this.breakpoints.filter((b) => b !== a) : [...this.breakpoints, a];
    this.breakpoints = next;
    this.client.send({ type: 'setBreakpoints', addresses: next });
  }

  addWatchpoint(range: WatchRange): void {
    const next = [...this.watchpoints, { address: range.address >>> 0, length: range.length }];
    this.watchpoints = next;
    this.client.send({ type: 'setWatchpoints', ranges: next.map((w) => ({ ...w })) });
  }

  removeWatchpoint(index: number): void {
    const next = this.watchpoints.filter((_, i) => i !== index);
    this.watchpoints = next;
    this.client.send({ type: 'setWatchpoints', ranges: next.map((w) => ({ ...w })) });
  }

  /** Moves the memory view and reads it. */
  goToMemory(address: number, virtual = this.memoryVirtual): Promise<void> {
    this.memoryAddress = address >>> 0;
    this.memoryVirtual = virtual;
    return this.refreshMemory();
  }

  /** Reads the memory view again (once more after the read in flight, when one is). */
  async refreshMemory(): Promise<void> {
    if (!this.loaded) return;
    if (this.memoryBusy) {
      this.memoryAgain = true;
      return;
    }
    this.memoryBusy = true;
    try {
      do {
        this.memoryAgain = false;
        const block = (await this.call({
          type: 'readMemory',
          address: this.memoryAddress,
          length: 256,
          virtual: this.memoryVirtual,
        })) as MemoryBlock | undefined;
        if (block) this.memory = block;
      } while (this.memoryAgain);
    } finally {
      this.memoryBusy = false;
    }
  }
}
