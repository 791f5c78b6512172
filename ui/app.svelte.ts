/**
 * The web app's state: what the worker last reported, and the actions the
 * controls and inspectors take. Components read it and call its methods;
 * only this class talks to the worker client, so component tests drive it
 * with a fake client.
 */
import type { MachineClient, Request } from '../src/web/client.js';
import type {
  Capabilities,
  DisasmLine,
  MemoryBlock,
  Registers,
  Stats,
  Status,
  WatchRange,
  WorkerEvent,
} from '../src/web/protocol.js';

/** What the state needs of a client (MachineClient, or a fake). */
export type ClientLike = Pick<MachineClient, 'send' | 'request' | 'on'>;

/** Why a time-travel control is disabled until the worker records. */
export const NEEDS_RECORDING = 'Needs a recording: time travel is not available yet';

const EMPTY_STATUS: Status = { state: 'empty', position: 0, end: 0, branch: 'main', pc: 0, priv: 3 };
const RECENT_OUTPUT = 400;

export class AppState {
  status = $state<Status>({ ...EMPTY_STATUS });
  capabilities = $state<Capabilities>({ timeTravel: false });
  registers = $state<Registers | null>(null);
  /** Registers at the stop before the current one (or at the last stop while running): what "changed" compares with. */
  reference = $state<Registers | null>(null);
  stats = $state<Stats | null>(null);
  breakpoints = $state<number[]>([]);
  watchpoints = $state<WatchRange[]>([]);
  disasm = $state<DisasmLine[]>([]);
  memory = $state<MemoryBlock | null>(null);
  memoryAddress = $state(0x8000_0000);
  memoryVirtual = $state(false);
  programName = $state('');
  /** The guest's latest console output, as text (for the machine picture). */
  recentOutput = $state('');
  /** Bytes typed in the last few seconds, for the picture. */
  recentInput = $state('');
  message = $state<string | null>(null);
  helpOpen = $state(false);

  /** Called with console output bytes (the terminal registers itself here). */
  onOutput: ((bytes: Uint8Array) => void) | null = null;
  /** Output that arrived before the terminal existed. */
  private backlog: Uint8Array[] = [];
  private lastStop: Registers | null = null;
  private stopPending = true;
  private disasmBusy = false;
  private memoryBusy = false;
  private memoryAgain = false;
  private disasmAgain = false;
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
        this.lastStop = null;
        this.reference = null;
        this.recentOutput = '';
        break;
      case 'output':
        this.recentOutput = (this.recentOutput + this.decoder.decode(e.bytes, { stream: true })).slice(-RECENT_OUTPUT);
        if (this.onOutput) this.onOutput(e.bytes);
        else this.backlog.push(e.bytes);
        break;
      case 'status': {
        const wasRunning = this.running;
        this.status = e.status;
        const nowRunning = this.running;
        if (!nowRunning && (wasRunning || e.status.cause !== undefined)) this.stopPending = true;
        if (nowRunning && !wasRunning) this.reference = this.lastStop;
        if (!nowRunning) this.refreshViews();
        break;
      }
      case 'registers':
        this.registers = e.registers;
        if (this.stopPending && !this.running) {
          this.stopPending = false;
          this.reference = this.lastStop ?? e.registers;
          this.lastStop = e.registers;
        } else if (this.running) {
          this.refreshViews();
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
        break;
    }
  }

  /** The terminal attaches here and gets what it missed. */
  attachConsole(sink: (bytes: Uint8Array) => void): () => void {
    this.onOutput = sink;
    for (const b of this.backlog) sink(b);
    this.backlog = [];
    return () => {
      if (this.onOutput === sink) this.onOutput = null;
    };
  }

  private async call(cmd: Request, transfer?: Transferable[]): Promise<unknown> {
    try {
      return await this.client.request(cmd, transfer);
    } catch (e) {
      this.message = e instanceof Error ? e.message : String(e);
      return undefined;
    }
  }

  /** Whether loads ask the worker to record (time travel). */
  record = $state(false);

  load(image: Uint8Array, name: string, run = true): Promise<unknown> {
    this.message = null;
    return this.call({ type: 'load', image, name, run, record: this.record }, [image.buffer as ArrayBuffer]);
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
    this.recentInput = (this.recentInput + this.decoder.decode(bytes)).slice(-40);
    this.client.send({ type: 'type', bytes });
  }

  stepBack(): Promise<unknown> {
    return this.call({ type: 'stepBack', count: 1 });
  }

  runBack(): Promise<unknown> {
    return this.call({ type: 'reverseContinue' });
  }

  seek(position: number): Promise<unknown> {
    return this.call({ type: 'seek', branch: this.status.branch, position });
  }

  fork(name?: string): Promise<unknown> {
    return this.call(name === undefined ? { type: 'fork', position: this.status.position } : { type: 'fork', position: this.status.position, name });
  }

  async exportVmi(): Promise<{ bytes: Uint8Array; name: string } | undefined> {
    return (await this.call({ type: 'exportVmi' })) as { bytes: Uint8Array; name: string } | undefined;
  }

  importVmi(bytes: Uint8Array, name: string): Promise<unknown> {
    return this.call({ type: 'importVmi', bytes, name }, [bytes.buffer as ArrayBuffer]);
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
        const block = (await this.call({ type: 'readMemory', address: this.memoryAddress, length: 256, virtual: this.memoryVirtual })) as
          | MemoryBlock
          | undefined;
        if (block) this.memory = block;
      } while (this.memoryAgain);
    } finally {
      this.memoryBusy = false;
    }
  }

  /** Disassembles around pc again (once more after the request in flight, when one is). */
  async refreshDisasm(): Promise<void> {
    if (!this.loaded) return;
    if (this.disasmBusy) {
      this.disasmAgain = true;
      return;
    }
    this.disasmBusy = true;
    try {
      do {
        this.disasmAgain = false;
        const lines = (await this.call({ type: 'disassemble', before: 8, after: 24 })) as DisasmLine[] | undefined;
        if (lines) this.disasm = lines;
      } while (this.disasmAgain);
    } finally {
      this.disasmBusy = false;
    }
  }

  private refreshViews(): void {
    void this.refreshDisasm();
    void this.refreshMemory();
  }
}
