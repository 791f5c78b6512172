// The floor of a recording's cost (issue #13): what a recorder that did nothing on the guest's
// thread but copy pages would cost. Each run is a fresh process; for each workload, alternately:
// - run: the guest alone, as `rewind run` runs it;
// - floor: at each of the recorder's periodic checkpoints (every 10^8 instructions, or as many
//   of them as fit in 150 ms of run for a busy guest, as session.ts spaces them), the guest's
//   thread copies its dirty pages into a shared ring made ready beforehand, and a worker
//   thread writes them to a file as they are (no hashing, no page maps, no encoding), syncing
//   every 16 MiB, as the page file's thread does. The pages stay dirty (so every page written
//   since the start is copied each time: more than a recorder stores, never less).
// Then `rewind record` (as bench/long.mjs runs it) for the same instructions.
// Prints the best of FLOOR_RUNS (default 3) of each: run, floor ÷ run, record ÷ run.
// Usage: node bench/floor.mjs [workload…] (default dirty stream alloc; a workload of the suite, or
// PATH.elf:COUNT for a program of one's own that reads COUNT as a line), FLOOR_SCALE (default 10^9).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { fmt, guestPath, load, root, suiteInput } from './common.mjs';

const INTERVAL = 1e8;
const REPLAY_MS = 150;
const RING_PAGES = 16384;
const PAGE = 4096;

// The worker: writes each page handed over to the file, in order; syncs every 16 MiB when it has caught up.
const WRITER = `
const { workerData } = require('node:worker_threads');
const { openSync, writeSync, fdatasyncSync, closeSync } = require('node:fs');
const { ring, control, path } = workerData;
const pages = new Uint8Array(ring);
const slots = pages.length / ${PAGE};
const fd = openSync(path, 'w');
let done = 0;
let unsynced = 0;
for (;;) {
  const handed = Atomics.load(control, 0);
  if (done === handed) {
    if (Atomics.load(control, 2)) break;
    Atomics.wait(control, 0, handed, 50);
    continue;
  }
  const slot = done % slots;
  const n = Math.min(handed - done, slots - slot, 256);
  writeSync(fd, pages, slot * ${PAGE}, n * ${PAGE});
  done += n;
  unsynced += n * ${PAGE};
  Atomics.store(control, 1, done);
  Atomics.notify(control, 1);
  if (unsynced >= 16 << 20 && Atomics.load(control, 0) === done) {
    fdatasyncSync(fd);
    unsynced = 0;
  }
}
fdatasyncSync(fd);
closeSync(fd);
Atomics.store(control, 3, 1);
Atomics.notify(control, 3);
`;

/** Child: runs `name` for `steps` with the floor's copies or without; prints the seconds. */
async function child(program, steps, mode, inputPath, out) {
  const { Session } = await load('session/session.js');
  const { bootSpec } = await load('src/node/boot.js');
  const session = Session.create(bootSpec({ program }), { record: false });
  session.script(readFileSync(inputPath));
  const m = session.machine;
  const copying = mode === 'floor';
  const ring = new SharedArrayBuffer(copying ? RING_PAGES * PAGE : 0);
  const control = new Int32Array(new SharedArrayBuffer(16));
  const slots = new Uint8Array(ring);
  let worker = null;
  if (copying) {
    // In place before the run, as the page file's thread readies its ring while the guest runs.
    slots.fill(1);
    worker = new Worker(WRITER, { eval: true, workerData: { ring, control, path: out } });
    await new Promise((resolve) => worker.once('online', resolve));
  }
  const t = performance.now();
  let handed = 0;
  let spacing = INTERVAL;
  let next = INTERVAL;
  let ranSince = 0;
  let last = 0;
  while (m.position < steps && !m.power) {
    const before = performance.now();
    session.run(Math.min(2_000_000, steps - m.position));
    ranSince += performance.now() - before;
    if (!copying || m.position < next) continue;
    const pages = m.ram.dirtyPages();
    const bytes = m.ram.bytes;
    for (const i of pages) {
      while (handed - Atomics.load(control, 1) >= RING_PAGES) Atomics.wait(control, 1, Atomics.load(control, 1), 10);
      slots.set(bytes.subarray(i * PAGE, (i + 1) * PAGE), (handed % RING_PAGES) * PAGE);
      handed++;
    }
    Atomics.store(control, 0, handed);
    Atomics.notify(control, 0);
    // The recorder's spacing: a busy guest (4 MiB or more changed) every 150 ms of its run, in tenths of an
    // interval, from one interval to 8.
    const grain = INTERVAL / 10;
    const fits = Math.floor((REPLAY_MS * (m.position - last)) / (ranSince * grain) + 1e-9) * grain;
    spacing = pages.length >= 1024 ? Math.min(8 * INTERVAL, Math.max(INTERVAL, fits)) : INTERVAL;
    last = m.position;
    next = m.position + spacing;
    ranSince = 0;
  }
  if (worker) {
    Atomics.store(control, 2, 1);
    Atomics.notify(control, 0);
    while (Atomics.load(control, 3) === 0) Atomics.wait(control, 3, 0, 50);
    await worker.terminate();
  }
  console.log(JSON.stringify({ seconds: (performance.now() - t) / 1000 }));
}

if (process.argv[2] === '--child') {
  const [, , , program, steps, mode, inputPath, out] = process.argv;
  await child(program, Number(steps), mode, inputPath, out);
  process.exit(0);
}

const SCALE = Number(process.env.FLOOR_SCALE ?? 1e9);
const RUNS = Number(process.env.FLOOR_RUNS ?? 3);
const names = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['dirty', 'stream', 'alloc'];
const dir = mkdtempSync(join(tmpdir(), 'rewind-bench-floor-'));
const self = fileURLToPath(import.meta.url);

function timed(args) {
  const t = performance.now();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  if (![0, 124].includes(r.status)) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  return { seconds: (performance.now() - t) / 1000, stdout: r.stdout };
}

console.log(`the floor of recording, ${SCALE.toExponential(0)} instructions, best of ${RUNS} (fresh processes)`);
console.log('workload   run s  floor÷run  record÷run');
for (const workload of names) {
  const [path, count] = workload.split(':');
  const name = count === undefined ? workload : basename(path, '.elf');
  const program = count === undefined ? guestPath(name) : path;
  const input = join(dir, 'input');
  writeFileSync(input, count === undefined ? suiteInput(name, SCALE) : `${count}\n`);
  const best = { run: Infinity, floor: Infinity, runCli: Infinity, record: Infinity };
  for (let i = 0; i < RUNS; i++) {
    for (const mode of ['run', 'floor']) {
      const r = timed([self, '--child', program, String(SCALE), mode, input, join(dir, 'pages')]);
      best[mode] = Math.min(best[mode], JSON.parse(r.stdout).seconds);
    }
    const cli = [`${root}bin/rewind.js`];
    const max = ['--max-instructions', String(SCALE), '--input-file', input];
    best.runCli = Math.min(best.runCli, timed([...cli, 'run', program, ...max]).seconds);
    best.record = Math.min(best.record, timed([...cli, 'record', program, ...max, '-o', join(dir, 'r.vmi')]).seconds);
    rmSync(join(dir, 'r.vmi'));
  }
  console.log(
    `${name.padEnd(9)} ${fmt(best.run, 2).padStart(6)} ${fmt(best.floor / best.run, 2).padStart(10)} ${fmt(best.record / best.runCli, 2).padStart(11)}`,
  );
}
rmSync(dir, { recursive: true, force: true });
