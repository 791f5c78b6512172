/**
 * The host: every VM of the page, each in its own Web Worker with its own
 * state (AppState, LibraryState, ShareState over its own client), and the
 * one the main UI shows (focused). The host view creates VMs, opens library
 * entries as VMs, clones them, starts, pauses, resumes and stops them, and
 * sets their resources. A VM's machine lives in its worker alone and saves
 * into its own library entry, so no VM can reach another's memory or
 * storage; a worker that crashes is ended and shown as crashed, the others
 * run on.
 */
import type { MachineClient } from '../src/web/client.js';
import { openGuest } from '../src/web/guests.js';
import type { ExportedVmi } from '../src/web/jobs.js';
import type { Library } from '../src/web/library.js';
import type { PointRef, RunState } from '../src/web/protocol.js';
import { AppState, type ClientLike } from './app.svelte.js';
import { LibraryState, uniqueName, type UrlPort } from './library.svelte.js';
import { createLinuxGroup, openGroupFile, type HostedGroup } from './network.svelte.js';
import { downloadBytes, fileStem } from './files.js';
import { ShareState } from './share.svelte.js';
import { messageOf } from './format.js';

/** A VM as the host view shows it: its machine's state, or what became of its worker. */
export type VmState = RunState | 'crashed' | 'stopped';

/** What a VM is given of the host. */
export interface Resources {
  /** RAM in MiB (part of what the machine is built from: changing it starts the program again). */
  ramMiB: number;
  /** CPU share: at most this many million instructions a second; null for as fast as the host runs it. */
  paceMips: number | null;
}

export const DEFAULT_RESOURCES: Resources = { ramMiB: 64, paceMips: null };

/** What the host needs of a worker's client: the app's, plus ending it and hearing of its crash. */
export type HostClient = ClientLike & Pick<MachineClient, 'terminate' | 'onCrash'>;

/** Where the host gets workers, the library and the page's URL (the browser's, or fakes in tests). */
export interface HostPorts {
  /** Starts a worker for a new VM; `name` tells the workers apart in devtools. */
  spawn(name: string): HostClient;
  library: Library;
  url: UrlPort;
}

/** Where the page keeps the host's VMs (library ids and CPU caps) for the next visit. */
const HOST_KEY = 'rewind-host';

/** A VM of the host as the next visit reopens it. */
interface Remembered {
  id: string;
  paceMips: number | null;
}

/** How long a stop waits for the VM's last save before ending its worker anyway. */
const STOP_SAVE_MS = 5000;

/** One VM of the host: its worker's client and the page's state of it. */
export class HostedVm {
  readonly app: AppState;
  readonly library: LibraryState;
  readonly share: ShareState;
  resources = $state<Resources>({ ...DEFAULT_RESOURCES });
  /** Why its worker crashed; null while it has not. */
  crashed = $state<string | null>(null);
  /** The user stopped it: its worker is ended (its library entry keeps its last save). */
  stopped = $state(false);

  constructor(
    /** Unique in the page, never reused: the main UI is made again for each VM it shows. */
    readonly key: number,
    readonly client: HostClient,
    library: Library,
    url: UrlPort,
  ) {
    this.app = new AppState(client);
    this.library = new LibraryState(this.app, library, url);
    this.share = new ShareState(this.app, url);
    client.onCrash((reason) => {
      this.crashed = reason;
      this.app.message =
        `This VM's worker crashed (${reason}); the other VMs run on. ` +
        'Start it again from the host view (F9): it opens where it was last saved.';
    });
    // What it was built with, whoever built it (a recording opened from the library keeps its own RAM size).
    client.on((e) => {
      if (e.type !== 'loaded') return;
      this.resources = { ...this.resources, ramMiB: e.ramSize / 2 ** 20 };
      this.app.ramSize = e.ramSize;
    });
  }

  get state(): VmState {
    if (this.crashed !== null) return 'crashed';
    if (this.stopped) return 'stopped';
    return this.app.status.state;
  }

  /** Its worker is gone (stopped or crashed): only a start from its library entry brings it back. */
  get ended(): boolean {
    return this.crashed !== null || this.stopped;
  }

  get name(): string {
    return this.library.current?.name ?? (this.app.programName || `VM ${this.key}`);
  }

  /** Bytes its library entry takes, or null while it has none. */
  get storageUsed(): number | null {
    const id = this.library.current?.id;
    return this.library.entries.find((e) => e.id === id)?.size ?? null;
  }
}

export class HostState {
  vms = $state.raw<HostedVm[]>([]);
  /** The VM the main UI shows. */
  focused = $state.raw<HostedVm>(null as unknown as HostedVm);
  /** The host view is shown. */
  open = $state(false);
  /** Network groups of the host's VMs. */
  groups = $state.raw<HostedGroup[]>([]);
  /** Why the last host action failed, for the host view. */
  message = $state<string | null>(null);
  private nextKey = 1;

  /** `first`: the first VM's worker, when the page started it already (it boots while the library opens). */
  constructor(
    private readonly ports: HostPorts,
    first?: HostClient,
  ) {
    this.focused = this.add(DEFAULT_RESOURCES, undefined, first);
  }

  /** Shows `vm` in the main UI. */
  focus(vm: HostedVm): void {
    this.focused = vm;
    // Its library list as the other VMs' saves left it.
    void vm.library.refresh();
    // The URL names the focused VM: it follows at the VM's next stop or save, or now where it stands.
    const id = vm.library.current?.id;
    if (!id) return;
    const url = new URL(this.ports.url.href());
    url.searchParams.delete('guest');
    url.searchParams.set('vm', id);
    url.searchParams.set('branch', vm.app.status.branch);
    url.searchParams.set('at', String(vm.app.status.position));
    this.ports.url.replace(url.href);
  }

  /** A new VM running one of our guests (see src/web/guests.ts), focused; in the focused VM when that has nothing loaded. */
  async create(guest: string, resources: Resources): Promise<HostedVm> {
    const empty = this.focused.state === 'empty';
    const vm = empty ? this.focused : this.add(resources);
    if (empty) this.setResources(vm, resources);
    this.focus(vm);
    await openGuest(vm.app, guest);
    return vm;
  }

  /** Notes the host's saved VMs (their library entries and caps) for `reopenRemembered` after a reload. */
  remember(storage: Pick<Storage, 'setItem'> | undefined = globalThis.localStorage): void {
    const vms: Remembered[] = this.vms.flatMap((v) =>
      v.library.current ? [{ id: v.library.current.id, paceMips: v.resources.paceMips }] : [],
    );
    storage?.setItem(HOST_KEY, JSON.stringify(vms));
  }

  /**
   * Opens the VMs the host had when the page was left, each in its worker,
   * paused where it was saved, with its cap; but `except` (the one the page
   * opened itself), those it has, and those the library no longer has.
   */
  async reopenRemembered(
    except: string | null,
    storage: Pick<Storage, 'getItem'> | undefined = globalThis.localStorage,
  ): Promise<void> {
    let remembered: unknown;
    try {
      remembered = JSON.parse(storage?.getItem(HOST_KEY) ?? '[]');
    } catch {
      return;
    }
    if (!Array.isArray(remembered)) return;
    for (const r of remembered as Partial<Remembered>[]) {
      const id = r.id;
      const paceMips = typeof r.paceMips === 'number' && r.paceMips > 0 ? r.paceMips : null;
      // The page's own VM keeps its cap too.
      if (id === except) this.setResources(this.focused, { ...this.focused.resources, paceMips });
      if (typeof id !== 'string' || id === except || this.vms.some((v) => v.library.current?.id === id)) continue;
      if (!(await this.ports.library.meta(id).catch(() => null))) continue;
      await this.add({ ...DEFAULT_RESOURCES, paceMips }).library.open(id);
    }
  }

  /** Shows a library entry: the VM that has it, or a new VM that opens it where it was saved. */
  async openEntry(id: string, at?: PointRef): Promise<HostedVm> {
    const running = this.vms.find((v) => !v.ended && v.library.current?.id === id);
    if (running) {
      this.focus(running);
      if (at) await running.app.seekTo(at);
      return running;
    }
    const vm = this.add(this.focused.resources);
    this.focus(vm);
    await vm.library.open(id, at);
    return vm;
  }

  /**
   * A new VM that is `source` at `at` (where it stands unless given): its
   * recording, saved as a new library entry, opened in a new worker at that
   * point. From there the two are independent: what one is given the other
   * never sees. Null when it could not be made (the host's message says why).
   */
  async clone(source: HostedVm, at?: PointRef): Promise<HostedVm | null> {
    let file: ExportedVmi;
    try {
      file = await source.client.request<ExportedVmi>({ type: 'exportVmi' });
    } catch (e) {
      this.message = `Could not clone "${source.name}": ${messageOf(e)}`;
      return null;
    }
    const wasRunning = source.app.running;
    const vm = this.add(source.resources);
    const taken = [...source.library.entries.map((e) => e.name), ...this.vms.map((v) => v.name)];
    const name = uniqueName(`${source.name} (clone)`, taken);
    const point = at ?? { branch: file.branch, position: file.position };
    if (!(await vm.library.openAsNew(file.bytes, `${name}.vmi`, name, point))) {
      this.message = vm.app.message;
      this.remove(vm);
      return null;
    }
    this.focus(vm);
    // It goes on as its original was going: running (or waiting for input), or paused.
    if (wasRunning) vm.app.run();
    return vm;
  }

  pause(vm: HostedVm): void {
    const group = this.groupOf(vm);
    if (group) void group.pause();
    else vm.app.pause();
  }

  /** The network group `vm` is in, if any. */
  groupOf(vm: HostedVm): HostedGroup | undefined {
    return this.groups.find((g) => g.has(vm));
  }

  /** A network of new Linux VMs named `names` (see network.svelte.ts), running; null when it could not be made. */
  async createGroup(names: readonly string[]): Promise<HostedGroup | null> {
    try {
      const group = await createLinuxGroup(this.groupHost(), names);
      this.groups = [...this.groups, group];
      this.focus(group.vms[0]!);
      return group;
    } catch (e) {
      this.message = messageOf(e);
      return null;
    }
  }

  /** Opens a group file (.vmg): its machines as new VMs, joined again, paused (or each on its own when the file cannot go on). */
  async openGroup(bytes: Uint8Array, fileName: string): Promise<HostedGroup | null> {
    try {
      const { group, vms, note } = await openGroupFile(this.groupHost(), bytes, fileName);
      if (group) this.groups = [...this.groups, group];
      if (note) this.message = note;
      this.focus(vms[0]!);
      return group;
    } catch (e) {
      this.message = `Could not open ${fileName}: ${messageOf(e)}`;
      return null;
    }
  }

  /** Downloads a group as a group file (it is paused for it, and stays so). */
  async saveGroup(group: HostedGroup): Promise<void> {
    try {
      downloadBytes(await group.save(), `${fileStem(group.name.replace(/ \+ /g, '-'))}.vmg`);
    } catch (e) {
      this.message = `Could not save the group ${group.name}: ${messageOf(e)}`;
    }
  }

  /** Takes a group apart: its VMs stay, paused, each on its own. */
  async dissolveGroup(group: HostedGroup): Promise<void> {
    await group.dissolve();
    this.groups = this.groups.filter((g) => g !== group);
  }

  private groupHost() {
    return {
      addVm: () => {
        const vm = this.add(this.focused.resources);
        vm.app.record = true;
        return vm;
      },
      removeVm: (vm: HostedVm) => this.remove(vm),
    };
  }

  /** Runs a VM; one whose worker ended starts again in a new worker from its library entry, where it was saved. */
  async start(vm: HostedVm): Promise<HostedVm> {
    const group = this.groupOf(vm);
    if (group && !vm.ended) {
      group.run();
      return vm;
    }
    if (!vm.ended) {
      vm.app.run();
      return vm;
    }
    const id = vm.library.current?.id;
    if (!id) {
      this.message = `"${vm.name}" was never saved: there is nothing to start it from`;
      return vm;
    }
    const fresh = this.add(vm.resources, vm);
    if (this.focused === vm) this.focus(fresh);
    if (await fresh.library.open(id)) fresh.app.run();
    return fresh;
  }

  /** Ends a VM's worker, saved first (its library entry then holds where it stood). */
  async stop(vm: HostedVm): Promise<void> {
    if (vm.ended) return;
    const group = this.groupOf(vm);
    if (group) await this.dissolveGroup(group);
    vm.app.pause();
    // A worker that does not answer (stuck in a loop of its own) is ended all the same.
    await Promise.race([vm.library.save(), new Promise((done) => setTimeout(done, STOP_SAVE_MS))]);
    vm.stopped = true;
    vm.client.terminate();
    vm.app.message = 'This VM is stopped: Start it from the host view (F9) to open it where it was saved.';
  }

  /** Takes a VM out of the host (its worker ended; its library entry stays). The last one is kept. */
  remove(vm: HostedVm): void {
    if (this.vms.length === 1) return;
    const group = this.groupOf(vm);
    if (group) void this.dissolveGroup(group);
    if (!vm.ended) vm.client.terminate();
    const index = this.vms.indexOf(vm);
    this.vms = this.vms.filter((v) => v !== vm);
    if (this.focused === vm) this.focus(this.vms[Math.min(index, this.vms.length - 1)]!);
  }

  /** Sets a VM's CPU share now; its RAM only while paused (the program starts again with it, as a new recording). */
  setResources(vm: HostedVm, resources: Resources): void {
    if (vm.ended) return;
    if (resources.paceMips !== vm.resources.paceMips) vm.client.send({ type: 'setPace', mips: resources.paceMips });
    if (resources.ramMiB !== vm.resources.ramMiB) {
      if (vm.app.running) {
        this.message = `Pause "${vm.name}" first: its RAM changes only while it is paused`;
        resources = { ...resources, ramMiB: vm.resources.ramMiB };
      } else {
        vm.app.ramSize = resources.ramMiB * 2 ** 20;
        // With nothing loaded yet, the next load asks for it.
        if (vm.app.loaded)
          void vm.client.request({ type: 'setRam', ramSize: vm.app.ramSize }).catch((e: unknown) => {
            this.message = `Could not give "${vm.name}" ${resources.ramMiB} MiB: ${messageOf(e)}`;
          });
      }
    }
    vm.resources = { ...resources };
  }

  /**
   * A VM with a worker of its own and the focused VM's choices (recording,
   * executor), given `resources`; in place of `replacing`, or last.
   */
  private add(resources: Resources, replacing?: HostedVm, client?: HostClient): HostedVm {
    const key = this.nextKey++;
    // Only the focused VM names itself in the page's URL.
    const url: UrlPort = {
      href: () => this.ports.url.href(),
      replace: (u) => {
        if (this.focused === vm) this.ports.url.replace(u);
      },
    };
    const worker = client ?? this.ports.spawn(`rewind-vm-${key}`);
    const vm: HostedVm = new HostedVm(key, worker, this.ports.library, url);
    vm.library.namesInUse = () => this.vms.filter((v) => v !== vm).map((v) => v.name);
    vm.library.openGroup = (bytes, fileName) => this.openGroup(bytes, fileName);
    const model = this.focused as HostedVm | null;
    if (model) {
      vm.app.record = model.app.record;
      vm.app.executor = model.app.executor;
    }
    vm.resources = { ...resources };
    vm.app.ramSize = resources.ramMiB * 2 ** 20;
    if (resources.paceMips !== null) vm.client.send({ type: 'setPace', mips: resources.paceMips });
    this.vms = replacing ? this.vms.map((v) => (v === replacing ? vm : v)) : [...this.vms, vm];
    return vm;
  }
}
