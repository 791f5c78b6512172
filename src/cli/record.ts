/** `rewind record`: run like `rewind run`, and write the recording as a .vmi. */
import { RewindError } from '../../core/errors.js';
import { Session } from '../../session/session.js';
import { programKind } from '../../session/spec.js';
import { loadProgram, ramBytes } from '../node/boot.js';
import { NodeConsole } from '../node/console.js';
import { readUserFile } from '../node/files.js';
import { saveVmi } from '../node/vmi-file.js';
import { numberFlag, parseArgs, stringFlag } from './args.js';
import { drive } from './drive.js';
import { Exit } from './exit.js';

export const RECORD_USAGE =
  'rewind record <prog.elf|image.bin> -o run.vmi [--input-file F] [--disk F] [--ram MIB] [--max-instructions N]';

export async function recordCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, {
    o: 'string',
    output: 'string',
    'input-file': 'string',
    disk: 'string',
    ram: 'number',
    'max-instructions': 'number',
    raw: 'boolean',
  });
  if (args.positional.length !== 1) throw new RewindError('bad-argument', `usage: ${RECORD_USAGE}`);
  const out = stringFlag(args, 'o') ?? stringFlag(args, 'output');
  if (!out) throw new RewindError('bad-argument', `record needs -o FILE.vmi (usage: ${RECORD_USAGE})`);
  const ramSize = ramBytes(numberFlag(args, 'ram'));
  const { image } = loadProgram(args.positional[0]!, ramSize, args.flags.has('raw'));
  const diskPath = stringFlag(args, 'disk');
  const disk = diskPath ? readUserFile(diskPath, 'disk image') : undefined;
  const inputFile = stringFlag(args, 'input-file');
  const input = inputFile ? { file: readUserFile(inputFile, 'input file') } : 'stdin';
  const session = Session.create({ kind: args.flags.has('raw') ? 'raw' : programKind(image), image, ramSize, disk });
  const console = new NodeConsole(session.machine, input);
  let result;
  try {
    result = await drive(session, console, numberFlag(args, 'max-instructions'));
  } finally {
    console.close();
  }
  // A checkpoint at the end lets `replay --verify` prove the whole run.
  session.checkpointHere();
  await saveVmi(session, out);
  if (result.ended === 'limit') process.stderr.write(`rewind: stopped after ${session.position} instructions (--max-instructions)\n`);
  if (result.ended === 'stuck') process.stderr.write('rewind: the guest is waiting for input and the input has ended\n');
  return result.status;
}

export { Exit };
