/** Running the built `rewind` command as a user would. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './manifest.js';

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function rewind(args: string[], input?: Uint8Array | string, timeoutMs = 60_000): CliResult {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/rewind.js'), ...args], {
    input: input ?? '',
    timeout: timeoutMs,
    maxBuffer: 64 << 20,
    cwd: ROOT,
  });
  return { status: r.status ?? -1, stdout: r.stdout.toString('latin1'), stderr: r.stderr.toString('utf8') };
}

export const tempDir = (): string => mkdtempSync(join(tmpdir(), 'rewind-test-'));
export const guest = (name: string): string => join(ROOT, 'guests/build', `${name}.elf`);
export const expected = (name: string): string => join(ROOT, 'guests/expected', name);
