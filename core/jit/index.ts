/** The JIT: a second executor over the interpreter's decoded records (docs/jit.md). */
export { Jit, attachJit, detachJit, jitSupported, probeCodegen } from './jit.js';
export type { JitOptions, JitSupport } from './jit.js';
