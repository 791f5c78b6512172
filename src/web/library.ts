/**
 * The library of saved VMs, over any StorageBackend (IndexedDB in the
 * browser, memory in tests). Each VM is two values written by one atomic
 * batch: its metadata and its recording as `.vmi` bytes (the same bytes the
 * CLI reads). So a crash or a full quota leaves either the new copy or the
 * previous one, never half of either.
 *
 * Keys: `vm/<id>/meta` (JSON), `vm/<id>/vmi` (bytes), and `last` (the id of
 * the VM saved most recently, which a reload reopens).
 */
import { RewindError } from '../../core/errors.js';
import type { StorageBackend } from '../../storage/index.js';

/** What the library knows of a saved VM. */
export interface VmMeta {
  id: string;
  name: string;
  /** Bytes of the saved .vmi. */
  size: number;
  /** Milliseconds since 1970. */
  created: number;
  updated: number;
  /** Where the machine stood when saved: reopening puts it back there. */
  branch: string;
  position: number;
}

/** What a save names; size and updated come from the save itself. */
export type VmSave = Omit<VmMeta, 'size' | 'updated'>;

const PREFIX = 'vm/';
const LAST = 'last';
const metaKey = (id: string) => `${PREFIX}${id}/meta`;
const vmiKey = (id: string) => `${PREFIX}${id}/vmi`;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A fresh VM id: short, URL-safe, random (never the machine's own randomness: this is the UI). */
export function newVmId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Ids go into keys and URLs: keep them to letters, digits, - and _. */
function checkId(id: string): void {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw new RewindError('bad-argument', `"${id}" is not a VM id`);
}

function parseMeta(bytes: Uint8Array): VmMeta | null {
  try {
    const m = JSON.parse(decoder.decode(bytes)) as Partial<VmMeta>;
    if (typeof m.id !== 'string' || typeof m.name !== 'string' || typeof m.branch !== 'string') return null;
    if (![m.size, m.created, m.updated, m.position].every((n) => Number.isSafeInteger(n) && (n as number) >= 0))
      return null;
    return m as VmMeta;
  } catch {
    return null;
  }
}

export class Library {
  constructor(
    readonly backend: StorageBackend,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Every saved VM, most recently updated first (entries whose metadata is unreadable are left out). */
  async list(): Promise<VmMeta[]> {
    const keys = (await this.backend.list(PREFIX)).filter((k) => k.endsWith('/meta'));
    const metas = await Promise.all(keys.map(async (k) => this.backend.get(k)));
    return metas
      .map((b) => (b ? parseMeta(b) : null))
      .filter((m): m is VmMeta => m !== null)
      .sort((a, b) => b.updated - a.updated || (a.id < b.id ? -1 : 1));
  }

  async meta(id: string): Promise<VmMeta | null> {
    checkId(id);
    const b = await this.backend.get(metaKey(id));
    return b ? parseMeta(b) : null;
  }

  /** The metadata and .vmi bytes of a VM, or null when it is not saved. */
  async load(id: string): Promise<{ meta: VmMeta; bytes: Uint8Array } | null> {
    const meta = await this.meta(id);
    if (!meta) return null;
    const bytes = await this.backend.get(vmiKey(id));
    if (!bytes) throw new RewindError('io', `the saved VM "${meta.name}" has lost its recording`);
    return { meta, bytes };
  }

  /**
   * Saves a VM (new, or a newer copy): metadata, recording and the `last`
   * pointer in one atomic batch. On failure (RewindError 'quota' when
   * storage is full) the previous copy is untouched.
   */
  async save(vm: VmSave, vmi: Uint8Array): Promise<VmMeta> {
    checkId(vm.id);
    const meta: VmMeta = { ...vm, size: vmi.length, updated: this.now() };
    await this.backend.putBatch([
      { key: metaKey(vm.id), value: encoder.encode(JSON.stringify(meta)) },
      { key: vmiKey(vm.id), value: vmi },
      { key: LAST, value: encoder.encode(vm.id) },
    ]);
    return meta;
  }

  /** Renames a saved VM (metadata only). */
  async rename(id: string, name: string): Promise<VmMeta> {
    const meta = await this.meta(id);
    if (!meta) throw new RewindError('not-found', `no saved VM ${id}`);
    const clean = name.trim();
    if (!clean) throw new RewindError('bad-argument', 'a VM needs a name');
    const next = { ...meta, name: clean };
    await this.backend.putBatch([{ key: metaKey(id), value: encoder.encode(JSON.stringify(next)) }]);
    return next;
  }

  /** Deletes a VM (and forgets it as the last one). */
  async delete(id: string): Promise<void> {
    checkId(id);
    const keys = [metaKey(id), vmiKey(id)];
    if ((await this.last()) === id) keys.push(LAST);
    await this.backend.delete(keys);
  }

  /** The VM saved most recently, if it is still there. */
  async last(): Promise<string | null> {
    const b = await this.backend.get(LAST);
    if (!b) return null;
    const id = decoder.decode(b);
    return (await this.backend.get(metaKey(id))) ? id : null;
  }
}
