// The CLI as a few files (dist/cli/): a process that runs `rewind` loads them instead of the
// hundred-odd modules tsc writes, some 20 ms less of every command's start. Chunks split at the
// commands' dynamic imports, so a command still loads only what it runs. The page file's worker
// is an entry of its own beside them (storage/pagefile.ts finds it next to its module).
import { rmSync } from 'node:fs';

rmSync(new URL('./dist/cli', import.meta.url), { recursive: true, force: true });

export default {
  input: { rewind: 'dist/src/cli/main.js', 'pagefile-worker': 'dist/storage/pagefile-worker.js' },
  platform: 'node',
  external: [/^node:/, 'fflate', 'msgpackr', 'immer'],
  output: { dir: 'dist/cli', format: 'esm', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' },
};
