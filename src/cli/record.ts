/** `rewind record`: run like `rewind run`, and write the recording as a .vmi. */
import { RewindError } from '../../core/errors.js';
import { Session } from '../../session/session.js';
import { BOOT_FLAGS, bootSpec } from '../node/boot.js';
import { bootOptions } from './boot-args.js';
import { NodeConsole } from '../node/console.js';
import { checkOutputPath, readUserFile } from '../node/files.js';
import { finishRecording } from '../node/vmi-file.js';
import { StatusLine, formatBytes } from '../node/progress.js';
import { PageFile } from '../../storage/pagefile.js';
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
    budget: 'size',
  });
  const spec = bootSpec(bootOptions(args, RECORD_USAGE));
  const out = stringFlag(args, 'o') ?? stringFlag(args, 'output');
  if (!out) throw new RewindError('bad-argument', `record needs -o FILE.vmi (usage: ${RECORD_USAGE})`);
  checkOutputPath(out);
  const inputFile = stringFlag(args, 'input-file');
  const input = inputFile ? { file: readUserFile(inputFile, 'input file') } : 'stdin';
  const budget = numberFlag(args, 'budget') ?? DEFAULT_BUDGET;
  // The pages stream to a file beside the output until it is written: memory stays bounded at any length.
  const spill = new PageFile(out);
  let session: Session | undefined;
  let result;
  let size = 0;
  try {
    session = Session.create(spec, { budget, pages: { spill } });
    const s = session;
    const max = numberFlag(args, 'max-instructions');
    if (max !== undefined) s.plannedEnd = max;
    const console = new NodeConsole((bytes) => s.script(bytes), input);
    const status = new StatusLine();
    const started = performance.now();
    console.beforeOutput = () => status.clear();
    try {
      result = await drive(s, console, max, () => status.update(() => progressText(s, budget, started)));
    } finally {
      status.clear();
      console.close();
    }
    // A checkpoint at the end lets `replay --verify` prove the whole run, unless one near enough is the end's.
    session.checkpointAtEnd();
    session.keepWithinBudget();
    size = finishRecording(session, spill);
  } finally {
    spill.close();
  }
  if (size > budget)
    process.stderr.write(
      `rewind: the recording takes ${formatBytes(size)}, over the --budget of ${formatBytes(budget)}: ` +
        "each branch's first and newest checkpoints are kept whatever the budget\n",
    );
  if (result.ended === 'limit')
    process.stderr.write(`rewind: stopped after ${session.position} instructions (--max-instructions)\n`);
  if (result.ended === 'stuck')
    process.stderr.write('rewind: the guest is waiting for input and the input has ended\n');
  return result.status;
}

/** What a recording's pages may take unless --budget says otherwise: room on any laptop. */
const DEFAULT_BUDGET = 2 * 2 ** 30;

function progressText(session: Session, budget: number, started: number): string {
  const seconds = (performance.now() - started) / 1000;
  const stored = session.fileBytesWritten;
  return `recording: ${session.position.toLocaleString('en-US')} instructions, ${(session.position / seconds / 1e6).toFixed(0)} MIPS, ${formatBytes(stored)} stored, ${((stored / budget) * 100).toFixed(0)}% of the ${formatBytes(budget)} budget`;
}

export { Exit };
