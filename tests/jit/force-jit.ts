/**
 * A vitest setup file that puts a JIT on every hart, so that the whole
 * suite runs under the JIT executor:
 *   npx vitest run -c tests/jit/vitest.force-jit.config.ts
 * (in-process tests only; CLI subprocesses keep their own executor).
 */
import { Cpu } from '../../core/cpu.js';
import { attachJit } from '../../core/jit/index.js';

const run = Cpu.prototype.run;
Cpu.prototype.run = function (this: Cpu, limit: number, interp = false, from = 0): number {
  // Compiling sooner than by default, so that short tests run compiled code too.
  if (this.jit === undefined && !interp) attachJit(this, { hot: 32 });
  return run.call(this, limit, interp, from);
};
