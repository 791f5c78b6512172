/**
 * The group file (`.vmg`, docs/network.md section "The group file"): one
 * file holding a group's wiring (the quantum, the switch, each machine's
 * name, MAC and console input) and each machine's own `.vmi`, byte for
 * byte as `rewind record` would write it. Everything is checked before use:
 * the header and manifest by their hashes, each input by its hash, each
 * `.vmi` by its own reader.
 */
import { RewindError } from '../core/errors.js';
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
import { Group, type GroupFork, type Member } from './group.js';
import { Session, type SessionOptions } from './session.js';

export const GROUP_MAGIC = 'REWINDVG';
export const GROUP_VERSION = 1;
const HEADER_SIZE = 56;
const MANIFEST_MAX = 1 << 20;
export const GROUP_MAX_MACHINES = 64;

/** One machine as the file holds it. */
export interface GroupFileMachine {
  name: string;
  mac: string;
  /** The console input it was given. */
  input: Uint8Array;
  /** Its recording, a whole `.vmi`. */
  vmi: Uint8Array;
}

/** What a group file holds. */
export interface GroupFile {
  quantum: number;
  /** The position every machine stopped at (`--max-instructions`), or null. */
  maxSteps: number | null;
  machines: GroupFileMachine[];
  /** The group forks its recordings hold, oldest first. */
  forks: GroupFork[];
}

/** Group forks a file may hold. */
const FORKS_MAX = 256;

/** Each member's recording, ended with a checkpoint where it stands, as a group file. */
export function groupToFile(group: Group, maxSteps: number | null): GroupFile {
  return {
    quantum: group.quantum,
    maxSteps,
    forks: group.forks,
    machines: group.sessions.map((session, i) => {
      session.checkpointHere();
      const member = group.members[i]!;
      return {
        name: member.name,
        mac: member.spec.net!.mac,
        input: member.input ?? new Uint8Array(0),
        vmi: writeVmi(session.toRecording()),
      };
    }),
  };
}

export function writeGroupFile(file: GroupFile): Uint8Array {
  const manifest = new TextEncoder().encode(
    JSON.stringify({
      format: 'rewind-group',
      quantum: file.quantum,
      maxSteps: file.maxSteps,
      switch: 'learning',
      machines: file.machines.map((m) => ({
        name: m.name,
        mac: m.mac,
        input: m.input.length,
        inputHash: hash128(m.input),
        vmi: m.vmi.length,
      })),
      forks: file.forks.map((f) => ({
        quantum: f.quantum,
        branch: f.branch,
        inputs: f.inputs.map((i) => i.length),
        inputHashes: f.inputs.map((i) => hash128(i)),
      })),
    }),
  );
  const forkBytes = file.forks.flatMap((f) => f.inputs);
  const total =
    HEADER_SIZE +
    manifest.length +
    file.machines.reduce((n, m) => n + m.input.length + m.vmi.length, 0) +
    forkBytes.reduce((n, i) => n + i.length, 0);
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
  for (const input of forkBytes) {
    out.set(input, at);
    at += input.length;
  }
  return out;
}

const bad = (message: string): never => {
  throw new RewindError('bad-vmi', message);
};

/** Reads and checks a group file; each machine's `.vmi` is checked when it is opened (openMachine). */
export function readGroupFile(bytes: Uint8Array): GroupFile {
  if (bytes.length < 8 || new TextDecoder('latin1').decode(bytes.subarray(0, 8)) !== GROUP_MAGIC)
    bad('not a Rewind group file (bad magic)');
  if (bytes.length < HEADER_SIZE) bad('truncated group file header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint16(8, true);
  if (version > GROUP_VERSION) bad(`group format version ${version} is newer than this Rewind reads`);
  if (version !== GROUP_VERSION) bad(`unknown group format version ${version}`);
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
    return { name: name as string, mac: mac as string, input, vmi };
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
    return { quantum: count(f['quantum'], `fork ${k} quantum`, 0), branch: branch as string, inputs };
  });
  if (at !== total) bad('the group file has bytes no machine names');
  return { quantum, maxSteps, machines, forks };
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
  return file.machines.map((m) => ({ name: m.name, spec: openMachine(m, options).spec, input: m.input }));
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
 * machine i's console input from the moment on; the others get none.
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
  const members = file.machines.map((m, i) => ({ name: m.name, spec: recordings[i]!.spec, input: m.input }));
  const moment = Group.create(members, file.quantum, options);
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
  const members = file.machines.map((m, i) => ({ name: m.name, spec: recorded[i]!.spec, input: m.input }));
  const again = Group.create(members, file.quantum, options);
  again.run({ maxSteps: file.maxSteps ?? undefined });
  again.sessions.forEach((session, i) => {
    session.checkpointHere();
    verdicts[i]!.problem ??= firstDifference(recorded[i]!, recorded[i]!.timeline.root(), session);
  });
  // Each group fork: the group again to its moment, forked there with its inputs, run on to the end.
  for (const fork of file.forks) {
    const moment = groupAt(file, recorded, fork.quantum, options);
    const forked = goOn(moment, moment.sessions, fork);
    forked.run({ maxSteps: file.maxSteps ?? undefined });
    forked.sessions.forEach((session, i) => {
      session.checkpointHere();
      const branch = recorded[i]!.branches().find((b) => b.name === fork.branch);
      verdicts[i]!.problem ??= branch
        ? firstDifference(recorded[i]!, branch, session)
        : `together: no branch ${fork.branch} in its recording`;
    });
  }
  return verdicts;
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
