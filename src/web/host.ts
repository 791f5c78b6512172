/**
 * What the worker drives: a machine, plus (when it records) time travel.
 * `LiveHost` runs a bare Machine forward only. A recording host (over
 * session/'s Session) implements the optional time-travel members, and the
 * engine and UI light up seek / step back / run back / fork / export /
 * import from `timeTravel` alone: nothing else changes.
 */
import { CSR_NAMES, readCsr } from '../../core/csr.js';
import type { Machine, RunResult, StopReason } from '../../core/machine.js';
import { buildMachine as buildFromSpec, programKind, type MachineSpec } from '../../session/spec.js';
import type { ConsoleText } from './console-history.js';
import type { DiffResult, Executor, LinuxBoot, PointRef, Registers, TimelineInfo, WatchRange } from './protocol.js';

export interface HostSpec {
  image: Uint8Array;
  name: string;
  ramSize: number;
  disk?: Uint8Array;
  /** Boot `image` as a Linux kernel. */
  linux?: LinuxBoot;
  executor?: Executor;
}

export interface MachineHost {
  readonly machine: Machine;
  /** True when the optional time-travel members below work. */
  readonly timeTravel: boolean;
  /** Current branch id. */
  readonly branch: string;
  /** The furthest position the current branch has reached. */
  end(): number;
  /** Runs forward up to `steps` (recording, when the host records). */
  run(steps: number): RunResult;
  /** Console input. */
  type(bytes: Uint8Array): void;

  /**
   * Returns false when `progress` said stop: the machine then stands at a
   * valid position on the target branch short of the target (seek again to go on).
   */
  seek?(branch: string | undefined, position: number, progress?: (done: number, total: number) => boolean): boolean;
  stepBack?(count: number): void;
  /** Goes back to the last hit of these stops; returns the reason, or null when none hit (at the start). */
  reverseContinue?(breakpoints: number[], watchpoints: WatchRange[]): StopReason | null;
  fork?(position: number, name?: string): string;
  exportVmi?(): Uint8Array;
  /** Deflates up to `maxPages` pages an export would otherwise deflate at once; returns how many remain. */
  compressPages?(maxPages: number): number;
  /** The state hash now (hex), as `rewind state` prints it. */
  stateHash?(): string;
  /** The console as it was at the current position (see console-history.ts). */
  console?(): ConsoleText;
  /** The branch tree and the current branch's marks; `timelineVersion` changes whenever they do. */
  timeline?(): TimelineInfo;
  timelineVersion?(): string;
  /** Compares two points; the machine ends where it was. */
  diff?(a: PointRef, b: PointRef): DiffResult;
  renameBranch?(branch: string, name: string): void;
  deleteBranch?(branch: string): void;
  bookmark?(name: string, position: number): void;
}

/** What the machine is built from: a Linux kernel, or program bytes (ELF when it has the magic, else a raw image at the start of RAM). */
export function machineSpec(spec: HostSpec): MachineSpec {
  const { image, ramSize, disk, linux, executor } = spec;
  if (linux) return { kind: 'linux', image, initrd: linux.initrd, append: linux.append, ramSize, disk, executor };
  return { kind: programKind(image), image, ramSize, disk, executor };
}

export function buildMachine(spec: HostSpec): Machine {
  return buildFromSpec(machineSpec(spec));
}

/** Forward-only: the machine as it runs, no recording. */
export class LiveHost implements MachineHost {
  readonly timeTravel = false;
  readonly branch = 'main';
  readonly machine: Machine;

  constructor(spec: HostSpec) {
    this.machine = buildMachine(spec);
  }

  end(): number {
    return this.machine.position;
  }

  run(steps: number): RunResult {
    return this.machine.run(steps);
  }

  type(bytes: Uint8Array): void {
    this.machine.type(bytes);
  }
}

/** Registers and CSRs now, every CSR read as M-mode would read it (no side effects). */
export function registersOf(machine: Machine): Registers {
  const cpu = machine.cpu;
  const csr: Record<string, number> = {};
  const saved = cpu.priv;
  cpu.priv = 3;
  try {
    for (const [num, name] of CSR_NAMES) {
      const v = readCsr(cpu, num);
      if (v !== undefined) csr[name] = v >>> 0;
    }
  } finally {
    cpu.priv = saved;
  }
  return {
    position: machine.position,
    pc: cpu.pcValue,
    priv: cpu.priv,
    x: Array.from(cpu.x.subarray(0, 32), (v) => v >>> 0),
    csr,
  };
}
