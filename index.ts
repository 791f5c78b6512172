/**
 * Rewind: a RISC-V computer that records everything and can be rewound.
 * The package's public surface.
 */
export { Machine, DEFAULT_RAM_MIB } from './core/machine.js';
export type { MachineConfig, InputEvent, RunResult, StopReason } from './core/machine.js';
export { parseElf, rawImage, isElf } from './core/loader.js';
export type { Program, Segment } from './core/loader.js';
export { Cpu, Cause } from './core/cpu.js';
export { CSR, CSR_NAMES } from './core/csr.js';
export { MemoryMap } from './core/memmap.js';
export { PagedMemory } from './core/paged.js';
export { RewindError } from './core/errors.js';
export type { ErrorCode } from './core/errors.js';
export type { MachineState, Snapshotable } from './core/snapshot.js';
export { Session, CHECKPOINT_INTERVAL, snapshotOf } from './session/session.js';
export type {
  Point,
  StateSnapshot,
  Diff,
  PageChange,
  DebugStops,
  Progress,
  ReplayResult,
  Stop,
  RunOptions,
  SessionOptions,
} from './session/session.js';
export type { ConsoleText } from './session/output.js';
export { buildMachine, programKind, programSpec } from './session/spec.js';
export type { MachineSpec, ProgramKind } from './session/spec.js';
export { readVmi, writeVmi, Timeline, Checkpointer } from './storage/index.js';
export type { Recording, Branch, Bookmark, InputEvent as RecordedEvent } from './storage/index.js';
export { disassemble } from './core/isa/disasm.js';
