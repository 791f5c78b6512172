/**
 * Drives a machine from the CLI: slices of steps, console output flushed
 * between them, input waited for when the guest sleeps for it.
 */
import type { Machine, RunResult } from '../../core/machine.js';
import type { NodeConsole } from '../node/console.js';
import { Exit } from './exit.js';

/** Steps per slice between looks at the host (input, output, Ctrl-A X). */
const SLICE = 2_000_000;

export interface DriveResult {
  /** The exit status the CLI should end with. */
  status: number;
  /** Why the run ended, for messages. */
  ended: 'power' | 'limit' | 'stuck' | 'quit';
}

const yieldToHost = () => new Promise<void>((resolve) => setImmediate(resolve));

/** What drive runs: a bare machine, or a session that records as it runs. */
export interface Runner {
  readonly machine: Machine;
  run(maxSteps: number): RunResult;
}

export async function drive(runner: Runner, console: NodeConsole, maxSteps?: number): Promise<DriveResult> {
  const machine = runner.machine;
  for (;;) {
    if (console.quit) return { status: Exit.ok, ended: 'quit' };
    const left = maxSteps === undefined ? SLICE : Math.min(SLICE, maxSteps - machine.position);
    if (left <= 0) return { status: Exit.limit, ended: 'limit' };
    const result = runner.run(left);
    console.flush();
    if (result.reason === 'power') {
      const p = machine.power!;
      return { status: p.kind === 'fail' ? p.code & 0xff : Exit.ok, ended: 'power' };
    }
    // A guest that spins on the UART once input has ended would spin for ever.
    if (result.reason === 'limit' && console.ended && machine.pendingInput === 0 && machine.uart.pollingForInput()) {
      return { status: Exit.stuck, ended: 'stuck' };
    }
    if (result.reason === 'idle') {
      // Nothing but input can wake the guest: once input has ended, nothing ever will.
      if (console.ended && (machine.pendingInput === 0 || !machine.uart.readyForInput())) {
        return { status: Exit.stuck, ended: 'stuck' };
      }
      await console.waitForInput();
      if (console.ended && machine.pendingInput === 0) continue;
    }
    await yieldToHost();
  }
}
