/** `rewind record`: run like `rewind run`, and write the recording as a .vmi. */
import { RewindError } from '../../core/errors.js';
import { Session } from '../../session/session.js';
import { BOOT_FLAGS, bootSpec } from '../node/boot.js';
import { bootOptions } from './boot-args.js';
import { NodeConsole } from '../node/console.js';
import { checkOutputPath, readUserFile } from '../node/files.js';
import { saveVmi } from '../node/vmi-file.js';
import { numberFlag, parseArgs, stringFlag } from './args.js';
import { drive } from './drive.js';
import { Exit } from './exit.js';
import { RECORD_USAGE } from './usage.js';

export async function recordCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, {
    ...BOOT_FLAGS,
    o: 'string',
    output: 'string',
    'input-file': 'string',
    'max-instructions': 'number',
  });
  const spec = bootSpec(bootOptions(args, RECORD_USAGE));
  const out = stringFlag(args, 'o') ?? stringFlag(args, 'output');
  if (!out) throw new RewindError('bad-argument', `record needs -o FILE.vmi (usage: ${RECORD_USAGE})`);
  checkOutputPath(out);
  const inputFile = stringFlag(args, 'input-file');
  const input = inputFile ? { file: readUserFile(inputFile, 'input file') } : 'stdin';
  const session = Session.create(spec);
  const console = new NodeConsole((bytes) => session.script(bytes), input);
  let result;
  try {
    result = await drive(session, console, numberFlag(args, 'max-instructions'));
  } finally {
    console.close();
  }
  // A checkpoint at the end lets `replay --verify` prove the whole run.
  session.checkpointHere();
  await saveVmi(session, out);
  if (result.ended === 'limit')
    process.stderr.write(`rewind: stopped after ${session.position} instructions (--max-instructions)\n`);
  if (result.ended === 'stuck')
    process.stderr.write('rewind: the guest is waiting for input and the input has ended\n');
  return result.status;
}

export { Exit };
