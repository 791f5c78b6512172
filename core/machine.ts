/**
 * The whole computer: RAM, the hart, the devices at their addresses, the
 * program and device tree loaded at reset, and the run loop that drives the
 * hart in slices while keeping time and input deterministic.
 */
import { Cpu, LEAD, type PhysicalBus } from './cpu.js';
import { attachJit } from './jit/index.js';
import { warmUp } from './warmup.js';
import { IRQ, csrReadOnly, peekCsr, writeCsr } from './csr.js';
import { DEVICES } from './board.js';
import type { AccessSize, Device, DeviceEntry, DeviceHost, DeviceState, Dma } from './device.js';
import { CLINT_DEVICE, type Clint } from './devices/clint.js';
import { PLIC_DEVICE, type Plic } from './devices/plic.js';
import { type PowerEvent, SYSCON_DEVICE, type Syscon } from './devices/syscon.js';
import { UART0_DEVICE, type Uart16550 } from './devices/uart16550.js';
import { buildDeviceTree } from './devicetree.js';
import { RewindError } from './errors.js';
import type { Program } from './loader.js';
import { MemoryMap } from './memmap.js';
import { PagedMemory } from './paged.js';
import type { MachineState, Snapshotable } from './snapshot.js';
import { diskFromImage } from './virtio/block.js';
import { VirtioGpu } from './virtio/gpu.js';
import { decodeEvents, VirtioInput } from './virtio/input.js';
import type { VirtioMmio } from './virtio/mmio.js';
import { VirtioNet } from './virtio/net.js';
import { VIRTIO_DEVICES } from './virtio/slots.js';

export const DEFAULT_RAM_MIB = 64;
const MiB = 1024 * 1024;

export interface MachineConfig {
  program: Program;
  /** RAM size in bytes (a multiple of 4 KiB; default 64 MiB). */
  ramSize?: number;
  /** A disk image for the virtio block device; the machine works on its own copy. */
  disk?: Uint8Array;
  diskReadOnly?: boolean;
  /** Kernel command line for the device tree's /chosen. */
  bootargs?: string;
  /** Where an initial ramdisk sits in RAM (it is one of the program's segments), for /chosen. */
  initrd?: { start: number; end: number };
  /**
   * Firmware that handles traps into M-mode in TypeScript (the built-in SBI),
   * installed at every reset; the program then starts in the mode it sets.
   */
  firmware?: (machine: Machine) => void;
  /** Which executor runs the hart: the block JIT (default) or the interpreter (the reference). */
  executor?: 'interp' | 'jit';
  /** A screen: a virtio GPU, keyboard and tablet (as QEMU's -device virtio-gpu-device, virtio-keyboard-device, virtio-tablet-device). */
  screen?: boolean;
  /** A network device with this MAC (six bytes), as QEMU's -device virtio-net-device. */
  net?: { mac: readonly number[] };
}

/**
 * Something that happened to the machine from outside, at an exact point:
 * `position` (steps since reset) and `time` (the virtual clock, steps plus
 * idle ticks, which advances while the hart sleeps in wfi).
 */
export interface InputEvent {
  position: number;
  time: number;
  device: string;
  payload: number[];
}

export type StopReason =
  /** The step budget ran out. */
  | 'limit'
  /** The guest powered off (see `power`). */
  | 'power'
  /** The hart sleeps in wfi and nothing scheduled will wake it: it waits for input. */
  | 'idle'
  /** The virtual clock reached the run's `until`, or the hart sleeps until then or later (see run). */
  | 'time'
  /** The hart reached a breakpoint (see Cpu.setBreakpoints); it has not executed it. */
  | 'breakpoint'
  /** A store wrote into a watched range (see Cpu.setWatchpoints); the store has executed. */
  | 'watchpoint';

export interface RunResult {
  steps: number;
  reason: StopReason;
}

/** A bus over a list of address ranges; devices see offsets. */
class DeviceBus implements PhysicalBus {
  constructor(private readonly ranges: { base: number; size: number; device: Device }[]) {}

  read(addr: number, size: AccessSize): number | undefined {
    for (const r of this.ranges) {
      const off = addr - r.base;
      if (off >= 0 && off + size <= r.size) return r.device.read(off, size);
    }
    return undefined;
  }

  write(addr: number, value: number, size: AccessSize): boolean {
    for (const r of this.ranges) {
      const off = addr - r.base;
      if (off >= 0 && off + size <= r.size) {
        r.device.write(off, value, size);
        return true;
      }
    }
    return false;
  }
}

export class Machine implements Snapshotable {
  readonly ram: PagedMemory;
  readonly disk: PagedMemory | null;
  readonly ramBase = MemoryMap.ram.base;
  readonly dtbAddress: number;
  cpu!: Cpu;
  uart!: Uart16550;
  clint!: Clint;
  plic!: Plic;
  syscon!: Syscon;
  virtio!: VirtioMmio[];
  /** The screen's devices, when the machine has a screen. */
  gpu: VirtioGpu | null = null;
  keyboard: VirtioInput | null = null;
  tablet: VirtioInput | null = null;
  /** The network device, when the machine has one. */
  net: VirtioNet | null = null;
  /** Why the JIT asked for could not be used (the interpreter runs instead), or null. */
  executorNote: string | null = null;
  /** Set when the guest powers off; the machine runs no further. */
  power: PowerEvent | null = null;
  /** Receives every byte the guest writes to the console. */
  onOutput: (byte: number) => void = () => {};
  /** Receives every frame the guest transmits on its network device. */
  onTransmit: (frame: Uint8Array) => void = () => {};
  /** Receives every event made from typed input, just before it is applied (recording); scheduled events are not repeated here. */
  onEvent: ((event: InputEvent) => void) | null = null;

  private readonly dtb: Uint8Array;
  private readonly diskSectors: number;
  private devices: Device[] = [];
  /** Bytes typed but not yet taken by the guest. */
  private inputQueue: number[] = [];
  /** Events to apply at their positions (replay), in order. */
  private scheduled: InputEvent[] = [];
  private scheduledNext = 0;

  constructor(readonly config: MachineConfig) {
    const ramSize = config.ramSize ?? DEFAULT_RAM_MIB * MiB;
    if (!Number.isInteger(ramSize) || ramSize < MiB || ramSize > 2048 * MiB || ramSize % 4096 !== 0) {
      throw new RewindError(
        'bad-argument',
        `RAM size must be a whole number of MiB between 1 and 2048 (got ${ramSize / MiB} MiB)`,
      );
    }
    this.ram = new PagedMemory(ramSize, LEAD);
    if (config.disk) {
      const { memory, sectors } = diskFromImage(config.disk);
      this.disk = memory;
      this.diskSectors = sectors;
    } else {
      this.disk = null;
      this.diskSectors = 0;
    }
    this.dtb = buildDeviceTree({
      ramBase: this.ramBase,
      ramSize,
      hasDisk: this.disk !== null,
      hasScreen: config.screen ?? false,
      hasNet: config.net !== undefined,
      bootargs: config.bootargs,
      initrd: config.initrd,
    });
    // As QEMU: the device tree sits 2 MiB-aligned just below the end of RAM.
    this.dtbAddress = Math.floor((this.ramBase + ramSize - this.dtb.length) / (2 * MiB)) * 2 * MiB;
    for (const s of config.program.segments) {
      if (s.addr < this.dtbAddress + this.dtb.length && s.addr + s.bytes.length + s.zero > this.dtbAddress) {
        throw new RewindError(
          'bad-elf',
          'the program overlaps the device tree at the end of RAM; give the machine more RAM',
        );
      }
    }
    this.build(0);
  }

  /** Steps since reset. */
  get position(): number {
    return this.cpu.position;
  }

  /** Puts every device, the hart and RAM in their reset state, keeping the disk and the step count. */
  private build(position: number): void {
    const ram = this.ram;
    if (position > 0) {
      // A reset: back to zero everywhere (a fresh ArrayBuffer already is).
      ram.bytes.fill(0);
      ram.dirty.fill(1);
    }
    for (const s of this.config.program.segments) {
      ram.write(s.addr - this.ramBase, s.bytes);
    }
    ram.write(this.dtbAddress - this.ramBase, this.dtb);

    const dma: Dma = {
      readBytes: (addr, dest) => {
        const off = addr - this.ramBase;
        if (off < 0 || off + dest.length > ram.size) return false;
        dest.set(ram.bytes.subarray(off, off + dest.length));
        return true;
      },
      writeBytes: (addr, src) => {
        const off = addr - this.ramBase;
        if (off < 0 || off + src.length > ram.size) return false;
        ram.write(off, src);
        this.cpu.invalidateRange(off, src.length);
        return true;
      },
    };
    // The devices of the table (core/board.ts), in its order: bus ranges, saved state.
    const host: DeviceHost = {
      hartLine: (bit, level) => this.cpu.setInterruptLine(bit, level),
      irq: (source) => (level) => this.plic.setIrq(source, level),
      clock: { now: () => this.cpu.time(), set: (v) => (this.cpu.mtimeOffset = v - this.cpu.cycles()) },
      dma,
      output: (byte) => this.onOutput(byte),
      power: (event) => (this.power = event),
      disk: this.disk && { memory: this.disk, sectors: this.diskSectors, readOnly: this.config.diskReadOnly ?? false },
      screen: this.config.screen ?? false,
      net: this.config.net ? { mac: this.config.net.mac, transmit: (frame) => this.onTransmit(frame) } : null,
    };
    const built = new Map<DeviceEntry, Device>();
    for (const entry of DEVICES) built.set(entry, entry.create(host, entry));
    const get = <D extends Device>(entry: DeviceEntry<D>): D => built.get(entry) as D;
    this.plic = get(PLIC_DEVICE);
    this.clint = get(CLINT_DEVICE);
    this.uart = get(UART0_DEVICE);
    this.syscon = get(SYSCON_DEVICE);
    this.virtio = VIRTIO_DEVICES.map(get);
    const attached = this.virtio.map((v) => v.device);
    this.gpu = attached.find((d) => d instanceof VirtioGpu) ?? null;
    const inputs = attached.filter((d) => d instanceof VirtioInput);
    this.keyboard = inputs.find((d) => d.profile.kind === 'keyboard') ?? null;
    this.tablet = inputs.find((d) => d.profile.kind === 'tablet') ?? null;
    this.net = attached.find((d) => d instanceof VirtioNet) ?? null;
    const ranges = DEVICES.map((entry) => ({ base: entry.base, size: entry.size, device: built.get(entry)! }));
    this.devices = ranges.map((r) => r.device);
    const previous = this.cpu as Cpu | undefined;
    warmUp((program) => new Machine({ program, ramSize: 4 * MiB, executor: 'interp' }));
    this.cpu = new Cpu(ram, new DeviceBus(ranges));
    if (this.config.executor !== 'interp') {
      const r = attachJit(this.cpu);
      this.executorNote = r.ok ? null : r.reason;
    }
    if (previous) {
      this.cpu.setBreakpoints(previous.breakpoints);
      this.cpu.setWatchpoints(previous.watchpoints);
    }
    this.cpu.position = position;
    this.cpu.pc = this.config.program.entry | 0;
    this.cpu.x[10] = 0; // a0: hart id
    this.cpu.x[11] = this.dtbAddress | 0; // a1: device tree
    this.power = null;
    this.config.firmware?.(this);
  }

  /** Queues bytes typed at the console; they enter the UART as the guest becomes ready for them. */
  type(bytes: Iterable<number>): void {
    for (const b of bytes) this.inputQueue.push(b & 0xff);
  }

  /** Bytes typed but not yet taken by the guest. */
  get pendingInput(): number {
    return this.inputQueue.length;
  }

  /** Forgets typed bytes the guest has not taken (they belonged to another point in time). */
  clearInput(): void {
    this.inputQueue = [];
  }

  /** Replay: apply these events at their positions instead of taking typed input. */
  schedule(events: readonly InputEvent[]): void {
    this.scheduled = [...events].sort((a, b) => a.position - b.position || a.time - b.time);
    this.scheduledNext = 0;
    while (this.scheduledNext < this.scheduled.length && this.scheduled[this.scheduledNext]!.position < this.position) {
      this.scheduledNext++;
    }
  }

  /**
   * Runs up to `maxSteps` steps. Stops early when the guest powers off, or
   * when the hart sleeps with nothing that could wake it but input.
   * Idle time up to the next timer deadline is skipped at once (virtual
   * time never waits for the wall clock).
   *
   * `until` bounds the run by the virtual clock as well (`cpu.cycles()`:
   * steps plus idle ticks), as a group's quanta of virtual time do
   * (docs/network.md): the run stops once the clock reaches it, and a hart
   * asleep until then or later stops where it fell asleep, its clock not
   * moved on. The next run makes the jump, so the state at a position
   * never depends on where a run was cut (a replay, which is not cut,
   * reaches the same states).
   */
  run(maxSteps: number, resume = true, until = Infinity): RunResult {
    const cpu = this.cpu;
    let steps = 0;
    // A run resumes past a breakpoint it starts on; a caller that splits one run into chunks resumes only in the first.
    cpu.ignoreBreakpointAt = resume ? cpu.position : -1;
    cpu.stopReason = null;
    while (steps < maxSteps) {
      if (this.power) {
        if (this.power.kind !== 'reset') return { steps, reason: 'power' };
        this.build(cpu.position);
        const rest = this.run(maxSteps - steps, false, until);
        return { steps: steps + rest.steps, reason: rest.reason };
      }
      cpu.setInterruptLine(IRQ.MTI, this.clint.timerPending());
      this.applyInput();
      let limit = Math.min(maxSteps - steps, until - cpu.cycles());
      if (limit <= 0) return { steps, reason: 'time' };
      if (cpu.waiting && ((cpu.mipSw | cpu.mipHw) & cpu.mie) === 0) {
        const wake = this.nextWake();
        if (wake === Infinity) return { steps, reason: 'idle' };
        if (wake >= until) return { steps, reason: 'time' };
        cpu.idleTicks += wake - cpu.cycles();
        continue;
      }
      const cmp = this.clint.mtimecmp();
      const now = cpu.time();
      if (cmp > now) limit = Math.min(limit, cmp - now);
      const ev = this.scheduled[this.scheduledNext];
      if (ev && ev.position > cpu.position) limit = Math.min(limit, ev.position - cpu.position);
      steps += cpu.run(limit);
      if (cpu.stopReason !== null) return { steps, reason: cpu.stopReason };
    }
    return { steps, reason: 'limit' };
  }

  /** The virtual clock (cycles) at which something will wake a sleeping hart, or Infinity. */
  private nextWake(): number {
    const cpu = this.cpu;
    let wake = Infinity;
    if (cpu.mie & IRQ.MTI) {
      const cmp = this.clint.mtimecmp();
      wake = cmp - cpu.mtimeOffset;
    }
    const ev = this.scheduled[this.scheduledNext];
    if (ev && ev.position === cpu.position) wake = Math.min(wake, ev.time);
    return Math.max(wake, cpu.cycles());
  }

  /** Applies scheduled events due now, or one typed byte if the UART is ready for it. */
  private applyInput(): void {
    const cpu = this.cpu;
    for (;;) {
      const ev = this.scheduled[this.scheduledNext];
      // An event behind the current position (a damaged log) is applied late rather than never.
      if (!ev || (ev.position === cpu.position && ev.time > cpu.cycles()) || ev.position > cpu.position) break;
      this.scheduledNext++;
      this.apply(ev);
    }
    if (this.inputQueue.length > 0 && this.scheduledNext >= this.scheduled.length && this.uart.readyForInput()) {
      const byte = this.inputQueue.shift()!;
      const event = { position: cpu.position, time: cpu.cycles(), device: 'uart0', payload: [byte] };
      this.onEvent?.(event);
      this.apply(event);
    }
  }

  /**
   * Applies a host-initiated change now (a debugger writing a register or
   * memory): recorded through onEvent like typed input, so replay repeats it.
   * Payloads: "cpu" = [register 0..31 or 32 for pc, value bytes LE ×4];
   * "memory" = [physical address bytes LE ×4, data bytes...];
   * "csr" = [CSR number LE ×2, value bytes LE ×4] (a write as M-mode makes it, not by an instruction);
   * "keyboard", "tablet" = virtio_input_event structs (8 bytes each: type, code LE ×2, value LE ×4), a batch
   * the device passes to the driver as it gives buffers for them;
   * "net" = one Ethernet frame delivered to the network device.
   */
  inject(device: 'cpu' | 'memory' | 'csr' | 'keyboard' | 'tablet' | 'net', payload: number[]): void {
    const event = { position: this.cpu.position, time: this.cpu.cycles(), device, payload };
    this.apply(event, true);
    this.onEvent?.(event);
  }

  /**
   * Delivers a frame that arrives at virtual time `at`: a group's switch
   * delivers at the start of a quantum (docs/network.md), when a machine
   * that sleeps may still stand where it fell asleep (see run's `until`).
   * A hart asleep here with its clock short of `at` takes the frame when
   * its clock gets there: the event is recorded at this position with that
   * time and applied as a replay applies it (the sleep is skipped up to
   * it). Nothing may wake the hart before `at`, which a run stopped by
   * `until` = `at` ensures. A hart that is not asleep takes it now.
   */
  deliverFrame(payload: number[], at: number): void {
    const cpu = this.cpu;
    const asleep = cpu.waiting && ((cpu.mipSw | cpu.mipHw) & cpu.mie) === 0;
    if (!asleep || at <= cpu.cycles()) return this.inject('net', payload);
    const event = { position: cpu.position, time: at, device: 'net', payload };
    this.onEvent?.(event);
    let i = this.scheduledNext;
    for (; i < this.scheduled.length; i++) {
      const e = this.scheduled[i]!;
      if (e.position > event.position || (e.position === event.position && e.time > at)) break;
    }
    this.scheduled.splice(i, 0, event);
  }

  private apply(event: InputEvent, check = false): void {
    const p = event.payload;
    const u32 = (i: number) => (p[i]! | (p[i + 1]! << 8) | (p[i + 2]! << 16) | (p[i + 3]! << 24)) >>> 0;
    switch (event.device) {
      case 'uart0':
        for (const b of p) this.uart.receive(b);
        return;
      case 'cpu': {
        if (p.length !== 5 || p[0]! > 32) throw new RewindError('bad-state', 'malformed cpu event');
        if (p[0] === 32) this.cpu.pc = u32(1) & ~1;
        else if (p[0] !== 0) this.cpu.x[p[0]!] = u32(1);
        return;
      }
      case 'csr': {
        const num = p.length === 6 ? p[0]! | (p[1]! << 8) : -1;
        if (num < 0 || num > 0xfff || peekCsr(this.cpu, num) === undefined || csrReadOnly(num)) {
          if (check) throw new RewindError('bad-argument', 'no writable CSR there');
          throw new RewindError('bad-state', 'malformed csr event');
        }
        writeCsr(this.cpu, num, u32(2));
        this.cpu.flushTlb();
        return;
      }
      case 'memory': {
        const off = u32(0) - this.ramBase;
        const data = Uint8Array.from(p.slice(4));
        if (p.length < 4 || off < 0 || off + data.length > this.ram.size) {
          if (check) throw new RewindError('bad-argument', 'memory writes must lie inside RAM');
          throw new RewindError('bad-state', 'malformed memory event');
        }
        this.ram.write(off, data);
        this.cpu.invalidateRange(off, data.length);
        return;
      }
      case 'keyboard':
      case 'tablet': {
        const input = event.device === 'keyboard' ? this.keyboard : this.tablet;
        const events = decodeEvents(p);
        if (!input || !events) {
          if (check)
            throw new RewindError(
              'bad-argument',
              input ? 'input events are 8 bytes each' : 'this machine has no screen (use --screen)',
            );
          throw new RewindError('bad-state', `malformed ${event.device} event`);
        }
        input.send(events);
        return;
      }
      case 'net': {
        if (!this.net) {
          if (check) throw new RewindError('bad-argument', 'this machine has no network device (use --net)');
          throw new RewindError('bad-state', 'net event for a machine without a network device');
        }
        // A frame the device cannot take (too short, too long, its queue full) is dropped, as on a wire.
        this.net.receive(Uint8Array.from(p));
        return;
      }
      default:
        throw new RewindError('bad-state', `input event for unknown device "${event.device}"`);
    }
  }

  saveState(): MachineState {
    const devices: Record<string, DeviceState> = {};
    for (const d of this.devices) devices[d.name] = d.saveState();
    return {
      version: 1,
      position: this.position,
      cpu: this.cpu.saveState(),
      devices,
      machine: { power: this.power ? { ...this.power } : null },
    };
  }

  loadState(state: MachineState): void {
    if (state.version !== 1)
      throw new RewindError('bad-state', `unsupported machine state version ${String(state.version)}`);
    for (const d of this.devices) {
      const s = state.devices[d.name];
      if (!s) throw new RewindError('bad-state', `machine state lacks device "${d.name}"`);
      d.loadState(s);
    }
    this.cpu.loadState(state.cpu);
    this.power = (state.machine.power as PowerEvent | null) ?? null;
    this.schedule(this.scheduled);
  }

  invalidateCaches(rewritten?: readonly number[]): void {
    for (const d of this.devices) d.afterRestore?.();
    this.cpu.invalidateCaches(rewritten);
  }
}
