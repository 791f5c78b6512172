/** The whole in-process suite under the JIT: npx vitest run -c tests/jit/vitest.force-jit.config.ts */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('../../', import.meta.url)),
  test: {
    include: ['tests/**/*.test.ts'],
    setupFiles: ['tests/jit/force-jit.ts'],
    testTimeout: 120_000,
    hookTimeout: 240_000,
  },
});
