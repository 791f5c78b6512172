/**
 * Files in and out of the page. Load program: what it takes. An ELF loads as a new program; a raw image
 * (a `.bin` file, loaded at 0x80000000 as the CLI's `--raw`) too; a `.vmi`
 * recording goes to Import (the library validates and keeps it); anything
 * else (a picture, a text file) is refused with a message, and nothing runs
 * or is saved.
 */
import { isElf } from '../core/loader.js';
import { VMI_MAGIC } from '../storage/index.js';
import type { AppState } from './app.svelte.js';

export interface PickedFile {
  name: string;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** Whether the bytes start with the .vmi magic. */
export function isVmi(bytes: Uint8Array): boolean {
  if (bytes.length < VMI_MAGIC.length) return false;
  for (let i = 0; i < VMI_MAGIC.length; i++) if (bytes[i] !== VMI_MAGIC.charCodeAt(i)) return false;
  return true;
}

/** What Load program does with a file: 'elf', 'raw', 'vmi', or a reason it refuses it. */
export function programKind(name: string, bytes: Uint8Array): 'elf' | 'raw' | 'vmi' | { refused: string } {
  if (isElf(bytes)) return 'elf';
  if (isVmi(bytes)) return 'vmi';
  if (bytes.length === 0) return { refused: `${name} is empty` };
  if (/\.(bin|img|raw)$/i.test(name)) return 'raw';
  return {
    refused:
      `${name} is not a RISC-V program: Load program takes an ELF, or a raw image ` +
      `(a .bin file, loaded at 0x80000000); a recording (.vmi) opens with Import`,
  };
}

/** A picked or dropped file's bytes, or null after saying why it could not be read. */
async function readPicked(app: AppState, file: PickedFile): Promise<Uint8Array | null> {
  try {
    return new Uint8Array(await file.arrayBuffer());
  } catch (e) {
    app.message = `Could not read ${file.name}: ${e instanceof Error ? e.message : String(e)}`;
    return null;
  }
}

/** Load program on a picked file: `openVmi` opens a .vmi as Import does. */
export async function loadProgramFile(
  app: AppState,
  file: PickedFile,
  openVmi: ((file: PickedFile) => Promise<void>) | undefined,
): Promise<void> {
  const bytes = await readPicked(app, file);
  if (!bytes) return;
  const kind = programKind(file.name, bytes);
  if (typeof kind === 'object') {
    app.message = kind.refused;
    return;
  }
  if (kind === 'vmi') {
    if (openVmi) await openVmi({ name: file.name, arrayBuffer: () => Promise.resolve(bytes.slice().buffer) });
    else app.message = `${file.name} is a recording: open it with Import`;
    return;
  }
  await app.load(bytes, file.name);
}

/** Saves bytes as a download named `name`. */
export function downloadBytes(bytes: Uint8Array, name: string): void {
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A name made safe for a download: the VM's name without its extension, `_` for anything odd. */
export function fileStem(name: string): string {
  return name.replace(/\.(elf|vmi|bin)$/i, '').replace(/[^\w.-]+/g, '_') || 'rewind';
}

/** Attach disk on a picked or dropped file: the program starts again from reset with it, as a new VM. */
export async function attachDiskFile(app: AppState, file: PickedFile): Promise<void> {
  const bytes = await readPicked(app, file);
  if (!bytes) return;
  if (bytes.length === 0) {
    app.message = `${file.name} is empty: a disk image needs at least one sector`;
    return;
  }
  const program = app.programName.replace(/ \+ .*$/, '');
  await app.attachDisk(bytes, `${program} + ${file.name}`);
}

/** Downloads the disk as it is at the current position. */
export async function downloadDisk(app: AppState, vmName: string): Promise<void> {
  const disk = await app.readDisk();
  if (disk) downloadBytes(disk.bytes, `${fileStem(vmName)}-disk-at-${disk.position}.img`);
}
