/**
 * Running a guest under one executor or the other, in lockstep chunks, with
 * the state hash (CPU, devices, RAM pages through the dirty flags) at every
 * checkpoint: the JIT must give the interpreter's hashes at every one.
 */
import { readFileSync } from 'node:fs';
import { attachJit, detachJit } from '../../core/jit/index.js';
import { parseElf } from '../../core/loader.js';
import { Machine } from '../../core/machine.js';
import { MemoryMap } from '../../core/memmap.js';
import { StateHasher } from '../../storage/statehash.js';

export type Executor = 'interp' | 'jit';

export interface Trace {
  output: string;
  /** One state hash (hex) per checkpoint, and the position it was taken at. */
  checkpoints: { position: number; hash: string }[];
  stop: string;
  position: number;
}

export interface TraceOptions {
  input?: Uint8Array;
  disk?: string;
  ramMiB?: number;
  /** Steps between checkpoints. */
  every?: number;
  maxSteps?: number;
}

/**
 * Keeps the machine's hart on this executor (a reset builds a new hart).
 * The JIT compiles sooner than by default, so that short guests run
 * mostly compiled code.
 */
export function useExecutor(machine: Machine, executor: Executor): void {
  if (executor === 'interp') detachJit(machine.cpu);
  else if (machine.cpu.jit === undefined) {
    const r = attachJit(machine.cpu, { hot: 32 });
    if (!r.ok) throw new Error(r.reason);
  }
}

export function newMachine(elfPath: string, options: TraceOptions = {}): Machine {
  const ramSize = (options.ramMiB ?? 64) * 1024 * 1024;
  const program = parseElf(new Uint8Array(readFileSync(elfPath)), MemoryMap.ram.base, ramSize);
  const disk = options.disk ? new Uint8Array(readFileSync(options.disk)) : undefined;
  return new Machine({ program, ramSize, disk });
}

const hex = (h: unknown): string => (typeof h === 'string' ? h : JSON.stringify(h));

export function trace(elfPath: string, executor: Executor, options: TraceOptions = {}): Trace {
  const machine = newMachine(elfPath, options);
  const out: number[] = [];
  machine.onOutput = (b) => out.push(b);
  if (options.input) machine.type(options.input);
  let hasher = new StateHasher(machine);
  let ram = machine.ram;
  const every = options.every ?? 1_000_000;
  const max = options.maxSteps ?? 200_000_000;
  const checkpoints: Trace['checkpoints'] = [];
  let stop = 'limit';
  while (machine.position < max) {
    useExecutor(machine, executor);
    const r = machine.run(Math.min(every, max - machine.position));
    if (machine.ram !== ram) {
      ram = machine.ram;
      hasher = new StateHasher(machine);
    }
    checkpoints.push({ position: machine.position, hash: hex(hasher.stateHash()) });
    if (r.reason !== 'limit') {
      stop = r.reason;
      break;
    }
  }
  return { output: Buffer.from(out).toString('latin1'), checkpoints, stop, position: machine.position };
}
