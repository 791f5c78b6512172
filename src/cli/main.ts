/** The `rewind` command: dispatches to subcommands; errors become one line on stderr. */
import { RewindError } from '../../core/errors.js';
import { Exit } from './exit.js';
import { printable } from './text.js';
import { GDB_USAGE, gdbCommand } from '../gdb/command.js';
import { RECORD_USAGE, recordCommand } from './record.js';
import { RUN_USAGE, runCommand } from './run.js';
import {
  DIFF_USAGE,
  FORK_USAGE,
  INFO_USAGE,
  REPLAY_USAGE,
  STATE_USAGE,
  diffCommand,
  forkCommand,
  infoCommand,
  replayCommand,
  stateCommand,
} from './timetravel.js';

const USAGE = `usage: rewind <command> [options]

commands:
  ${RUN_USAGE}
  ${RECORD_USAGE}
  ${REPLAY_USAGE}
  ${STATE_USAGE}
  ${FORK_USAGE}
  ${DIFF_USAGE}
  ${INFO_USAGE}
  ${GDB_USAGE}

Exit status: the guest's (0 when it powers off with pass, its code on fail),
2 for bad input, 124 when --max-instructions runs out, 125 when the guest
waits for input after the input has ended.
`;

type Command = (argv: readonly string[]) => Promise<number>;

// A Map, not an object: "constructor" or "__proto__" must not find Object.prototype's members.
const COMMANDS = new Map<string, Command>([
  ['run', runCommand],
  ['record', recordCommand],
  ['replay', replayCommand],
  ['state', stateCommand],
  ['fork', forkCommand],
  ['diff', diffCommand],
  ['info', infoCommand],
  ['gdb', gdbCommand],
]);

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  // Given nothing, the usage is the complaint: one line, like every other one.
  if (name === undefined) {
    process.stderr.write(
      `rewind: usage: rewind <command> [options], commands: ${[...COMMANDS.keys()].join(', ')} (rewind --help for more)\n`,
    );
    return Exit.usage;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return Exit.ok;
  }
  const command = COMMANDS.get(name);
  if (!command) {
    process.stderr.write(`rewind: unknown command "${printable(name)}" (try rewind --help)\n`);
    return Exit.usage;
  }
  try {
    return await command(rest);
  } catch (e) {
    // Escaped: a message may quote a name from a file, and must stay one line.
    if (e instanceof RewindError) {
      process.stderr.write(`rewind: ${printable(e.message)}\n`);
      return Exit.usage;
    }
    const message = e instanceof Error ? e.message : String(e);
    process.stderr.write(`rewind: internal error: ${printable(message)}\n`);
    return Exit.internal;
  }
}
