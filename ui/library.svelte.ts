/**
 * The page's side of the library and of files: every recorded VM is saved
 * (as it runs, and whenever it stops, seeks or forks) into a Library over
 * IndexedDB; the URL names the VM, branch and position; files are exported
 * and imported as `.vmi` (validated by the worker before the library is
 * touched), and an ELF opens as a new VM.
 */
import { isElf } from '../core/loader.js';
import { isGroupFile } from '../session/group-file.js';
import { IdbBackend, MemoryBackend } from '../storage/index.js';
import { Library, newVmId, type VmMeta } from '../src/web/library.js';
import type { ExportedVmi } from '../src/web/jobs.js';
import type { PointRef, Status, WorkerEvent } from '../src/web/protocol.js';
import type { AppState } from './app.svelte.js';
import { downloadBytes, fileStem } from './files.js';
import { messageOf } from './format.js';

/** How often a running VM is saved, at least... */
export const AUTOSAVE_MS = 5000;
/** ...and at most this share of the time goes to saving (a big VM takes longer to write). */
const SAVE_SHARE = 0.05;
/** A stop (pause, seek, fork) is saved this soon after, so a burst of steps makes one save. */
const SETTLE_MS = 400;
/** Bytes a recording's pages may take unless the user chose otherwise: it thins its past to stay within. */
export const DEFAULT_BUDGET = 512 * 2 ** 20;
/** The budgets the library offers. */
export const BUDGETS = [128, 256, 512, 1024, 2048].map((m) => m * 2 ** 20);
/** Where the chosen budget is kept (a preference of this browser, not of a VM). */
const BUDGET_KEY = 'rewind-budget';

/** The IndexedDB database of the library. */
export const LIBRARY_DB = 'rewind-library';

/** The VM the machine is, as the library knows it. */
interface VmRef {
  id: string;
  name: string;
  created: number;
}

/** Where the page's URL lives (window.location and history, or a fake in tests). */
export interface UrlPort {
  href(): string;
  replace(url: string): void;
}

const windowUrl: UrlPort = {
  href: () => location.href,
  replace: (url) => history.replaceState(history.state, '', url),
};

/**
 * What the URL asks to open: a saved VM, at a point or where it was saved;
 * or (`missing`) a VM this browser does not have, which opens nothing (the
 * page says so and keeps the link as it is).
 */
export type StartPoint = { id: string; at?: PointRef } | { missing: string };

/** `name`, or `name (2)`, `name (3)`… : the first that none of `taken` has. */
export function uniqueName(name: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  let candidate = name;
  for (let n = 2; used.has(candidate); n++) candidate = `${name} (${n})`;
  return candidate;
}

/** A point of a link in words: "position 123 of branch b1". */
const pointText = (at: PointRef) =>
  at.branch === undefined ? `position ${at.position}` : `position ${at.position} of branch "${at.branch}"`;

const codeOf = (e: unknown) => (e as { code?: unknown } | null)?.code;

/** Opens the library in IndexedDB, or in memory (with a warning) where the browser has no storage. */
export async function openBrowserLibrary(): Promise<{ library: Library; warning: string | null }> {
  try {
    return { library: new Library(await IdbBackend.open(LIBRARY_DB)), warning: null };
  } catch (e) {
    return { library: new Library(new MemoryBackend()), warning: `${messageOf(e)}: VMs will not survive a reload` };
  }
}

export class LibraryState {
  /** Saved VMs, most recent first. */
  entries = $state<VmMeta[]>([]);
  /** The VM the machine is now (null before one loads, or after its entry was deleted). */
  current = $state<VmRef | null>(null);
  /** State hash of the machine where it stopped (null while it runs). */
  hash = $state<string | null>(null);
  /** A save is in flight. */
  saving = $state(false);

  /** Set while the page opens a VM, so that the `loaded` event is known to be it. */
  private opening: VmRef | null = null;
  private savedKey = '';
  /** Branches the library's copy of the current VM has: a stop on another (a fork) is saved at once, not once steps settle. */
  private savedBranches = new Set<string>();
  /** The point `hash` belongs to. */
  private hashKey = '';
  private lastSave = 0;
  /** How long the last save took. */
  private saveMs = 0;
  private again = false;
  private inflight: Promise<void> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private hashTimer: ReturnType<typeof setTimeout> | null = null;
  private lastError = '';
  private readonly now: () => number;

  /** Opens a group file (.vmg) as a network of the host's; set by the host. */
  openGroup: ((bytes: Uint8Array, fileName: string) => Promise<unknown>) | null = null;
  /** Names the page's other VMs have (the host's), which a new VM's name avoids too: they may not be saved yet. */
  namesInUse: () => string[] = () => [];

  /** Bytes each recording's pages may take (see DEFAULT_BUDGET). */
  budget = $state(DEFAULT_BUDGET);

  constructor(
    readonly app: AppState,
    readonly library: Library,
    private readonly url: UrlPort | null = windowUrl,
    now?: () => number,
  ) {
    this.now = now ?? (() => Date.now());
    app.client.on((e) => this.receive(e));
    const kept = Number(globalThis.localStorage?.getItem(BUDGET_KEY));
    this.setBudget(Number.isSafeInteger(kept) && kept > 0 ? kept : DEFAULT_BUDGET);
  }

  /** Sets the budget of this machine and of those opened after; the next checkpoint thins the past to meet it. */
  setBudget(bytes: number): void {
    this.budget = bytes;
    this.app.client.send({ type: 'setBudget', bytes });
    globalThis.localStorage?.setItem(BUDGET_KEY, String(bytes));
  }

  /** What the URL (or the last session) asks to reopen; null to start the default guest. */
  async startPoint(params: URLSearchParams): Promise<StartPoint | null> {
    if (params.has('guest')) return null;
    const vm = params.get('vm');
    if (vm === null) {
      const last = await this.library.last();
      return last ? { id: last } : null;
    }
    if (!(await this.library.meta(vm).catch(() => null))) {
      // Nothing else starts: the link stays in the address bar, and so does this.
      this.app.message =
        `There is no VM "${vm}" in this browser's library (deleted, or the link was made in another browser). ` +
        'Pick a guest or import a .vmi to start.';
      return { missing: vm };
    }
    const at = Number(params.get('at'));
    const branch = params.get('branch') ?? undefined;
    return params.has('at') && Number.isSafeInteger(at) && at >= 0
      ? { id: vm, at: { branch, position: at } }
      : { id: vm };
  }

  /** Reads the list of saved VMs again. */
  async refresh(): Promise<void> {
    try {
      this.entries = await this.library.list();
    } catch (e) {
      this.app.message = `Could not read the library: ${messageOf(e)}`;
    }
  }

  /** Only two events matter to the library: a load (which VM this is) and a status (when to save). */
  receive(e: WorkerEvent): void {
    if (e.type === 'loaded') {
      // A new VM gets a name no other has: picking the same guest twice makes "hello.elf" and "hello.elf (2)".
      const name = () => uniqueName(e.name, [...this.entries.map((m) => m.name), ...this.namesInUse()]);
      this.current = this.opening ?? { id: newVmId(), name: name(), created: this.now() };
      this.opening = null;
      this.savedKey = '';
      this.savedBranches = new Set();
      this.lastSave = this.now();
    } else if (e.type === 'status') {
      this.statusChanged(e.status);
    }
  }

  private statusChanged(s: Status): void {
    if (!this.current || !this.app.capabilities.timeTravel || s.state === 'empty') return;
    if (s.state === 'running') {
      this.hash = null;
      if (this.now() - this.lastSave >= Math.max(AUTOSAVE_MS, this.saveMs / SAVE_SHARE)) void this.save();
      return;
    }
    this.showInUrl(s.branch, s.position);
    // Never show the hash of another point, even for the moment until the new one comes.
    if (this.keyOf(s) !== this.hashKey) this.hash = null;
    this.later('hashTimer', 100, () => void this.refreshHash());
    if (this.keyOf(s) === this.savedKey) return;
    if (this.savedBranches.has(s.branch)) {
      this.later('timer', SETTLE_MS, () => {
        if (this.keyOf(this.app.status) !== this.savedKey) void this.save();
      });
      return;
    }
    // A new branch (a fork) is new data: a reload a moment later must find it.
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    void this.save();
  }

  private keyOf(s: { branch: string; position: number }): string {
    return `${s.branch}:${s.position}`;
  }

  private later(which: 'timer' | 'hashTimer', ms: number, fn: () => void): void {
    const t = this[which];
    if (t) clearTimeout(t);
    this[which] = setTimeout(() => {
      this[which] = null;
      fn();
    }, ms);
  }

  /** The URL names this point of the current VM (a deep link: opening it in this browser comes back here). */
  private showInUrl(branch: string, position: number): void {
    if (!this.url || !this.current) return;
    const url = new URL(this.url.href());
    url.searchParams.delete('guest');
    url.searchParams.set('vm', this.current.id);
    url.searchParams.set('branch', branch);
    url.searchParams.set('at', String(position));
    if (url.href !== this.url.href()) this.url.replace(url.href);
  }

  private async refreshHash(): Promise<void> {
    if (this.app.running) return;
    const key = this.keyOf(this.app.status);
    try {
      const hash = await this.app.client.request<string>({ type: 'stateHash' });
      // The machine may have moved while the answer came.
      if (this.keyOf(this.app.status) === key) {
        this.hash = hash;
        this.hashKey = key;
      }
    } catch {
      this.hash = null;
    }
  }

  /**
   * Saves the current VM: the worker writes the .vmi (between slices), and
   * the library stores it with its metadata in one transaction. A failure
   * (a full quota) is shown once and leaves the copy saved before.
   */
  save(): Promise<void> {
    // One save at a time; asked for meanwhile, one more follows (of whatever VM is current then).
    if (this.inflight) {
      this.again = true;
      return this.inflight;
    }
    this.inflight = (async () => {
      do {
        this.again = false;
        await this.saveOnce();
      } while (this.again);
    })().finally(() => (this.inflight = null));
    return this.inflight;
  }

  private async saveOnce(): Promise<void> {
    const vm = this.current;
    if (!vm || !this.app.capabilities.timeTravel) return;
    this.saving = true;
    this.lastSave = this.now();
    const branches = this.branchIds();
    const from = this.keyOf(this.app.status);
    try {
      const file = await this.app.client.request<ExportedVmi>({ type: 'exportVmi' });
      const still = this.current?.id === vm.id;
      // Renamed meanwhile: keep the new name. Deleted meanwhile: do not bring it back.
      if (!still && !this.entries.some((m) => m.id === vm.id)) return;
      const name = still ? this.current!.name : vm.name;
      await this.library.save(
        { id: vm.id, name, created: vm.created, branch: file.branch, position: file.position },
        file.bytes,
      );
      this.saveMs = this.now() - this.lastSave;
      this.lastError = '';
      if (still) {
        this.savedKey = this.keyOf(file);
        this.savedBranches = branches;
        // A reload reopens what the URL names: while it runs, that is the last save.
        if (this.app.running) this.showInUrl(file.branch, file.position);
        // Stopped elsewhere meanwhile: a stop at the point saved before this one asked for no save.
        else if (this.keyOf(this.app.status) !== from && this.keyOf(this.app.status) !== this.savedKey)
          this.again = true;
      }
      await this.refresh();
    } catch (e) {
      if (codeOf(e) === 'cancelled' || codeOf(e) === 'superseded') return;
      const message = `Could not save "${vm.name}": ${messageOf(e)}`;
      // Autosave retries often: say it once, not every few seconds.
      if (message !== this.lastError) this.app.message = message;
      this.lastError = message;
    } finally {
      this.saving = false;
    }
  }

  /** The current VM's branches as the page knows them. */
  private branchIds(): Set<string> {
    return new Set(this.app.timeline?.branches.map((b) => b.id));
  }

  /** Saves the current VM before another replaces it, unless it has not moved since its last save. */
  private async flush(): Promise<void> {
    if (this.current && (this.app.running || this.keyOf(this.app.status) !== this.savedKey)) await this.save();
  }

  /**
   * Opens the current VM again where it stands, saved first (on the
   * executor chosen since: the same VM, not a new one). False when there is
   * no saved VM to reopen.
   */
  async reopen(): Promise<boolean> {
    const vm = this.current;
    if (!vm || !this.app.capabilities.timeTravel) return false;
    await this.save();
    return this.current?.id === vm.id && this.entries.some((m) => m.id === vm.id) && this.open(vm.id);
  }

  /**
   * Opens a saved VM at a point (where it was saved, unless `at` says). A
   * point the VM does not have (a position past the end of its branch, a
   * branch it has not) opens it where it was saved, and says why.
   */
  async open(id: string, at?: PointRef): Promise<boolean> {
    let found: Awaited<ReturnType<Library['load']>>;
    try {
      found = await this.library.load(id);
    } catch (e) {
      this.app.message = `Could not read the saved VM: ${messageOf(e)}`;
      return false;
    }
    if (!found) {
      this.app.message = `There is no VM "${id}" in the library`;
      return false;
    }
    const { meta, bytes } = found;
    if (this.current?.id !== id) await this.flush();
    this.opening = { id, name: meta.name, created: meta.created };
    try {
      await this.app.client.request(
        {
          type: 'importVmi',
          bytes,
          name: meta.name,
          at: at ?? { branch: meta.branch, position: meta.position },
          executor: this.app.executor,
        },
        [bytes.buffer as ArrayBuffer],
      );
      if (!at) this.savedKey = this.keyOf(this.app.status);
      this.savedBranches = this.branchIds();
      return true;
    } catch (e) {
      this.opening = null;
      if (at && (codeOf(e) === 'bad-argument' || codeOf(e) === 'not-found')) {
        const opened = await this.open(id);
        this.app.message =
          `"${meta.name}" has no ${pointText(at)} (${messageOf(e)}): ` +
          (opened ? `opened where it was saved, position ${meta.position}.` : 'it could not be opened.');
        return opened;
      }
      if (codeOf(e) !== 'superseded') this.app.message = `Could not open "${meta.name}": ${messageOf(e)}`;
      return false;
    }
  }

  /**
   * Opens a file the user picked or dropped: an ELF starts a new VM from
   * it; anything else must be a valid .vmi, checked by the worker before
   * the library is touched (a damaged file changes nothing).
   */
  async openFile(file: { name: string; arrayBuffer(): Promise<ArrayBuffer> }): Promise<void> {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await file.arrayBuffer());
    } catch (e) {
      this.app.message = `Could not read ${file.name}: ${messageOf(e)}`;
      return;
    }
    if (isElf(bytes)) {
      await this.app.load(bytes, file.name);
      return;
    }
    if (isGroupFile(bytes)) {
      if (this.openGroup) await this.openGroup(bytes, file.name);
      else this.app.message = `${file.name} is a group file (.vmg): open it from the host view (F9)`;
      return;
    }
    await this.openAsNew(bytes, file.name, file.name.replace(/\.vmi$/i, '') || file.name);
  }

  /**
   * Opens a recording as a new VM of the library named `name` (the file's
   * name is `fileName`), at `at` or where its root branch ends: the worker
   * checks it before anything is kept, then it is saved under a new id (a
   * clone is so: the same recording, its own entry and its own future).
   * False when it could not be opened (the message says why).
   */
  async openAsNew(bytes: Uint8Array, fileName: string, name: string, at?: PointRef): Promise<boolean> {
    await this.flush();
    const vm = { id: newVmId(), name, created: this.now() };
    this.opening = vm;
    let opened: { branch: string; position: number };
    try {
      // Not transferred: the page keeps the bytes to store them once they are known good.
      opened = await this.app.client.request<{ branch: string; position: number }>({
        type: 'importVmi',
        bytes,
        name: fileName,
        executor: this.app.executor,
        ...(at ? { at } : {}),
      });
    } catch (e) {
      this.opening = null;
      if (codeOf(e) !== 'superseded') this.app.message = `Could not import ${fileName}: ${messageOf(e)}`;
      return false;
    }
    try {
      await this.library.save({ ...vm, ...opened }, bytes);
      this.savedKey = this.keyOf(opened);
      await this.refresh();
    } catch (e) {
      this.app.message = `${fileName} is open but could not be saved in the library: ${messageOf(e)}`;
    }
    return true;
  }

  /** Downloads the current VM as a .vmi file. */
  async exportFile(): Promise<void> {
    let file: ExportedVmi;
    try {
      file = await this.app.client.request<ExportedVmi>({ type: 'exportVmi' });
    } catch (e) {
      if (codeOf(e) !== 'cancelled') this.app.message = `Could not export: ${messageOf(e)}`;
      return;
    }
    downloadBytes(file.bytes, `${fileStem(this.current?.name ?? 'rewind')}.vmi`);
  }

  async rename(id: string, name: string): Promise<void> {
    try {
      if (this.current?.id === id) this.current = { ...this.current, name: name.trim() || this.current.name };
      await this.library.rename(id, name);
    } catch (e) {
      this.app.message = `Could not rename: ${messageOf(e)}`;
    }
    await this.refresh();
  }

  /** Deletes a saved VM; deleting the one that runs stops saving it (the machine runs on). */
  async delete(id: string): Promise<void> {
    if (this.current?.id === id) {
      this.current = null;
      if (this.url) {
        const url = new URL(this.url.href());
        for (const k of ['vm', 'branch', 'at']) url.searchParams.delete(k);
        this.url.replace(url.href);
      }
    }
    try {
      await this.library.delete(id);
    } catch (e) {
      this.app.message = `Could not delete: ${messageOf(e)}`;
    }
    await this.refresh();
  }
}
