/**
 * `rewind group`: several machines joined by a virtual switch (docs/network.md).
 * `run` runs them in lockstep quanta and can save them as one group file;
 * `replay` replays a group file (each machine's recording, which ends where
 * the group stopped: after its quanta when it has them; with --verify:
 * each machine alone and the group together, checking state hashes and
 * where the group stood when saved); `extract` writes one machine's
 * recording as a .vmi that every other command opens.
 */
import { basename } from 'node:path';
import { RewindError } from '../../core/errors.js';
import {
  DEFAULT_QUANTUM,
  Group,
  checkMachineNames,
  memberMac,
  type Member,
  type MemberEnd,
} from '../../session/group.js';
import {
  GROUP_MAX_MACHINES,
  forkGroup,
  groupToFile,
  machineRecording,
  openMachine,
  readGroupFile,
  verifyGroup,
  writeGroupFile,
  type GroupFile,
} from '../../session/group-file.js';
import { writeFileAtomic } from '../../storage/node.js';
import { BOOT_FLAGS, bootSpec } from '../node/boot.js';
import { checkOutputPath, readUserFile } from '../node/files.js';
import { numberFlag, parseArgs, stringFlag, type FlagKind, type ParsedArgs } from './args.js';
import { bootOptions } from './boot-args.js';
import { Exit } from './exit.js';
import { GROUP_USAGE } from './usage.js';

const usage = () => new RewindError('bad-argument', `usage: ${GROUP_USAGE.replace(/\s*\n\s*/g, ' ')}`);

export async function groupCommand(argv: readonly string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'replay') return replay(rest);
  if (sub === 'extract') return extract(rest);
  if (sub === 'fork') return fork(rest);
  return run(sub === 'run' ? rest : argv);
}

/** Console lines of each machine, prefixed with its name, a whole line at a time. */
class PrefixedConsole {
  private readonly partial: number[][];

  constructor(private readonly names: readonly string[]) {
    this.partial = names.map(() => []);
  }

  write(machine: number, byte: number): void {
    const line = this.partial[machine]!;
    line.push(byte);
    if (byte === 0x0a) this.flushLine(machine);
  }

  /** Ends every unfinished line (with a newline of its own). */
  end(): void {
    this.names.forEach((_, i) => {
      if (this.partial[i]!.length > 0) {
        this.partial[i]!.push(0x0a);
        this.flushLine(i);
      }
    });
  }

  private flushLine(machine: number): void {
    process.stdout.write(
      Buffer.concat([Buffer.from(`[${this.names[machine]}] `), Buffer.from(this.partial[machine]!)]),
    );
    this.partial[machine] = [];
  }
}

/** Names from file names, made unique by their position when two are alike. */
function memberNames(paths: readonly string[]): string[] {
  const base = paths.map((p) => (basename(p).replace(/\.[^.]*$/, '') || 'vm').slice(0, 48));
  return base.map((n, i) => (base.indexOf(n) === base.lastIndexOf(n) ? n : `${n}-${i}`));
}

/** `--input-file-0` … `--input-file-63`. */
function inputFlags(): Record<string, FlagKind> {
  const flags: Record<string, FlagKind> = {};
  for (let i = 0; i < GROUP_MAX_MACHINES; i++) flags[`input-file-${i}`] = 'string';
  return flags;
}

/** Each machine's `--input-file-i`, read; refuses one for a machine the group has not. */
function inputFiles(args: ParsedArgs, machines: number): (Uint8Array | undefined)[] {
  for (const key of args.flags.keys()) {
    const n = /^input-file-(\d+)$/.exec(key);
    if (n && Number(n[1]) >= machines)
      throw new RewindError('bad-argument', `--${key}: the group has machines 0 to ${machines - 1}`);
  }
  return Array.from({ length: machines }, (_, i) => {
    const path = stringFlag(args, `input-file-${i}`);
    return path ? readUserFile(path, 'input file') : undefined;
  });
}

async function run(argv: readonly string[]): Promise<number> {
  // --net is accepted and changes nothing: every machine of a group has its network device.
  const args = parseArgs(argv, {
    ...BOOT_FLAGS,
    ...inputFlags(),
    quantum: 'number',
    'max-instructions': 'number',
    o: 'string',
    output: 'string',
  });
  const operands = args.positional;
  if (operands.length < 1) throw usage();
  if (operands.length > GROUP_MAX_MACHINES)
    throw new RewindError('bad-argument', `a group holds at most ${GROUP_MAX_MACHINES} machines`);
  // With --linux or --kernel every machine boots that kernel, and the operands name the machines.
  const linux = args.flags.has('kernel') || args.flags.has('linux');
  const inputs = inputFiles(args, operands.length);
  const out = stringFlag(args, 'o') ?? stringFlag(args, 'output');
  if (out) checkOutputPath(out);
  const quantum = numberFlag(args, 'quantum') ?? DEFAULT_QUANTUM;
  const maxSteps = numberFlag(args, 'max-instructions');
  const names = linux
    ? checkMachineNames(operands, 'with --linux the operands name the machines; ')
    : memberNames(operands);
  const members: Member[] = operands.map((operand, i) => {
    const boot = bootOptions({ positional: linux ? [] : [operand], flags: args.flags }, GROUP_USAGE);
    return { name: names[i]!, spec: bootSpec({ ...boot, mac: memberMac(i) }), input: inputs[i] ?? new Uint8Array(0) };
  });
  const group = Group.create(members, quantum, { record: out !== undefined });
  const console = new PrefixedConsole(names);
  group.sessions.forEach((s, i) => (s.onOutput = (byte) => console.write(i, byte)));
  group.run({ maxSteps });
  console.end();
  if (out) await saveGroup(groupToFile(group, maxSteps ?? null), out);
  return groupStatus(
    group.members.map((m) => m.name),
    group.ends,
  );
}

/** The group's exit status: the first machine's (in order) that is not 0, as `rewind run` gives it. */
function groupStatus(names: readonly string[], ends: readonly MemberEnd[]): number {
  let status: number = Exit.ok;
  ends.forEach((end, i) => {
    const own = statusOf(end);
    if (end.state === 'limit') process.stderr.write(`rewind: ${names[i]} stopped at --max-instructions\n`);
    if (end.state === 'waiting')
      process.stderr.write(`rewind: ${names[i]} is waiting for input and the input has ended\n`);
    if (status === Exit.ok) status = own;
  });
  return status;
}

function statusOf(end: MemberEnd): number {
  switch (end.state) {
    case 'power':
      return end.power.kind === 'fail' ? end.power.code & 0xff : Exit.ok;
    case 'waiting':
      return Exit.stuck;
    case 'limit':
      return Exit.limit;
    case 'running':
      return Exit.ok;
  }
}

async function saveGroup(file: GroupFile, path: string): Promise<void> {
  const bytes = writeGroupFile(file);
  await writeFileAtomic(path, (sink) => sink.append(bytes));
}

function readGroup(path: string): GroupFile {
  try {
    return readGroupFile(readUserFile(path, 'group file'));
  } catch (e) {
    if (e instanceof RewindError && e.code === 'bad-vmi') throw new RewindError('bad-vmi', `${path}: ${e.message}`);
    throw e;
  }
}

async function replay(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, { verify: 'boolean' });
  if (args.positional.length !== 1) throw usage();
  const path = args.positional[0]!;
  const file = readGroup(path);
  const names = file.machines.map((m) => m.name);
  const console = new PrefixedConsole(names);
  const ends: MemberEnd[] = file.machines.map((m, i) => {
    const session = openMachine(m);
    const r = session.replay(session.timeline.root().id, { onOutput: (b) => console.write(i, b) });
    return r.power ? { state: 'power', power: r.power } : { state: 'running' };
  });
  console.end();
  if (args.flags.has('verify')) {
    const verdicts = verifyGroup(file);
    for (const v of verdicts) {
      if (v.problem) {
        process.stderr.write(`rewind: verify failed: ${v.name}: ${v.problem}\n`);
        return 1;
      }
    }
    for (const v of verdicts)
      process.stderr.write(
        `rewind: verified ${v.name}: ${v.checked} checkpoints up to position ${v.position}, alone and together\n`,
      );
  }
  return groupStatus(names, ends);
}

async function fork(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, { ...inputFlags(), 'at-quantum': 'number', o: 'string', output: 'string' });
  const out = stringFlag(args, 'o') ?? stringFlag(args, 'output');
  const at = numberFlag(args, 'at-quantum');
  if (args.positional.length !== 1 || !out || at === undefined) throw usage();
  checkOutputPath(out);
  const file = readGroup(args.positional[0]!);
  const group = forkGroup(file, at, inputFiles(args, file.machines.length));
  const names = group.members.map((m) => m.name);
  process.stderr.write(
    `rewind: forked the group at quantum ${at}: ${group.sessions.map((s, i) => `${names[i]} at ${s.position}`).join(', ')}\n`,
  );
  const console = new PrefixedConsole(names);
  group.sessions.forEach((s, i) => (s.onOutput = (byte) => console.write(i, byte)));
  // A file that ran a number of quanta: its fork runs to them too (docs/network.md).
  const quanta = file.quanta ?? undefined;
  group.run({ maxSteps: file.maxSteps ?? undefined, quanta });
  console.end();
  await saveGroup(groupToFile(group, file.maxSteps, quanta), out);
  return groupStatus(names, group.ends);
}

async function extract(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, { vm: 'string', o: 'string', output: 'string' });
  const out = stringFlag(args, 'o') ?? stringFlag(args, 'output');
  const which = stringFlag(args, 'vm');
  if (args.positional.length !== 1 || !out || which === undefined) throw usage();
  checkOutputPath(out);
  const file = readGroup(args.positional[0]!);
  const index = /^\d+$/.test(which) ? Number(which) : file.machines.findIndex((m) => m.name === which);
  const machine = file.machines[index];
  if (!machine)
    throw new RewindError(
      'not-found',
      `no machine ${JSON.stringify(which)} in the group (machines: ${file.machines.map((m, i) => `${i} ${m.name}`).join(', ')})`,
    );
  // Checked before it is written: a damaged recording is refused here, not by whoever opens it.
  machineRecording(machine);
  const bytes = machine.vmi;
  await writeFileAtomic(out, (sink) => sink.append(bytes));
  return Exit.ok;
}
