/**
 * `rewind screenshot`: the machine's screen at a point, as a PNG. For a
 * program, the point is where its run ends (the guest powers off, or waits
 * for input with nothing left to type) or `--at N`; for a recording, the
 * end of the branch or `--at N` on it.
 */
import { encode } from 'fast-png';
import { RewindError } from '../../core/errors.js';
import { Session } from '../../session/session.js';
import { BOOT_FLAGS, bootSpec } from '../node/boot.js';
import { checkOutputPath, readUserFile } from '../node/files.js';
import { ProgressBar } from '../node/progress.js';
import { isVmiPath, openVmi } from '../node/vmi-file.js';
import { writeFileAtomic } from '../../storage/node.js';
import { parseArgs, stringFlag } from './args.js';
import { bootOptions } from './boot-args.js';
import { driveToEnd } from './drive.js';
import { Exit } from './exit.js';
import { parsePosition } from './point.js';
import { SCREENSHOT_USAGE } from './usage.js';

export async function screenshotCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, {
    ...BOOT_FLAGS,
    at: 'string',
    branch: 'string',
    'input-file': 'string',
    o: 'string',
    output: 'string',
  });
  const boot = bootOptions(args, SCREENSHOT_USAGE);
  const out = stringFlag(args, 'o') ?? stringFlag(args, 'output');
  if (!out) throw new RewindError('bad-argument', `screenshot needs -o FILE.png (usage: ${SCREENSHOT_USAGE})`);
  checkOutputPath(out);
  const atText = stringFlag(args, 'at');
  const at = atText === undefined ? undefined : parsePosition(atText, '--at');
  const session =
    boot.program !== undefined && isVmiPath(boot.program)
      ? seekRecording(boot.program, args, at)
      : runProgram(boot, args, at);
  const gpu = session.machine.gpu;
  if (!gpu) throw new RewindError('bad-argument', 'the machine has no screen (boot it with --screen)');
  const screen = gpu.screen();
  if (!screen) throw new RewindError('bad-state', `nothing is on the screen at position ${session.position}`);
  const png = encode({ width: screen.width, height: screen.height, data: screen.rgb, channels: 3, depth: 8 });
  await writeFileAtomic(out, png);
  return Exit.ok;
}

/** A recording at --at on its branch (by default, where the branch ends). */
function seekRecording(path: string, args: ReturnType<typeof parseArgs>, at: number | undefined): Session {
  if (args.flags.has('input-file'))
    throw new RewindError('bad-argument', '--input-file goes with a program: a recording has its input');
  const session = openVmi(path, { seekCheckpoints: false });
  const branchArg = stringFlag(args, 'branch');
  const branch = branchArg === undefined ? session.branch : session.resolveBranch(branchArg);
  const end = session.branchEnd(branch);
  const position = at ?? end;
  if (position > end)
    throw new RewindError(
      'bad-argument',
      `branch ${session.timeline.branch(branch).name} only runs to position ${end}, not ${position}`,
    );
  const bar = new ProgressBar('seek');
  session.seek({ branch, position }, (d, t) => bar.update(d, t));
  bar.done();
  return session;
}

/** A program run from reset with its input file, to --at or to where it ends. */
function runProgram(
  boot: ReturnType<typeof bootOptions>,
  args: ReturnType<typeof parseArgs>,
  at: number | undefined,
): Session {
  if (args.flags.has('branch')) throw new RewindError('bad-argument', '--branch goes with a recording (.vmi)');
  const session = Session.create(bootSpec(boot), { record: false });
  const inputFile = stringFlag(args, 'input-file');
  if (inputFile) session.script(readUserFile(inputFile, 'input file'));
  driveToEnd(session, at, at !== undefined);
  if (at !== undefined && session.position < at)
    process.stderr.write(`rewind: the run ended at position ${session.position}, before ${at}\n`);
  return session;
}
