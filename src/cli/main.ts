/** The `rewind` command: dispatches to subcommands; errors become one line on stderr. */
import { RewindError } from '../../core/errors.js';
import { Exit } from './exit.js';
import { printable } from './text.js';
import {
  DIFF_USAGE,
  FORK_USAGE,
  GDB_USAGE,
  GROUP_USAGE,
  INFO_USAGE,
  RECORD_USAGE,
  REPLAY_USAGE,
  RUN_USAGE,
  SCREENSHOT_USAGE,
  STATE_USAGE,
} from './usage.js';

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
  ${SCREENSHOT_USAGE}
  ${GROUP_USAGE}

--screen gives the machine a screen, a keyboard and a tablet (virtio), --net
a network device (virtio-net); a recording remembers them.

Exit status: the guest's (0 when it powers off with pass, its code on fail),
2 for bad input, 124 when --max-instructions runs out, 125 when the guest
waits for input after the input has ended.
`;

type Command = (argv: readonly string[]) => Promise<number>;

// A Map, not an object: "constructor" or "__proto__" must not find Object.prototype's members.
// Each command is loaded when it runs: `rewind info` does not pay for the machine and the JIT.
const COMMANDS = new Map<string, () => Promise<Command>>([
  ['run', async () => (await import('./run.js')).runCommand],
  ['record', async () => (await import('./record.js')).recordCommand],
  ['replay', async () => (await import('./timetravel.js')).replayCommand],
  ['state', async () => (await import('./timetravel.js')).stateCommand],
  ['fork', async () => (await import('./timetravel.js')).forkCommand],
  ['diff', async () => (await import('./timetravel.js')).diffCommand],
  ['info', async () => (await import('./info.js')).infoCommand],
  ['gdb', async () => (await import('../gdb/command.js')).gdbCommand],
  ['screenshot', async () => (await import('./screenshot.js')).screenshotCommand],
  ['group', async () => (await import('./group.js')).groupCommand],
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
  // msgpackr decodes in JS, as in the browser: looking for its native helper cost every command
  // some 20 ms of start-up (probing the C library), for strings that Rewind's files hardly hold.
  process.env['MSGPACKR_NATIVE_ACCELERATION_DISABLED'] ??= 'true';
  if (!command) {
    process.stderr.write(`rewind: unknown command "${printable(name)}" (try rewind --help)\n`);
    return Exit.usage;
  }
  try {
    return await (
      await command()
    )(rest);
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
