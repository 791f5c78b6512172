/** The time-travel commands: replay, state, fork, diff, info. */
import { RewindError } from '../../core/errors.js';
import { Session, type Diff } from '../../session/session.js';
import { BOOT_FLAGS, bootSpec } from '../node/boot.js';
import { bootOptions } from './boot-args.js';
import { checkOutputPath, readUserFile } from '../node/files.js';
import { ProgressBar } from '../node/progress.js';
import { isVmiPath, openVmi, saveVmi } from '../node/vmi-file.js';
import { numberFlag, parseArgs, stringFlag } from './args.js';
import { driveToEnd } from './drive.js';
import { Exit } from './exit.js';
import { DIFF_USAGE, FORK_USAGE, REPLAY_USAGE, STATE_USAGE } from './usage.js';
import { parsePoint, parsePosition } from './point.js';
import { printable, safeJson } from './text.js';

const usage = (text: string) => new RewindError('bad-argument', `usage: ${text}`);
const hex = (n: number) => '0x' + (n >>> 0).toString(16).padStart(8, '0');

function stdoutWriter(): { write: (b: number) => void; flush: () => void } {
  let buf: number[] = [];
  return {
    write: (b) => {
      buf.push(b);
      if (buf.length >= 65536) {
        process.stdout.write(Buffer.from(buf));
        buf = [];
      }
    },
    flush: () => {
      if (buf.length) process.stdout.write(Buffer.from(buf));
      buf = [];
    },
  };
}

export async function replayCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, { branch: 'string', verify: 'boolean' });
  if (args.positional.length !== 1) throw usage(REPLAY_USAGE);
  const session = openVmi(args.positional[0]!);
  const branch = session.resolveBranch(stringFlag(args, 'branch') ?? session.timeline.root().id);
  const out = stdoutWriter();
  const bar = new ProgressBar('replay');
  const result = session.replay(branch, {
    onOutput: out.write,
    verify: args.flags.has('verify'),
    progress: (d, t) => bar.update(d, t),
  });
  bar.done();
  out.flush();
  if (result.mismatch) {
    const m = result.mismatch;
    process.stderr.write(
      `rewind: verify failed: state at position ${m.position} has hash ${m.actual}, the recording says ${m.expected}\n`,
    );
    return 1;
  }
  if (result.damaged) {
    process.stderr.write(`rewind: verify failed: ${result.damaged.message}\n`);
    return 1;
  }
  if (args.flags.has('verify'))
    process.stderr.write(`rewind: verified ${result.checked} checkpoints up to position ${result.position}\n`);
  const p = result.power;
  return p && p.kind === 'fail' ? p.code & 0xff : Exit.ok;
}

export async function stateCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, { ...BOOT_FLAGS, at: 'string', branch: 'string', 'input-file': 'string' });
  const boot = bootOptions(args, STATE_USAGE);
  const atText = stringFlag(args, 'at');
  if (atText === undefined) throw new RewindError('bad-argument', `state needs --at N (usage: ${STATE_USAGE})`);
  const at = parsePosition(atText, '--at');
  const path = boot.program;
  let session: Session;
  if (path !== undefined && isVmiPath(path)) {
    // One seek, then the process ends: no checkpoint for stepping back is worth its capture.
    session = openVmi(path, { seekCheckpoints: false });
    const branchArg = stringFlag(args, 'branch');
    const branch = branchArg === undefined ? session.branch : session.resolveBranch(branchArg);
    const end = session.branchEnd(branch);
    if (at > end)
      throw new RewindError(
        'bad-argument',
        `branch ${session.timeline.branch(branch).name} only runs to position ${end}, not ${at}`,
      );
    const bar = new ProgressBar('seek');
    session.seek({ branch, position: at }, (d, t) => bar.update(d, t));
    bar.done();
  } else {
    session = Session.create(bootSpec(boot), { record: false });
    const inputFile = stringFlag(args, 'input-file');
    if (inputFile) session.script(readUserFile(inputFile, 'input file'));
    driveToEnd(session, at, true);
    if (session.position < at)
      process.stderr.write(`rewind: the run ended at position ${session.position}, before ${at}\n`);
  }
  const snapshot = session.snapshot();
  process.stdout.write(JSON.stringify(snapshot) + '\n');
  return Exit.ok;
}

export async function forkCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, {
    at: 'string',
    branch: 'string',
    'input-file': 'string',
    name: 'string',
    o: 'string',
    output: 'string',
    'max-instructions': 'number',
  });
  if (args.positional.length !== 1) throw usage(FORK_USAGE);
  const atText = stringFlag(args, 'at');
  const out = stringFlag(args, 'o') ?? stringFlag(args, 'output');
  if (atText === undefined || !out) throw usage(FORK_USAGE);
  checkOutputPath(out);
  const at = parsePosition(atText, '--at');
  const inputFile = stringFlag(args, 'input-file');
  const input = inputFile ? readUserFile(inputFile, 'input file') : new Uint8Array(0);
  const name = stringFlag(args, 'name');
  const session = openVmi(args.positional[0]!);
  if (name && session.branches().some((b) => b.name === name))
    throw new RewindError('bad-argument', `a branch named "${name}" already exists`);
  session.seek({ branch: stringFlag(args, 'branch'), position: at });
  session.fork(at, name);
  session.script(input);
  const writer = stdoutWriter();
  session.onOutput = (b) => writer.write(b);
  // The new branch runs as `record` runs, and ends as `run` does.
  const result = driveToEnd(session, numberFlag(args, 'max-instructions') ?? 2_000_000_000);
  writer.flush();
  session.checkpointHere();
  await saveVmi(session, out);
  if (result.ended === 'stuck')
    process.stderr.write('rewind: the guest is waiting for input and the input has ended\n');
  process.stderr.write(
    `rewind: branch "${printable(session.branchName)}" forked at ${at}, runs to ${session.position}\n`,
  );
  return result.status;
}

export async function diffCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, { json: 'boolean' });
  if (args.positional.length !== 3) throw usage(DIFF_USAGE);
  const session = openVmi(args.positional[0]!);
  const d = session.diff(parsePoint(args.positional[1]!), parsePoint(args.positional[2]!));
  process.stdout.write(args.flags.has('json') ? safeJson(d) + '\n' : describeDiff(d));
  return Exit.ok;
}

function describeDiff(d: Diff): string {
  const lines = [
    `A: ${d.a.branch}:${d.a.position}  hash ${d.a.hash}`,
    `B: ${d.b.branch}:${d.b.position}  hash ${d.b.hash}`,
  ];
  if (d.a.hash === d.b.hash) return lines.concat('identical', '').map(printable).join('\n');
  if (d.pc) lines.push(`pc: ${hex(d.pc[0])} -> ${hex(d.pc[1])}`);
  for (const r of d.registers) lines.push(`x${r.index}: ${hex(r.a)} -> ${hex(r.b)}`);
  for (const c of d.csrs) lines.push(`${c.name}: ${hex(c.a)} -> ${hex(c.b)}`);
  const pages = (label: string, list: Diff['ram']) => {
    if (list.length === 0) return;
    lines.push(`${label}: ${list.length} page(s) differ`);
    for (const p of list.slice(0, 32)) {
      const bytes = p.runs.reduce((n, r) => n + r.a.length, 0);
      const first = p.runs[0];
      const sample = first
        ? `  first at +0x${first.offset.toString(16)}: ${hexBytes(first.a)} -> ${hexBytes(first.b)}`
        : '';
      lines.push(`  ${hex(p.address)}: ${bytes} byte(s) in ${p.runs.length} run(s)${sample}`);
    }
    if (list.length > 32) lines.push(`  ... ${list.length - 32} more`);
  };
  pages('RAM', d.ram);
  pages('disk', d.disk);
  // Branch names come from the file: escaped, so that they cannot drive the terminal.
  return lines.concat('').map(printable).join('\n');
}

const hexBytes = (b: number[]) =>
  b
    .slice(0, 8)
    .map((x) => x.toString(16).padStart(2, '0'))
    .join(' ') + (b.length > 8 ? ' ...' : '');
