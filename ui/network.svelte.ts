/**
 * Network groups of the host (docs/host.md, "Network groups"): VMs of the
 * host, each in its own worker, joined by a virtual switch that the page
 * runs (src/web/network.ts). A group is made of new Linux VMs, or opened
 * from a group file (.vmg), and saved as one; it runs, pauses and resumes
 * as a whole.
 */
import { readGroupFile, type GroupFile } from '../session/group-file.js';
import { checkMachineNames, memberMac, type MemberEnd } from '../session/group.js';
import { fetchLinux } from '../src/web/guests.js';
import type { ExportedVmi } from '../src/web/jobs.js';
import { NetworkGroup, type NetworkMember } from '../src/web/network.js';
import type { QuantumResult } from '../src/web/protocol.js';
import type { HostedVm } from './host.svelte.js';
import { messageOf } from './format.js';

/** What a group needs of the host: new VMs, and taking them out again. */
export interface GroupHost {
  /** A new VM of the host (its own worker), recording. */
  addVm(): HostedVm;
  removeVm(vm: HostedVm): void;
}

/** The names a new group's machines are given (see checkMachineNames). */
export function groupNames(text: string): string[] {
  const names = text.split(/[\s,]+/).filter((n) => n !== '');
  if (names.length < 2) throw new Error('a network needs at least two machines: give their names, e.g. "alice bob"');
  if (names.length > 8) throw new Error('the page runs at most 8 machines in one network');
  return checkMachineNames(names);
}

/** How often the host view is told how a running group stands. */
const SYNC_MS = 200;

/** A network group of the host. */
export class HostedGroup {
  readonly network: NetworkGroup;
  /** Quanta run, frames dropped and why it stopped, as last seen (for the host view). */
  quanta = $state(0);
  dropped = $state(0);
  inFlight = $state(0);
  problem = $state<string | null>(null);
  running = $state(false);
  /** A save or a pause is on its way. */
  busy = $state(false);
  /** Stops listening to the members (once taken apart). */
  private readonly unsubscribe: (() => unknown)[];

  constructor(
    readonly name: string,
    readonly vms: readonly HostedVm[],
    macs: readonly string[],
    file?: Pick<GroupFile, 'quantum' | 'moment' | 'machines'>,
  ) {
    const members: NetworkMember[] = vms.map((vm, i) => ({
      name: vm.name,
      mac: macs[i]!,
      quantum: (quantum, start, until, frames) =>
        vm.client.request<QuantumResult>({ type: 'quantum', quantum, start, until, frames }),
    }));
    this.network = new NetworkGroup(members, {
      quantum: file?.quantum,
      moment: file?.moment ?? undefined,
      typed: file?.machines.map((m) => m.typed),
    });
    // A member run from the main view (its Run button) runs its group: a member runs only in the group's quanta.
    this.unsubscribe = vms.map((vm) =>
      vm.client.on((e) => {
        if (
          e.type === 'status' &&
          e.status.state === 'running' &&
          !this.network.isRunning &&
          !this.busy &&
          !this.problem
        )
          this.run();
      }),
    );
    this.sync();
    // The host view is told a few times a second, not at each of a thousand quanta.
    let last = 0;
    this.network.onQuantum = () => {
      const now = performance.now();
      if (now - last < SYNC_MS && this.network.isRunning) return;
      last = now;
      this.sync();
    };
  }

  private sync(): void {
    this.quanta = this.network.board.quanta;
    this.inFlight = this.network.board.framesInFlight;
    this.dropped = this.network.board.dropped;
    this.problem = this.network.problem;
    this.running = this.network.isRunning;
  }

  /** Members that hold the running group: paused (by the user, a breakpoint or a look at the past) or crashed. */
  get holding(): HostedVm[] {
    return this.running ? this.vms.filter((vm) => vm.state === 'paused' || vm.ended) : [];
  }

  has(vm: HostedVm): boolean {
    return this.vms.includes(vm);
  }

  /** Runs the group: every member, then the quanta (a no-op for the quanta when they run already). */
  run(): void {
    if (this.busy || this.vms.some((vm) => vm.ended)) return;
    // Members that hold it (paused, at a breakpoint) go on too.
    for (const vm of this.vms) vm.app.run();
    this.network.start();
    this.sync();
  }

  /** Pauses the group after the quantum on its way (a member held at a breakpoint finishes it first), then its members. */
  async pause(): Promise<void> {
    this.busy = true;
    try {
      await this.network.pause();
      for (const vm of this.vms) vm.app.pause();
    } finally {
      this.busy = false;
      this.sync();
    }
  }

  /** The group as a group file where it stands (paused for it, and left paused): each member back at its present first. */
  async save(): Promise<Uint8Array> {
    await this.pause();
    this.busy = true;
    try {
      const recordings = await Promise.all(
        this.vms.map(async (vm) => {
          // The worker knows where its present is (the page may not have heard of its last quantum yet).
          await vm.client.request({ type: 'groupPresent' });
          return (await vm.client.request<ExportedVmi>({ type: 'exportVmi' })).bytes;
        }),
      );
      return this.network.toFile(recordings);
    } finally {
      this.busy = false;
    }
  }

  /** Takes the members out of the group (paused), each a VM on its own from then on. */
  async dissolve(): Promise<void> {
    for (const off of this.unsubscribe) off();
    await this.pause();
    for (const vm of this.vms) if (!vm.ended) vm.client.send({ type: 'leaveGroup' });
  }
}

/**
 * A group of new Linux VMs named `names`, machine i with the MAC
 * 52:54:00:12:34:56 + i (so /init gives it 10.0.0.i+1), running.
 */
export async function createLinuxGroup(host: GroupHost, names: readonly string[]): Promise<HostedGroup> {
  const { kernel, initrd, disk } = await fetchLinux();
  const vms = names.map(() => host.addVm());
  const macs = names.map((_, i) => memberMac(i));
  try {
    await Promise.all(
      vms.map(async (vm, i) => {
        // Each worker is given its own copy: the bytes move to it.
        await vm.app.load(kernel.slice(), names[i]!, false, {
          disk: disk?.slice(),
          linux: { initrd: initrd?.slice() },
          net: { mac: macs[i]! },
        });
        await vm.client.request({ type: 'joinGroup' });
      }),
    );
  } catch (e) {
    for (const vm of vms) host.removeVm(vm);
    throw new Error(`could not make the network: ${messageOf(e)}`);
  }
  const group = new HostedGroup(names.join(' + '), vms, macs);
  group.run();
  return group;
}

/**
 * Opens a group file: each machine as a new VM of the host (its own library
 * entry) where its recording ends, joined again as the file left the
 * group, paused. A file without a moment to go on from (version 1), or
 * with group forks, or run with a bound on the machines' instructions,
 * opens its machines each on its own.
 */
export async function openGroupFile(
  host: GroupHost,
  bytes: Uint8Array,
  fileName: string,
): Promise<{ group: HostedGroup | null; vms: HostedVm[]; note: string | null }> {
  const file = readGroupFile(bytes);
  const goesOn = file.moment !== null && file.forks.length === 0 && file.maxSteps === null;
  const vms: HostedVm[] = [];
  for (const machine of file.machines) {
    const vm = host.addVm();
    vms.push(vm);
    if (!(await vm.library.openAsNew(machine.vmi, `${machine.name}.vmi`, machine.name))) {
      const why = vm.app.message;
      for (const v of vms) host.removeVm(v);
      throw new Error(`machine ${machine.name}: ${why ?? 'it did not open'}`);
    }
  }
  if (!goesOn)
    return {
      group: null,
      vms,
      note:
        `${fileName} ${file.moment === null ? 'is a version 1 group file, without where the group stood' : file.forks.length > 0 ? 'holds group forks' : 'stopped its machines at --max-instructions'}: ` +
        'its machines open each on its own (rewind group replay runs it as a group)',
    };
  await Promise.all(
    vms.map((vm, i) => vm.client.request({ type: 'joinGroup', end: file.moment!.ends[i] as MemberEnd })),
  );
  const group = new HostedGroup(
    fileName.replace(/\.vmg$/i, '') || fileName,
    vms,
    file.machines.map((m) => m.mac),
    file,
  );
  return { group, vms, note: null };
}
