/**
 * Load program: what it takes. An ELF loads as a new program; a raw image
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

/** Load program on a picked file: `openVmi` opens a .vmi as Import does. */
export async function loadProgramFile(
  app: AppState,
  file: PickedFile,
  openVmi: ((file: PickedFile) => Promise<void>) | undefined,
): Promise<void> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await file.arrayBuffer());
  } catch (e) {
    app.message = `Could not read ${file.name}: ${e instanceof Error ? e.message : String(e)}`;
    return;
  }
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
