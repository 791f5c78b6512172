/**
 * The CLI's side of a run: the session runs the machine; this turns its
 * stops into the CLI's exit statuses, hands the console's input to it, and
 * waits for the terminal or the pipe when the guest waits for input.
 */
import type { Session, Stop } from '../../session/session.js';
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

/**
 * Runs until the guest powers off, the budget (`maxSteps`, a position) is
 * spent, or it waits for input that will never come. `afterSlice` is called
 * between slices (a progress line).
 */
export async function drive(
  session: Session,
  console: NodeConsole,
  maxSteps?: number,
  afterSlice?: () => void,
): Promise<DriveResult> {
  session.onOutput = (byte) => console.write(byte);
  for (;;) {
    if (console.quit) return { status: Exit.ok, ended: 'quit' };
    const stop = session.run(budget(session, maxSteps));
    console.flush();
    afterSlice?.();
    const end = ending(stop, session, maxSteps, console.ended);
    if (end) return end;
    if (stop.reason === 'waiting') await console.waitForInput();
    else await yieldToHost();
  }
}

/**
 * Runs with input that has all been given (a file, or none) until the run
 * ends; for commands with no console. With `toPosition`, a guest polling
 * for input goes on polling up to `maxSteps` (the state at a position is
 * that of a linear run), instead of ending the run as waiting.
 */
export function driveToEnd(session: Session, maxSteps?: number, toPosition = false): DriveResult {
  const options = { whenPolling: toPosition ? 'run' : 'wait' } as const;
  for (;;) {
    const end = ending(session.run(budget(session, maxSteps), options), session, maxSteps, true);
    if (end) return end;
  }
}

function budget(session: Session, maxSteps: number | undefined): number {
  return maxSteps === undefined ? SLICE : Math.max(0, Math.min(SLICE, maxSteps - session.position));
}

/** How a run ends after this stop, or null when it goes on. */
function ending(stop: Stop, session: Session, maxSteps: number | undefined, inputEnded: boolean): DriveResult | null {
  switch (stop.reason) {
    case 'power':
      return { status: stop.power.kind === 'fail' ? stop.power.code & 0xff : Exit.ok, ended: 'power' };
    case 'waiting':
      // Nothing but input can move the guest on: once input has ended, nothing ever will.
      return inputEnded ? { status: Exit.stuck, ended: 'stuck' } : null;
    case 'limit':
      return maxSteps !== undefined && session.position >= maxSteps ? { status: Exit.limit, ended: 'limit' } : null;
    case 'breakpoint':
    case 'watchpoint':
      return null;
  }
}
