// MIPS of the interpreter, the JIT and QEMU on CPU-bound guests, measured in the same run.
// Usage: node bench/jit.mjs [guest...]   (after npm run build:cli)
// With no guest: guests/bench (one row, as before), then the suite (guests/suite/) at 10^8 and
// 10^9 instructions, one row per workload. Named guests of the suite get the table; others the
// guests/bench row format.
// Every Rewind run is a fresh process (so a run pays its own warm-up, V8's included, as a user's
// run would); figures are the best of BENCH_RUNS runs (default 3) by the wall clock, and by the
// CPU time of the thread that runs the guest (steadier on a loaded host). QEMU (TCG, no icount,
// so its instruction count is ours) is timed as a whole process, start-up included; its start-up
// alone (the guest with 0 iterations) is given too.
// Environment: BENCH_RUNS=n; SUITE_SCALES=1e8,1e9 (instructions per run); JIT_HOT=n, JIT_WARM=n
// (JIT thresholds); BENCH_INTERP_FULL=1 runs the interpreter at every scale (by default it is
// measured at the smallest scale only, and that MIPS figure stands for the larger ones).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SUITE, fmt, guestBytes, guestPath, load, suiteInput, threadSeconds } from './common.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const self = fileURLToPath(import.meta.url);

/** One run in this process: node bench/jit.mjs --child NAME EXECUTOR INPUT; prints a JSON line. */
async function child(name, executor, input) {
  const { Machine } = await load('core/machine.js');
  const { parseElf } = await load('core/loader.js');
  const { attachJit } = await load('core/jit/index.js');
  const m = new Machine({ program: parseElf(guestBytes(name), 0x80000000, 64 << 20), executor: 'interp' });
  let out = '';
  m.onOutput = (b) => (out += String.fromCharCode(b));
  if (executor === 'jit') {
    const options = {};
    if (process.env.JIT_HOT) options.hot = Number(process.env.JIT_HOT);
    if (process.env.JIT_WARM) options.warm = Number(process.env.JIT_WARM);
    const r = attachJit(m.cpu, options);
    if (!r.ok) throw new Error(r.reason);
  }
  if (input) m.type(Buffer.from(input.replace(/\\n/g, '\n')));
  const t = performance.now();
  const t0 = threadSeconds();
  while (!m.power) if (m.run(10_000_000).reason === 'idle') break;
  const seconds = (performance.now() - t) / 1000;
  const thread = t0 === null ? null : threadSeconds() - t0;
  console.log(JSON.stringify({ steps: m.position, seconds, thread, out, power: m.power, stats: m.cpu.jit?.stats }));
}

function rewind(name, executor, input) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    const r = spawnSync(process.execPath, [self, '--child', name, executor, input.replace(/\n/g, '\\n')], {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    });
    const whole = (performance.now() - t) / 1000;
    if (r.status !== 0) throw new Error(`${name} on ${executor}: ${r.stderr}`);
    const o = JSON.parse(r.stdout.trim().split('\n').pop());
    if (o.power?.kind !== 'pass') throw new Error(`${name} on ${executor} did not pass: ${JSON.stringify(o)}`);
    runs.push({ ...o, whole, mips: o.steps / o.seconds / 1e6, cpuMips: o.thread ? o.steps / o.thread / 1e6 : null });
  }
  const best = runs.reduce((a, b) => (b.mips > a.mips ? b : a));
  best.bestWhole = Math.min(...runs.map((r) => r.whole));
  best.all = runs.map((r) => r.mips);
  best.bestCpu = Math.max(...runs.map((r) => r.cpuMips ?? 0));
  return best;
}

const isChild = process.argv[2] === '--child';
const hasQemu = !isChild && spawnSync('qemu-system-riscv32', ['--version']).status === 0;
/** Best wall-clock seconds of QEMU running the guest with this input, or null. */
function qemuSeconds(name, input) {
  let best = Infinity;
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    const r = spawnSync(
      'qemu-system-riscv32',
      ['-machine', 'virt', '-bios', 'none', '-kernel', guestPath(name), '-m', '64M'].concat([
        '-cpu',
        'rv32,f=off,d=off,h=off,sstc=off',
        '-display',
        'none',
        '-serial',
        'stdio',
        '-monitor',
        'none',
      ]),
      { input, timeout: 300_000 },
    );
    if (r.status !== 0) return null;
    best = Math.min(best, (performance.now() - t) / 1000);
  }
  return best;
}

function load1() {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

/** The guests/bench row, as this bench always printed it. */
function classic(name) {
  console.log(`guest ${name}: (load ${load1()})`);
  const r = {};
  for (const executor of ['interp', 'jit']) {
    const b = rewind(name, executor, '');
    r[executor] = b;
    const extra = b.stats
      ? `; ${b.stats.compiled} regions compiled (${b.stats.wasm} to WebAssembly), ${b.stats.invalidated} invalidated`
      : '';
    console.log(
      `  ${executor}: ${fmt(b.mips)} MIPS best of ${RUNS} (${b.all.map((m) => fmt(m)).join(', ')}), ${fmt(b.seconds, 2)} s; ` +
        `this thread's CPU time ${fmt(b.bestCpu)} MIPS${extra}`,
    );
  }
  console.log(`  ${r.jit.steps} instructions, output ${JSON.stringify(r.jit.out.trim())}`);
  if (r.interp.out !== r.jit.out || r.interp.steps !== r.jit.steps) console.log('  MISMATCH between executors!');
  if (!hasQemu) return;
  const q = qemuSeconds(name, '');
  if (q === null) return console.log('  qemu failed to run the guest');
  const qm = r.jit.steps / q / 1e6;
  console.log(
    `  qemu (TCG, start-up included): ${fmt(qm)} MIPS best of ${RUNS}; jit/QEMU = ${fmt(r.jit.mips / qm, 2)}`,
  );
}

const pad = (s, n) => String(s).padStart(n);

function suite(names) {
  const scales = (process.env.SUITE_SCALES ?? '1e8,1e9').split(',').map(Number);
  const interpAll = process.env.BENCH_INTERP_FULL === '1';
  console.log(
    `\nsuite (guests/suite/), best of ${RUNS}; MIPS by the wall clock (thread CPU in brackets); ` +
      `QEMU by the wall clock incl. start-up; ratio = JIT / QEMU (and against QEMU without its start-up); ` +
      `process = QEMU's whole process time / Rewind's (both with start-up, as a user runs them)`,
  );
  if (!interpAll) console.log(`interpreter measured at ${fmt(scales[0] / 1e6, 0)} M instructions only`);
  const startup = new Map();
  for (const scale of scales) {
    console.log(`\n${fmt(scale / 1e6, 0)} M instructions (load ${load1()}):`);
    console.log(
      `${'workload'.padEnd(10)}${pad('instructions', 13)}${pad('interp', 16)}${pad('JIT', 18)}${pad('QEMU', 9)}${pad('JIT/QEMU', 10)}${pad('excl.start', 12)}${pad('process', 9)}`,
    );
    for (const name of names) {
      const input = suiteInput(name, scale);
      const interp = interpAll || scale === scales[0] ? rewind(name, 'interp', input) : null;
      const jit = rewind(name, 'jit', input);
      if (interp && (interp.out !== jit.out || interp.steps !== jit.steps))
        console.log(`  ${name}: MISMATCH between executors!`);
      let q = '-',
        ratio = '-',
        ratio2 = '-',
        process = '-';
      if (hasQemu) {
        const s = qemuSeconds(name, input);
        if (!startup.has(name)) startup.set(name, qemuSeconds(name, '0\n') ?? 0);
        if (s !== null) {
          const qm = jit.steps / s / 1e6;
          const qm2 = jit.steps / Math.max(1e-3, s - startup.get(name)) / 1e6;
          q = fmt(qm, 0);
          ratio = fmt(jit.mips / qm, 2);
          ratio2 = fmt(jit.mips / qm2, 2);
          process = fmt(s / jit.bestWhole, 2);
        }
      }
      const i = interp ? `${fmt(interp.mips, 0)} (${fmt(interp.bestCpu, 0)})` : 'see above';
      console.log(
        `${name.padEnd(10)}${pad(jit.steps, 13)}${pad(i, 16)}${pad(`${fmt(jit.mips, 0)} (${fmt(jit.bestCpu, 0)})`, 18)}${pad(q, 9)}${pad(ratio, 10)}${pad(ratio2, 12)}${pad(process, 9)}`,
      );
    }
  }
}

if (isChild) {
  await child(process.argv[3], process.argv[4], process.argv[5] ?? '');
} else {
  const args = process.argv.slice(2);
  const inSuite = new Set(SUITE.map(([n]) => n));
  const classics = args.length === 0 ? ['bench'] : args.filter((n) => !inSuite.has(n));
  const suites = args.length === 0 ? [...inSuite] : args.filter((n) => inSuite.has(n));
  for (const name of classics) classic(name);
  if (suites.length > 0) suite(suites);
}
