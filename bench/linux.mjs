// Linux figures: instructions and seconds from reset to the shell prompt
// (best of 3) under the interpreter and the JIT, and the size of a .vmi
// recording of the boot. Needs npm run build:linux (the guest is looked
// for in $REWIND_LINUX_DIR or .cache/linux) and npm run build:cli.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fmt, load } from './common.mjs';

const { linuxDir } = await load('src/node/boot.js');
const { Session } = await load('session/session.js');
const { writeVmi } = await load('storage/index.js');

const PROMPT = 'rewind:/# ';
const BUDGET = 400_000_000;
const dir = linuxDir();
for (const f of ['Image', 'initramfs.cpio', 'disk.img']) {
  if (!existsSync(join(dir, f))) {
    console.log(`no Linux guest in ${dir} (${f} missing): run npm run build:linux first`);
    process.exit(1);
  }
}
const file = (name) => new Uint8Array(readFileSync(join(dir, name)));
const spec = (executor) => ({
  kind: 'linux',
  image: file('Image'),
  initrd: file('initramfs.cpio'),
  disk: file('disk.img'),
  ramSize: 64 << 20,
  executor,
});

/** Runs the session in slices until the prompt is printed; the position is the one of the prompt's last byte. */
function toPrompt(session) {
  let tail = '';
  let at = -1;
  session.onOutput = (b, position) => {
    tail = (tail + String.fromCharCode(b)).slice(-PROMPT.length);
    if (at < 0 && tail === PROMPT) at = position;
  };
  while (at < 0) {
    if (session.position >= BUDGET || session.machine.power)
      throw new Error(`no prompt after ${session.position} instructions`);
    session.run(2_000_000);
  }
  return at;
}

function boot(executor) {
  const s = Session.create(spec(executor), { record: false });
  const m = s.machine;
  if (executor === 'jit' && m.executorNote) throw new Error(`the JIT is not available: ${m.executorNote}`);
  const t = performance.now();
  const c = process.cpuUsage();
  const steps = toPrompt(s);
  const u = process.cpuUsage(c);
  // CPU time as well: on a loaded host the wall clock says more about the neighbours.
  return { steps, seconds: (performance.now() - t) / 1000, cpu: (u.user + u.system) / 1e6, jit: m.cpu.jit?.stats };
}

const results = {};
for (const executor of ['interp', 'jit']) {
  const runs = [boot(executor), boot(executor), boot(executor)];
  const best = runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  results[executor] = best;
  console.log(
    `${executor}: ${best.steps} instructions to the prompt in ${fmt(best.seconds, 2)} s best of 3 ` +
      `(${runs.map((r) => fmt(r.seconds, 2)).join(', ')}), ${fmt(best.steps / best.seconds / 1e6)} MIPS; CPU ${fmt(best.cpu, 2)} s (target ≤ 5 s)` +
      (best.jit ? `; ${best.jit.compiled} blocks compiled, ${best.jit.invalidated} invalidated` : ''),
  );
}
if (results.interp.steps !== results.jit.steps)
  console.log(`MISMATCH: the executors reach the prompt at different positions`);
console.log(`jit/interp = ${fmt(results.interp.seconds / results.jit.seconds, 2)}×`);

// The recording: the boot under Session, a checkpoint at the prompt, written as a .vmi.
const session = Session.create(spec('interp'));
const t = performance.now();
toPrompt(session);
session.checkpointHere();
const recorded = (performance.now() - t) / 1000;
const t2 = performance.now();
const vmi = writeVmi(session.toRecording());
const written = (performance.now() - t2) / 1000;
const base = ['Image', 'initramfs.cpio', 'disk.img'].map((f) => file(f).length).reduce((a, b) => a + b);
console.log(
  `boot recording: ${fmt(vmi.length / 2 ** 20, 2)} MiB .vmi (kernel + initramfs + disk ${fmt(base / 2 ** 20, 2)} MiB uncompressed), ` +
    `${[...session.checkpoints.all()].length} checkpoints to position ${session.position}; recorded in ${fmt(recorded, 2)} s, written in ${fmt(written, 2)} s`,
);
