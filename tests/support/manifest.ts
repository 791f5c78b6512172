/** The bundled guests' test list (guests/expected/manifest.tsv) and the ISA tests (guests/isa/build/*.elf). */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = new URL('../../', import.meta.url).pathname;

export interface GuestCase {
  name: string;
  elf: string;
  input: Uint8Array;
  /** QEMU's recorded output, when committed. */
  expectedOutput?: string;
  exit: number;
  disk?: string;
}

export function guestCases(): GuestCase[] {
  const lines = readFileSync(join(ROOT, 'guests/expected/manifest.tsv'), 'utf8').split('\n');
  const out: GuestCase[] = [];
  for (const line of lines) {
    if (!line.trim() || line.startsWith('#')) continue;
    const [name, elf, input, exit, disk] = line.split('\t') as [string, string, string, string, string];
    const expectedPath = join(ROOT, 'guests/expected', `${name}.out`);
    out.push({
      name,
      elf: join(ROOT, 'guests/build', elf),
      input: new Uint8Array(readFileSync(join(ROOT, 'guests/expected', input))),
      expectedOutput: existsSync(expectedPath) ? readFileSync(expectedPath, 'latin1') : undefined,
      exit: Number(exit),
      disk: disk && disk !== '-' ? join(ROOT, 'guests', disk) : undefined,
    });
  }
  return out;
}

/** ISA test ELFs; names ending in -qemu-deviation follow the spec where QEMU does not. */
export function isaCases(): { name: string; elf: string; qemuDeviation: boolean }[] {
  const dir = join(ROOT, 'guests/isa/build');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.elf'))
    .sort()
    .map((f) => ({ name: f.replace(/\.elf$/, ''), elf: join(dir, f), qemuDeviation: f.includes('qemu-deviation') }));
}
