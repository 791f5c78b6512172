/** `rewind run`: run a program with the console on stdin/stdout. */
import { RewindError } from '../../core/errors.js';
import { BOOT_FLAGS, bootSpec } from '../node/boot.js';
import { bootOptions } from './boot-args.js';
import { NodeConsole } from '../node/console.js';
import { checkWritableFile, readUserFile } from '../node/files.js';
import { parseArgs, numberFlag, stringFlag } from './args.js';
import { drive } from './drive.js';
import { Exit } from './exit.js';
import { writeFileSync } from 'node:fs';
import { Session } from '../../session/session.js';
import { isVmiPath, openVmi } from '../node/vmi-file.js';
import { RUN_USAGE } from './usage.js';

export async function runCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, {
    ...BOOT_FLAGS,
    'write-disk': 'boolean',
    'max-instructions': 'number',
    'input-file': 'string',
    stats: 'boolean',
  });
  const boot = bootOptions(args, RUN_USAGE);
  const diskPath = boot.disk;
  if (args.flags.has('write-disk') && !diskPath)
    throw new RewindError('bad-argument', '--write-disk needs --disk FILE');
  if (args.flags.has('write-disk') && diskPath) checkWritableFile(diskPath, 'disk image');
  const inputFile = stringFlag(args, 'input-file');
  const input = inputFile ? { file: readUserFile(inputFile, 'input file') } : 'stdin';
  const path = boot.program;
  // A recording runs its main branch from its start: replayed, then live once its history ends.
  const session =
    path !== undefined && isVmiPath(path) ? openVmi(path) : Session.create(bootSpec(boot), { record: false });
  const machine = session.machine;
  if (machine.executorNote) process.stderr.write(`rewind: ${machine.executorNote}\n`);
  const console = new NodeConsole((bytes) => session.script(bytes), input);
  const started = performance.now();
  let result;
  try {
    result = await drive(session, console, numberFlag(args, 'max-instructions'));
  } finally {
    console.close();
  }
  const seconds = (performance.now() - started) / 1000;
  if (result.ended === 'limit')
    process.stderr.write(`rewind: stopped after ${machine.position} instructions (--max-instructions)\n`);
  if (result.ended === 'stuck')
    process.stderr.write('rewind: the guest is waiting for input and the input has ended\n');
  if (args.flags.has('write-disk') && machine.disk && diskPath) {
    const original = readUserFile(diskPath, 'disk image');
    writeFileSync(diskPath, machine.disk.bytes.subarray(0, original.length));
  }
  if (args.flags.has('stats')) {
    const retired = machine.cpu.retired();
    process.stderr.write(
      `instructions: ${retired}\nsteps: ${machine.position}\nseconds: ${seconds.toFixed(3)}\nMIPS: ${(retired / seconds / 1e6).toFixed(1)}\n`,
    );
  }
  return result.status;
}

export { Exit };
