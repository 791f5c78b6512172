/**
 * Linux (Sv32, S-mode, timer and UART interrupts, virtio DMA into code
 * pages) booted under both executors: the same console bytes and the same
 * state hashes at every checkpoint, through boot and typed commands.
 */
import { describe, expect, it } from 'vitest';
import { StateHasher } from '../../storage/statehash.js';
import { PROMPT, bootLinux, linuxMissing } from '../linux/linux-run.js';
import { type Executor, useExecutor } from './support.js';

const missing = linuxMissing();
const CHECKPOINT = 5_000_000;
const BUDGET = 1_500_000_000;

function boot(executor: Executor): { hashes: string[]; output: string; position: number } {
  const s = bootLinux();
  s.machine.type(new TextEncoder().encode('ls /\nmount\nls /mnt\necho jit\n'));
  const hasher = new StateHasher(s.machine);
  const hashes: string[] = [];
  let prompts = 0;
  while (s.machine.position < BUDGET) {
    useExecutor(s.machine, executor);
    const r = s.machine.run(CHECKPOINT);
    hashes.push(`${s.machine.position} ${hasher.stateHash()}`);
    prompts = s.output().split(PROMPT).length - 1;
    if (prompts >= 5 || r.reason !== 'limit') break;
  }
  return { hashes, output: s.output(), position: s.machine.position };
}

describe.skipIf(missing !== null)('Linux under the JIT', () => {
  it("boots and runs commands with the interpreter's state hashes at every checkpoint", () => {
    const a = boot('interp');
    const b = boot('jit');
    expect(a.output.split(PROMPT).length - 1, a.output.slice(-400)).toBe(5);
    expect(b.output).toBe(a.output);
    expect(b.hashes).toEqual(a.hashes);
  }, 900_000);
});
