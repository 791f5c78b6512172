/**
 * The group file (`.vmg`, docs/network.md section "The group file"): one
 * file holding a group's wiring (the quantum, the switch, each machine's
 * name, MAC and console input) and each machine's own `.vmi`, byte for
 * byte as `rewind record` would write it, and (version 2) the quanta it
 * ran, the input typed into its machines at quanta and where the group
 * stood when saved. Everything is checked before use: the header and
 * manifest by their hashes, each input, typed entry and frame on its way
 * by its hash, each `.vmi` by its own reader.
 */
import { RewindError } from '../core/errors.js';
import type { PowerEvent } from '../core/devices/syscon.js';
import { parseMac } from '../core/virtio/net.js';
import {
  hash128,
  hashToBytes,
  memorySource,
  readVmi,
  writeVmi,
  type Branch,
  type InputEvent,
  type Recording,
} from '../storage/index.js';
import {
  Group,
  type GroupFork,
  type GroupMoment,
  type GroupRunOptions,
  type Member,
  type MemberEnd,
  type TypedInput,
} from './group.js';
import { Session, type SessionOptions } from './session.js';

export const GROUP_MAGIC = 'REWINDVG';
export const GROUP_VERSION = 2;
const HEADER_SIZE = 56;
const MANIFEST_MAX = 1 << 20;
export const GROUP_MAX_MACHINES = 64;

/** One machine as the file holds it. */
export interface GroupFileMachine {
  name: string;
  mac: string;
  /** The console input it was given. */
  input: Uint8Array;
  /** Or the console input typed into it at quanta, in quantum order (version 1: none). */
  typed: TypedInput[];
  /** Its recording, a whole `.vmi`. */
  vmi: Uint8Array;
}

/** What a group file holds. */
export interface GroupFile {
  quantum: number;
  /** The position every machine stopped at (`--max-instructions`), or null. */
  maxSteps: number | null;
  /**
   * The quanta from reset every branch of the group ran (its own run and
   * each fork's), or null: each ran until no machine could move (version
   * 1's only meaning).
   */
  quanta: number | null;
  machines: GroupFileMachine[];
  /** The group forks its recordings hold, oldest first. */
  forks: GroupFork[];
  /** Where the group (its last branch: the last fork's, else its own run) stood when saved, apart from its machines; null in version 1. */
  moment: GroupMoment | null;
}

/** Group forks a file may hold. */
const FORKS_MAX = 256;

/**
 * Each member's recording, ended with a checkpoint where it stands, as a
 * group file. `quanta`, when given, is the number of quanta every branch
 * was run to (`run({ quanta })`, the group's quanta now); without it the
 * group ran until no machine could move.
 */
export function groupToFile(group: Group, maxSteps: number | null, quanta?: number): GroupFile {
  if (quanta !== undefined && quanta !== group.quanta)
    throw new RewindError('bad-argument', `the group has run ${group.quanta} quanta, not ${quanta}`);
  return {
    quantum: group.quantum,
    maxSteps,
    quanta: quanta ?? null,
    forks: group.forks,
    moment: group.moment(),
    machines: group.sessions.map((session, i) => {
      session.checkpointHere();
      const member = group.members[i]!;
      return {
        name: member.name,
        mac: member.spec.net!.mac,
        input: member.input ?? new Uint8Array(0),
        typed: (member.typed ?? []).map((t) => ({ quantum: t.quantum, bytes: t.bytes.slice() })),
        vmi: writeVmi(session.toRecording()),
      };
    }),
  };
}

export function writeGroupFile(file: GroupFile): Uint8Array {
  const typedBytes = file.machines.flatMap((m) => m.typed.map((t) => t.bytes));
  const frameBytes = file.moment ? file.moment.inFlight.flat() : [];
  const manifest = new TextEncoder().encode(
    JSON.stringify({
      format: 'rewind-group',
      quantum: file.quantum,
      maxSteps: file.maxSteps,
      quanta: file.quanta,
      switch: 'learning',
      machines: file.machines.map((m) => ({
        name: m.name,
        mac: m.mac,
        input: m.input.length,
        inputHash: hash128(m.input),
        vmi: m.vmi.length,
        typed: m.typed.map((t) => ({ quantum: t.quantum, length: t.bytes.length, hash: hash128(t.bytes) })),
      })),
      forks: file.forks.map((f) => ({
        quantum: f.quantum,
        branch: f.branch,
        inputs: f.inputs.map((i) => i.length),
        inputHashes: f.inputs.map((i) => hash128(i)),
      })),
      moment: file.moment && {
        quanta: file.moment.quanta,
        dropped: file.moment.dropped,
        ends: file.moment.ends,
        learnt: file.moment.learnt,
        inFlight: file.moment.inFlight.map((q) => q.map((f) => ({ length: f.length, hash: hash128(f) }))),
      },
    }),
  );
  const forkBytes = file.forks.flatMap((f) => f.inputs);
  const tail = [...forkBytes, ...typedBytes, ...frameBytes];
  const total =
    HEADER_SIZE +
    manifest.length +
    file.machines.reduce((n, m) => n + m.input.length + m.vmi.length, 0) +
    tail.reduce((n, i) => n + i.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(GROUP_MAGIC), 0);
  view.setUint16(8, GROUP_VERSION, true);
  view.setUint16(10, 0, true);
  view.setUint32(12, manifest.length, true);
  view.setUint32(16, total % 2 ** 32, true);
  view.setUint32(20, Math.floor(total / 2 ** 32), true);
  out.set(hashToBytes(hash128(manifest)), 24);
  out.set(hashToBytes(hash128(out.subarray(0, 40))), 40);
  out.set(manifest, HEADER_SIZE);
  let at = HEADER_SIZE + manifest.length;
  for (const m of file.machines) {
    out.set(m.input, at);
    at += m.input.length;
    out.set(m.vmi, at);
    at += m.vmi.length;
  }
  for (const input of tail) {
    out.set(input, at);
    at += input.length;
  }
  return out;
}

const bad = (message: string): never => {
  throw new RewindError('bad-vmi', message);
};

/** Whether `bytes` start as a group file does (its magic). */
export function isGroupFile(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && new TextDecoder('latin1').decode(bytes.subarray(0, 8)) === GROUP_MAGIC;
}

/** Reads and checks a group file; each machine's `.vmi` is checked when it is opened (openMachine). */
export function readGroupFile(bytes: Uint8Array): GroupFile {
  if (!isGroupFile(bytes)) bad('not a Rewind group file (bad magic)');
  if (bytes.length < HEADER_SIZE) bad('truncated group file header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint16(8, true);
  if (version > GROUP_VERSION) bad(`group format version ${version} is newer than this Rewind reads`);
  if (version !== 1 && version !== GROUP_VERSION) bad(`unknown group format version ${version}`);
  if (hash128(bytes.subarray(0, 40)) !== hexOf(bytes.subarray(40, 56))) bad('group file header hash mismatch');
  if (view.getUint16(10, true) !== 0) bad('unknown group file flags');
  const total = view.getUint32(16, true) + view.getUint32(20, true) * 2 ** 32;
  if (total > bytes.length) bad(`truncated group file (${bytes.length} of ${total} bytes)`);
  if (total < bytes.length) bad('unexpected bytes after the end of the group file');
  const m = view.getUint32(12, true);
  if (m > MANIFEST_MAX || HEADER_SIZE + m > total) bad('group manifest length out of range');
  const manifestBytes = bytes.subarray(HEADER_SIZE, HEADER_SIZE + m);
  if (hash128(manifestBytes) !== hexOf(bytes.subarray(24, 40))) bad('group manifest hash mismatch');
  let manifest: unknown;
  try {
    manifest = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(manifestBytes));
  } catch {
    bad('group manifest is not JSON');
  }
  const man = record(manifest, 'the manifest');
  if (man['format'] !== 'rewind-group' || man['switch'] !== 'learning') bad('group manifest of an unknown kind');
  const quantum = count(man['quantum'], 'quantum', 1);
  const maxSteps = man['maxSteps'] === null ? null : count(man['maxSteps'], 'maxSteps', 0);
  const v2 = version >= 2;
  const quanta = !v2 || man['quanta'] === null ? null : count(man['quanta'], 'quanta', 0);
  const list = man['machines'];
  if (!Array.isArray(list) || list.length < 1 || list.length > GROUP_MAX_MACHINES)
    bad(`a group holds 1 to ${GROUP_MAX_MACHINES} machines`);
  let at = HEADER_SIZE + m;
  const machines = (list as unknown[]).map((entry, i) => {
    const e = record(entry, `machine ${i}`);
    const name = e['name'];
    const mac = e['mac'];
    if (typeof name !== 'string' || name.length < 1 || name.length > 64) bad(`machine ${i} has no valid name`);
    if (typeof mac !== 'string' || !parseMac(mac)) bad(`machine ${i} has no valid MAC`);
    const inputLength = count(e['input'], `machine ${i} input`, 0);
    const vmiLength = count(e['vmi'], `machine ${i} vmi`, 1);
    if (at + inputLength + vmiLength > total) bad(`machine ${i} runs past the end of the group file`);
    const input = bytes.slice(at, at + inputLength);
    if (hash128(input) !== e['inputHash']) bad(`machine ${i}'s input does not match its hash`);
    const vmi = bytes.subarray(at + inputLength, at + inputLength + vmiLength);
    at += inputLength + vmiLength;
    const typed = v2 ? typedEntries(e['typed'], i) : [];
    if (input.length > 0 && typed.length > 0) bad(`machine ${i} has both console input and typed input`);
    return { name: name as string, mac: mac as string, input, vmi, typed };
  });
  const forkList = man['forks'];
  if (!Array.isArray(forkList) || forkList.length > FORKS_MAX) bad(`a group holds 0 to ${FORKS_MAX} forks`);
  const forks = (forkList as unknown[]).map((entry, k) => {
    const f = record(entry, `fork ${k}`);
    const branch = f['branch'];
    const lengths = f['inputs'];
    const hashes = f['inputHashes'];
    if (typeof branch !== 'string' || branch.length < 1 || branch.length > 64) bad(`fork ${k} has no valid branch`);
    if (!Array.isArray(lengths) || !Array.isArray(hashes) || lengths.length !== machines.length)
      bad(`fork ${k} does not give every machine an input`);
    const inputs = (lengths as unknown[]).map((length, i) => {
      const n = count(length, `fork ${k} input ${i}`, 0);
      if (at + n > total) bad(`fork ${k} runs past the end of the group file`);
      const input = bytes.slice(at, at + n);
      if (hash128(input) !== (hashes as unknown[])[i]) bad(`fork ${k}'s input ${i} does not match its hash`);
      at += n;
      return input;
    });
    const moment = count(f['quantum'], `fork ${k} quantum`, 0);
    if (quanta !== null && moment > quanta)
      bad(`fork ${k} is at quantum ${moment}, after the ${quanta} quanta the group ran`);
    return { quantum: moment, branch: branch as string, inputs };
  });
  /** The next `n` bytes of the data section, checked against `hash`. */
  const take = (n: number, hash: unknown, what: string): Uint8Array => {
    if (at + n > total) bad(`${what} runs past the end of the group file`);
    const out = bytes.slice(at, at + n);
    if (hash128(out) !== hash) bad(`${what} does not match its hash`);
    at += n;
    return out;
  };
  const typed = machines.map((machine, i) =>
    machine.typed.map((t, k) => ({
      quantum: t.quantum,
      bytes: take(t.length, t.hash, `machine ${i}'s typed input ${k}`),
    })),
  );
  const moment = v2 ? momentOf(man['moment'], machines.length, quanta, forks) : null;
  const inFlight = moment
    ? moment.inFlight.map((q, i) => q.map((f, k) => take(f.length, f.hash, `frame ${k} on its way to machine ${i}`)))
    : [];
  if (at !== total) bad('the group file has bytes no machine names');
  return {
    quantum,
    maxSteps,
    quanta,
    machines: machines.map((machine, i) => ({ ...machine, typed: typed[i]! })),
    forks,
    moment: moment && { ...moment, inFlight },
  };
}

/** A machine's typed entries as the manifest gives them (their bytes come later). */
function typedEntries(v: unknown, i: number): { quantum: number; length: number; hash: unknown }[] {
  if (!Array.isArray(v)) bad(`machine ${i} has no list of typed input`);
  let last = 0;
  return (v as unknown[]).map((entry, k) => {
    const t = record(entry, `machine ${i}'s typed input ${k}`);
    const quantum = count(t['quantum'], `machine ${i} typed input ${k} quantum`, 0);
    if (quantum < last)
      bad(`machine ${i}'s typed input ${k} is at quantum ${quantum}, before the one typed ahead of it`);
    last = quantum;
    return { quantum, length: count(t['length'], `machine ${i} typed input ${k} length`, 0), hash: t['hash'] };
  });
}

/** A MAC as the switch learns it (VirtualSwitch.learnt): lower-case hex bytes without leading zeros. */
const LEARNT_MAC = /^(0|[1-9a-f][0-9a-f]?)(:(0|[1-9a-f][0-9a-f]?)){5}$/;
/** The frames a network device takes (core/virtio/net.ts). */
const FRAME_MIN = 14;
const FRAME_MAX = 1518;

/** The saved moment as the manifest gives it, checked (its frames' bytes come later). */
function momentOf(
  v: unknown,
  machines: number,
  quanta: number | null,
  forks: readonly GroupFork[],
): (Omit<GroupMoment, 'inFlight'> & { inFlight: { length: number; hash: unknown }[][] }) | null {
  if (v === null) return null;
  const m = record(v, 'the moment');
  const at = count(m['quanta'], 'moment quanta', 0);
  if (quanta !== null && at !== quanta) bad(`the moment is after ${at} quanta, the group ran ${quanta}`);
  const last = forks[forks.length - 1];
  if (last && at < last.quantum)
    bad(`the moment (quantum ${at}) is before the last group fork (quantum ${last.quantum})`);
  const dropped = count(m['dropped'], 'moment dropped', 0);
  const ends = m['ends'];
  if (!Array.isArray(ends) || ends.length !== machines) bad('the moment does not give every machine its end');
  const learnt = m['learnt'];
  if (!Array.isArray(learnt) || learnt.length > 1 << 16) bad("the moment's switch table is not a list");
  const macs = new Set<string>();
  const table = (learnt as unknown[]).map((entry, k): [string, number] => {
    if (!Array.isArray(entry) || entry.length !== 2) bad(`the moment's switch entry ${k} is not a [MAC, port] pair`);
    const [mac, port] = entry as unknown[];
    if (typeof mac !== 'string' || !LEARNT_MAC.test(mac) || macs.has(mac))
      bad(`the moment's switch entry ${k} has no valid MAC`);
    if (typeof port !== 'number' || !Number.isSafeInteger(port) || port < 0 || port >= machines)
      bad(`the moment's switch entry ${k} names port ${String(port)}, not one of 0 to ${machines - 1}`);
    macs.add(mac as string);
    return [mac as string, port as number];
  });
  const inFlight = m['inFlight'];
  if (!Array.isArray(inFlight) || inFlight.length !== machines)
    bad('the moment does not give every machine its frames on their way');
  return {
    quanta: at,
    dropped,
    ends: (ends as unknown[]).map((end, i) => endOf(end, i)),
    learnt: table,
    inFlight: (inFlight as unknown[]).map((q, i) => {
      if (!Array.isArray(q)) bad(`the moment's frames on their way to machine ${i} are not a list`);
      return (q as unknown[]).map((entry, k) => {
        const f = record(entry, `frame ${k} on its way to machine ${i}`);
        const length = count(f['length'], `frame ${k} on its way to machine ${i} length`, 0);
        if (length < FRAME_MIN || length > FRAME_MAX)
          bad(`frame ${k} on its way to machine ${i} is of ${length} bytes, not ${FRAME_MIN} to ${FRAME_MAX}`);
        return { length, hash: f['hash'] };
      });
    }),
  };
}

/** A machine's end in the saved moment, checked. */
function endOf(v: unknown, i: number): MemberEnd {
  const e = record(v, `machine ${i}'s end in the moment`);
  const state = e['state'];
  if (state === 'running' || state === 'waiting' || state === 'limit') return { state };
  if (state !== 'power') bad(`machine ${i}'s end in the moment is not running, power, waiting or limit`);
  const p = record(e['power'], `machine ${i}'s power event in the moment`);
  let power: PowerEvent;
  if (p['kind'] === 'pass' || p['kind'] === 'reset') power = { kind: p['kind'] };
  else if (p['kind'] === 'fail') power = { kind: 'fail', code: count(p['code'], `machine ${i} fail code`, 0) };
  else power = bad(`machine ${i}'s power event in the moment is not pass, fail or reset`);
  if (power.kind === 'fail' && power.code > 0xffff) bad(`machine ${i}'s fail code in the moment is out of range`);
  return { state: 'power', power };
}

/** A machine's recording, read and checked by the `.vmi` reader. */
export function machineRecording(machine: GroupFileMachine): Recording {
  try {
    return readVmi(memorySource(machine.vmi));
  } catch (e) {
    if (e instanceof RewindError) throw new RewindError(e.code, `machine ${machine.name}: ${e.message}`);
    throw e;
  }
}

/** Opens one machine of the file as a session on its own recording (it replays alone). */
export function openMachine(machine: GroupFileMachine, options: SessionOptions = {}): Session {
  const session = Session.open(machineRecording(machine), options);
  if (session.spec.net?.mac !== machine.mac)
    throw new RewindError('bad-vmi', `machine ${machine.name}: its recording has not the MAC the group names`);
  return session;
}

/** The members the file describes (specs from their recordings, inputs from the file), to run the group again. */
export function membersOf(file: GroupFile, options: SessionOptions = {}): Member[] {
  return membersWith(
    file,
    file.machines.map((m) => openMachine(m, options)),
  );
}

/** The members of the file with these sessions' specs. */
function membersWith(file: GroupFile, sessions: readonly Session[]): Member[] {
  return file.machines.map((m, i) => ({ name: m.name, spec: sessions[i]!.spec, input: m.input, typed: m.typed }));
}

/** How every branch of the file's group runs: to its quanta when it has them, else until no machine can move. */
function runOptions(file: GroupFile): GroupRunOptions {
  return { maxSteps: file.maxSteps ?? undefined, ...(file.quanta !== null ? { quanta: file.quanta } : {}) };
}

function record(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(`${what} is not a map`);
  return v as Record<string, unknown>;
}

function count(v: unknown, what: string, min: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) bad(`group manifest: ${what} is not valid`);
  return v as number;
}

function hexOf(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/**
 * Forks the whole group at one moment: the start of quantum `quantum` (that
 * many quanta run). The group is run again from reset to there (its runs
 * are the same every time) to find each machine's position at that moment,
 * the frames then on their way and what the switch had learnt; each
 * machine's recording is forked at its position (a branch named
 * `group@QUANTUM`, with the events before the position: the frames due at
 * the moment are delivered again from the run), and the returned group
 * goes on from there on the new branches. `inputs[i]`, when given, is
 * machine i's console input from the moment on; the others get none. Input
 * typed before the moment is kept, input typed at or after it is not the
 * fork's. A file that ran a number of quanta is forked within them, and
 * its fork is to run to them too (`run({ quanta: file.quanta })`).
 */
export function forkGroup(
  file: GroupFile,
  quantum: number,
  inputs: readonly (Uint8Array | undefined)[] = [],
  options: SessionOptions = {},
): Group {
  const recordings = file.machines.map((m) => openMachine(m, options));
  const moment = groupAt(file, recordings, quantum, { ...options, record: false });
  const taken = file.forks.filter((f) => f.quantum === quantum).length;
  const fork: GroupFork = {
    quantum,
    branch: `group@${quantum}${taken > 0 ? `.${taken + 1}` : ''}`,
    inputs: file.machines.map((_, i) => inputs[i] ?? new Uint8Array(0)),
  };
  recordings.forEach((session, i) => {
    session.seek({ branch: session.timeline.root().id, position: moment.sessions[i]!.position });
  });
  const group = goOn(moment, recordings, fork);
  group.forks = [...file.forks, fork];
  return group;
}

/** The group of the file run again from reset to the start of quantum `quantum`. */
function groupAt(file: GroupFile, recordings: readonly Session[], quantum: number, options: SessionOptions): Group {
  if (!Number.isSafeInteger(quantum) || quantum < 0)
    throw new RewindError('bad-argument', `a moment is a number of quanta ≥ 0, not ${quantum}`);
  if (file.quanta !== null && quantum > file.quanta)
    throw new RewindError('bad-argument', `the group ran ${file.quanta} quanta, not as far as quantum ${quantum}`);
  const moment = Group.create(membersWith(file, recordings), file.quantum, options);
  if (file.quanta !== null) {
    moment.run({ quanta: quantum, maxSteps: file.maxSteps ?? undefined });
    return moment;
  }
  while (moment.quanta < quantum)
    if (!moment.runQuantum(file.maxSteps ?? undefined))
      throw new RewindError('bad-argument', `the group ends after ${moment.quanta} quanta, before quantum ${quantum}`);
  return moment;
}

/**
 * Forks each session where it stands onto the fork's branch with its input
 * (and no more of the input it had: a session of the moment's own run
 * still holds what its machine had not taken), and the group that goes on
 * from the moment there.
 */
function goOn(moment: Group, sessions: readonly Session[], fork: GroupFork): Group {
  sessions.forEach((session, i) => {
    session.fork(session.position, fork.branch);
    session.rescript(fork.inputs[i]!);
  });
  const wake = fork.inputs.flatMap((input, i) => (input.length > 0 ? [i] : []));
  return Group.resume(moment.members, moment.quantum, moment.moment(), sessions, wake);
}

/** How one machine of a group file replays: alone from its own recording, and within the group run again. */
export interface MachineVerdict {
  name: string;
  /** Where its recording ends. */
  position: number;
  /** Checkpoints whose state hash a replay alone matched. */
  checked: number;
  /** The first problem, or null: a state hash or a frame that differs, alone or together. */
  problem: string | null;
}

/**
 * Replays every machine alone (its own events, every checkpoint's state
 * hash checked, as `rewind replay --verify`), then the whole group again
 * from reset with its quantum, switch and inputs, and checks that each
 * machine gets the same input events (frames included) at the same
 * positions and reaches the same state hashes as recorded.
 */
export function verifyGroup(file: GroupFile, options: SessionOptions = {}): MachineVerdict[] {
  const recorded = file.machines.map((m) => openMachine(m, options));
  const verdicts: MachineVerdict[] = recorded.map((session, i) => {
    const name = file.machines[i]!.name;
    let checked = 0;
    let problem: string | null = null;
    // Every branch (a group fork's too), each from reset.
    for (const branch of session.branches()) {
      const r = session.replay(branch.id, { verify: true });
      checked += r.checked;
      const where = `alone, branch ${branch.name}`;
      problem ??= r.mismatch
        ? `${where}: state hash differs at position ${r.mismatch.position}`
        : r.damaged
          ? `${where}: checkpoint at ${r.damaged.position} is damaged: ${r.damaged.message}`
          : null;
    }
    return { name, position: session.branchEnd(session.timeline.root().id), checked, problem };
  });
  let last = Group.create(membersWith(file, recorded), file.quantum, options);
  const again = last;
  again.run(runOptions(file));
  again.sessions.forEach((session, i) => {
    session.checkpointHere();
    verdicts[i]!.problem ??= firstDifference(recorded[i]!, recorded[i]!.timeline.root(), session);
  });
  // Each group fork: the group again to its moment, forked there with its inputs, run on to the end.
  for (const fork of file.forks) {
    const moment = groupAt(file, recorded, fork.quantum, options);
    const forked = goOn(moment, moment.sessions, fork);
    forked.run(runOptions(file));
    last = forked;
    forked.sessions.forEach((session, i) => {
      session.checkpointHere();
      const branch = recorded[i]!.branches().find((b) => b.name === fork.branch);
      verdicts[i]!.problem ??= branch
        ? firstDifference(recorded[i]!, branch, session)
        : `together: no branch ${fork.branch} in its recording`;
    });
  }
  // Where the last branch stood when saved: the switch, the ends, the frames on their way.
  if (file.moment) {
    const difference = momentDifference(file.moment, last.moment(), file.machines.length);
    if (difference) verdicts[difference.machine]!.problem ??= `together: ${difference.problem}`;
  }
  return verdicts;
}

/** The first way the moment `now` departs from the `saved` one, and the machine it concerns (0 for the switch's). */
function momentDifference(
  saved: GroupMoment,
  now: GroupMoment,
  machines: number,
): { machine: number; problem: string } | null {
  const at = `the group's moment differs`;
  if (saved.quanta !== now.quanta)
    return { machine: 0, problem: `${at}: after ${now.quanta} quanta, saved after ${saved.quanta}` };
  if (saved.dropped !== now.dropped)
    return { machine: 0, problem: `${at}: ${now.dropped} frames dropped, saved ${saved.dropped}` };
  if (JSON.stringify(saved.learnt) !== JSON.stringify(now.learnt))
    return {
      machine: 0,
      problem: `${at}: the switch has learnt ${JSON.stringify(now.learnt)}, saved ${JSON.stringify(saved.learnt)}`,
    };
  for (let i = 0; i < machines; i++) {
    const [a, b] = [JSON.stringify(saved.ends[i]), JSON.stringify(now.ends[i])];
    if (a !== b) return { machine: i, problem: `${at}: its end is ${b}, saved ${a}` };
  }
  for (let i = 0; i < machines; i++) {
    const [a, b] = [saved.inFlight[i] ?? [], now.inFlight[i] ?? []];
    if (a.length !== b.length)
      return { machine: i, problem: `${at}: ${b.length} frames on their way to it, saved ${a.length}` };
    const k = a.findIndex((f, k) => hash128(f) !== hash128(b[k]!));
    if (k >= 0) return { machine: i, problem: `${at}: frame ${k} on its way to it is not the one saved` };
  }
  return null;
}

/**
 * Where a group's run again departs from a machine's recorded branch `a`
 * (compared with the branch the session `again` is on), or null: their own
 * input events must be the same, and so must the state hashes at the
 * positions both have a checkpoint (a seek leaves checkpoints of its own),
 * the end included.
 */
function firstDifference(recorded: Session, a: Branch, again: Session): string | null {
  const b = again.timeline.branch(again.branch);
  const where = `together, branch ${a.name}`;
  const events = Math.max(a.events.length, b.events.length);
  for (let i = 0; i < events; i++) {
    const x = a.events[i];
    const y = b.events[i];
    if (!x || !y || x.position !== y.position || x.device !== y.device || !samePayload(x.payload, y.payload))
      return `${where}: input event ${i} differs (${describeEvent(x)} recorded, ${describeEvent(y)} now)`;
  }
  const endA = a.forkPosition + a.length;
  const endB = b.forkPosition + b.length;
  if (endA !== endB) return `${where}: ends at ${endB}, the recording at ${endA}`;
  const hashes = new Map(b.checkpoints.map((c) => [c.position, again.checkpoints.get(c.id).stateHash]));
  for (const c of a.checkpoints) {
    const now = hashes.get(c.position);
    if (now !== undefined && now !== recorded.checkpoints.get(c.id).stateHash)
      return `${where}: state hash differs at position ${c.position}`;
  }
  // A branch that never ran (a machine that waited from its fork on) ends where it began: its parent's checkpoint.
  if (a.length === 0 && b.length === 0) return null;
  if (!a.checkpoints.some((c) => c.position === endA) || !hashes.has(endB))
    return `${where}: no checkpoint at its end ${endA}`;
  return null;
}

type Payload = InputEvent['payload'];

function payloadArray(p: Payload): number[] {
  return typeof p === 'number' ? [p] : typeof p === 'string' ? [...new TextEncoder().encode(p)] : [...p];
}

function samePayload(x: Payload, y: Payload): boolean {
  const a = payloadArray(x);
  const b = payloadArray(y);
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function describeEvent(e: { position: number; device: string } | undefined): string {
  return e ? `${e.device} at ${e.position}` : 'none';
}
