/** The `rewind` command: dispatches to subcommands; errors become one line on stderr. */
import { RewindError } from '../../core/errors.js';
import { Exit } from './exit.js';
import { RUN_USAGE, runCommand } from './run.js';

const USAGE = `usage: rewind <command> [options]

commands:
  ${RUN_USAGE}
`;

type Command = (argv: readonly string[]) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  run: runCommand,
};

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return name === undefined ? Exit.usage : Exit.ok;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`rewind: unknown command "${name}" (try rewind --help)\n`);
    return Exit.usage;
  }
  try {
    return await command(rest);
  } catch (e) {
    if (e instanceof RewindError) {
      process.stderr.write(`rewind: ${e.message}\n`);
      return Exit.usage;
    }
    const message = e instanceof Error ? e.message : String(e);
    process.stderr.write(`rewind: internal error: ${message}\n`);
    return Exit.internal;
  }
}
