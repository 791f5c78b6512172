/**
 * A recording kept in a {@link StorageBackend}: pages, checkpoints and the
 * timeline log, persisted together by {@link RecordingStore.commit} in one
 * atomic batch, so a crash or a full quota never leaves a checkpoint visible
 * without its pages, nor a timeline naming a checkpoint that was not saved.
 *
 * Keys:
 *   meta              plain msgpack {format: 1, config}
 *   kernel            the boot image bytes (absent when none)
 *   disk              plain msgpack page map of the disk image at reset
 *   page/<hash>       page record (byte 0 encoding, then data; see pagestore.ts)
 *   cp/<id>           plain msgpack checkpoint (see wire.ts)
 *   log/<seq>         plain msgpack list of timeline log entries (seq: 12 digits)
 */
import type { Snapshotable } from '../core/snapshot.js';
import { PAGE_SIZE } from '../core/memmap.js';
import { RewindError } from '../core/errors.js';
import type { BatchEntry, StorageBackend } from './backend.js';
import { Checkpointer, type Checkpoint, type PageMap } from './checkpoint.js';
import { packPlain, unpackPlain } from './codec.js';
import { isHash128, type Hash128 } from './hash.js';
import { PageStore } from './pagestore.js';
import { Timeline, type TimelineLogEntry } from './timeline.js';
import { readVmi, recordingFrom, writeVmi, type Recording, type VmiConfig } from './vmi.js';
import { checkpointFromWire, checkpointToWire, isObject, pageMapFromWire, pageMapToWire } from './wire.js';

const STORE_FORMAT = 1;

function decode(bytes: Uint8Array, what: string): unknown {
  try {
    return unpackPlain(bytes);
  } catch {
    throw new RewindError('io', `stored ${what} does not decode`);
  }
}

/** Options of {@link RecordingStore.create} and {@link RecordingStore.open}. */
export interface RecordingStoreOptions {
  /** Full checkpoint every this many (see Checkpointer). */
  fullEvery?: number;
}

/** A recording bound to one machine and one backend. */
export class RecordingStore {
  private logSeq: number;
  private unsaved: BatchEntry[] = [];

  private constructor(
    readonly backend: StorageBackend,
    readonly config: VmiConfig,
    readonly kernel: Uint8Array | null,
    readonly disk: PageMap | null,
    readonly checkpointer: Checkpointer,
    readonly timeline: Timeline,
    logSeq: number,
  ) {
    this.logSeq = logSeq;
  }

  /** The page store (shared with the checkpointer). */
  get pages(): PageStore {
    return this.checkpointer.pages;
  }

  /**
   * Starts a new recording of `machine` (as it is now: call right after
   * loading the boot image) in an empty backend, with a first full checkpoint
   * on the root branch, and commits it.
   */
  static async create(
    backend: StorageBackend,
    machine: Snapshotable,
    init: { kernel: Uint8Array | null; machineConfig?: Record<string, unknown> },
    options: RecordingStoreOptions = {},
  ): Promise<RecordingStore> {
    if ((await backend.list('meta')).length > 0) throw new RewindError('bad-argument', 'this storage already holds a recording');
    const cps = new Checkpointer(machine, { fullEvery: options.fullEvery });
    const config: VmiConfig = { ramSize: machine.ram.size, diskSize: machine.disk ? machine.disk.size : null, machine: init.machineConfig ?? {} };
    let disk: PageMap | null = null;
    if (machine.disk) {
      disk = new Map();
      const hashes = cps.hasher.disk!.hashes;
      hashes.forEach((h, i) => {
        cps.pages.put(machine.disk!.page(i), h);
        disk!.set(i, h);
      });
      for (const [i, h] of [...disk]) if (!cps.pages.getRecord(h)) disk.delete(i); // zero pages
    }
    const t = Timeline.create('main');
    const store = new RecordingStore(backend, config, init.kernel, disk, cps, t, 0);
    store.unsaved.push({ key: 'meta', value: packPlain({ format: STORE_FORMAT, config }) });
    if (init.kernel) store.unsaved.push({ key: 'kernel', value: init.kernel });
    if (disk) store.unsaved.push({ key: 'disk', value: packPlain(pageMapToWire(disk)) });
    const first = cps.capture(null, t.root().id);
    t.addCheckpoint(t.root().id, { id: first.id, position: first.position });
    await store.commit();
    return store;
  }

  /** Opens a recording saved in `backend`, for `machine` (whose RAM and disk sizes must match). */
  static async open(backend: StorageBackend, machine: Snapshotable, options: RecordingStoreOptions = {}): Promise<RecordingStore> {
    const metaBytes = await backend.get('meta');
    if (!metaBytes) throw new RewindError('not-found', 'this storage holds no recording');
    const meta = decode(metaBytes, 'metadata');
    if (!isObject(meta) || meta['format'] !== STORE_FORMAT || !isObject(meta['config'])) throw new RewindError('io', 'stored metadata is not understood');
    const config = meta['config'] as unknown as VmiConfig;
    if (config.ramSize !== machine.ram.size || config.diskSize !== (machine.disk ? machine.disk.size : null)) {
      throw new RewindError('bad-argument', `the recording is for ${config.ramSize} bytes of RAM and disk ${String(config.diskSize)}; the machine differs`);
    }
    const pages = new PageStore();
    for (const key of await backend.list('page/')) {
      const h = key.slice(5);
      const rec = await backend.get(key);
      if (!isHash128(h) || !rec) throw new RewindError('io', `stored page ${key} is unreadable`);
      pages.putRecord(h as Hash128, rec);
    }
    const cps = new Checkpointer(machine, { pages, fullEvery: options.fullEvery });
    const loaded: Checkpoint[] = [];
    const ramPages = config.ramSize / PAGE_SIZE;
    const diskPages = config.diskSize === null ? null : config.diskSize / PAGE_SIZE;
    for (const key of await backend.list('cp/')) {
      const bytes = await backend.get(key);
      if (!bytes) throw new RewindError('io', `stored checkpoint ${key} vanished`);
      loaded.push(checkpointFromWire(decode(bytes, key), ramPages, diskPages, { code: 'io', maxStateBytes: 1 << 30 }, key));
    }
    loaded.sort((a, b) => a.depth - b.depth);
    for (const cp of loaded) cps.add(cp);
    const log: TimelineLogEntry[] = [];
    const logKeys = await backend.list('log/');
    for (const key of logKeys) {
      const bytes = await backend.get(key);
      const entries = bytes ? decode(bytes, key) : null;
      if (!Array.isArray(entries)) throw new RewindError('io', `stored timeline log ${key} is unreadable`);
      log.push(...(entries as TimelineLogEntry[]));
    }
    const t = Timeline.fromLog(log);
    t.takeFresh();
    const kernel = (await backend.get('kernel')) ?? null;
    const diskBytes = await backend.get('disk');
    const disk = diskBytes && diskPages !== null ? pageMapFromWire(decode(diskBytes, 'disk'), diskPages, 'io', 'stored disk image') : null;
    const lastSeq = logKeys.length > 0 ? Number(logKeys[logKeys.length - 1]!.slice(4)) : 0;
    return new RecordingStore(backend, config, kernel, disk, cps, t, lastSeq);
  }

  /**
   * Captures a checkpoint of the machine on `branch` (delta over the latest
   * checkpoint of that branch's lineage at or before the machine's position)
   * and records it in the timeline. Call {@link commit} to persist.
   */
  checkpoint(branch: string): Checkpoint {
    const m = this.checkpointer.machine;
    const parent = this.timeline.checkpointAtOrBefore(branch, m.position);
    const cp = this.checkpointer.capture(parent ? parent.id : null, branch);
    this.timeline.addCheckpoint(branch, { id: cp.id, position: cp.position });
    this.timeline.extendTo(branch, cp.position);
    return cp;
  }

  /**
   * Persists everything new (pages, checkpoints, timeline changes) in one
   * atomic batch. On failure nothing of it is visible and it stays queued
   * for the next commit.
   */
  async commit(): Promise<void> {
    this.pages.compress();
    const batch = this.unsaved;
    for (const [h, rec] of this.pages.takeFresh()) batch.push({ key: `page/${h}`, value: rec });
    for (const cp of this.checkpointer.takeFresh()) batch.push({ key: `cp/${cp.id}`, value: packPlain(checkpointToWire(cp)) });
    const log = this.timeline.takeFresh();
    if (log.length > 0) batch.push({ key: `log/${String(++this.logSeq).padStart(12, '0')}`, value: packPlain(log) });
    this.unsaved = batch;
    if (batch.length === 0) return;
    await this.backend.putBatch(batch);
    this.unsaved = [];
  }

  /** The whole recording, as a `.vmi` file. */
  exportVmi(options: { keepLog?: boolean } = {}): Uint8Array {
    return writeVmi(this.recording(options.keepLog ?? true));
  }

  /** The whole recording as data. */
  recording(keepLog = true): Recording {
    return recordingFrom({
      config: this.config,
      kernel: this.kernel,
      disk: this.disk,
      timeline: this.timeline.state,
      timelineLog: keepLog ? this.timeline.log : null,
      checkpoints: this.checkpointer.all(),
      pages: this.pages,
    });
  }

  /**
   * Validates a `.vmi` completely (RewindError('bad-vmi') on any problem),
   * then writes it into an empty backend in one atomic batch.
   */
  static async importVmi(backend: StorageBackend, bytes: Uint8Array): Promise<Recording> {
    const rec = readVmi(bytes);
    if ((await backend.list('meta')).length > 0) throw new RewindError('bad-argument', 'this storage already holds a recording');
    const batch: BatchEntry[] = [{ key: 'meta', value: packPlain({ format: STORE_FORMAT, config: rec.config }) }];
    if (rec.kernel) batch.push({ key: 'kernel', value: rec.kernel });
    if (rec.disk) batch.push({ key: 'disk', value: packPlain(pageMapToWire(rec.disk)) });
    for (const [h, r] of rec.pages) batch.push({ key: `page/${h}`, value: r });
    for (const cp of rec.checkpoints) batch.push({ key: `cp/${cp.id}`, value: packPlain(checkpointToWire(cp)) });
    // The log as one entry that sets the tree (a file may carry no log; the tree is authoritative).
    const log: TimelineLogEntry[] = rec.timelineLog ?? [
      [
        { op: 'replace', path: ['branches'], value: rec.timeline.branches },
        { op: 'replace', path: ['nextId'], value: rec.timeline.nextId },
      ],
    ];
    batch.push({ key: `log/${String(1).padStart(12, '0')}`, value: packPlain(log) });
    await backend.putBatch(batch);
    return rec;
  }
}
