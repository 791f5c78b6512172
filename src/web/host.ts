/**
 * What the worker drives: a machine, plus (when it records) time travel.
 * `LiveHost` runs a bare Machine forward only. A recording host (over
 * session/'s Session) implements the optional time-travel members, and the
 * engine and UI light up seek / step back / run back / fork / export /
 * import from `timeTravel` alone: nothing else changes.
 */
import { CSR_NAMES, readCsr } from '../../core/csr.js';
import { isElf, parseElf, rawImage } from '../../core/loader.js';
import { Machine, type RunResult, type StopReason } from '../../core/machine.js';
import { MemoryMap } from '../../core/memmap.js';
import type { Registers, WatchRange } from './protocol.js';

export interface HostSpec {
  image: Uint8Array;
  name: string;
  ramSize: number;
  disk?: Uint8Array;
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

  seek?(branch: string | undefined, position: number): void;
  stepBack?(count: number): void;
  /** Goes back to the last hit of these stops; returns the reason, or null when none hit (at the start). */
  reverseContinue?(breakpoints: number[], watchpoints: WatchRange[]): StopReason | null;
  fork?(position: number, name?: string): string;
  exportVmi?(): Uint8Array;
}

/** Builds a machine from program bytes: ELF when it has the magic, else a raw image at the start of RAM. */
export function buildMachine(spec: HostSpec): Machine {
  const base = MemoryMap.ram.base;
  const program = isElf(spec.image) ? parseElf(spec.image, base, spec.ramSize) : rawImage(spec.image, base, spec.ramSize);
  return new Machine({ program, ramSize: spec.ramSize, disk: spec.disk });
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
