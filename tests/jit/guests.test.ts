/**
 * Every bundled guest and every ISA test under both executors: equal output,
 * equal stop, and equal state hashes at every checkpoint.
 */
import { describe, expect, it } from 'vitest';
import { guestCases, isaCases } from '../support/manifest.js';
import { trace } from './support.js';

describe("the JIT gives the interpreter's runs", () => {
  for (const c of isaCases()) {
    it(`ISA ${c.name}`, () => {
      const opts = { every: 20_000, maxSteps: 50_000_000 };
      const a = trace(c.elf, 'interp', opts);
      const b = trace(c.elf, 'jit', opts);
      expect(b.output).toContain('PASS');
      expect(b).toEqual(a);
    });
  }
  for (const c of guestCases()) {
    it(`guest ${c.name}`, () => {
      const opts = { input: c.input, disk: c.disk, every: c.name === 'bench' ? 5_000_000 : 97_003 };
      const a = trace(c.elf, 'interp', opts);
      const b = trace(c.elf, 'jit', opts);
      expect(b.output).toBe(a.output);
      expect(b.checkpoints.length).toBe(a.checkpoints.length);
      expect(b).toEqual(a);
    }, 120_000);
  }
});
