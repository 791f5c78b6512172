// MIPS of CPU-bound guests (default guests/bench) under both executors, and QEMU's when installed.
// Usage: node bench/jit.mjs [guest...]   (after npm run build:cli)
// BENCH_RUNS=n sets the runs per figure (best of n, default 3); JIT_HOT=n the JIT's compile threshold,
// JIT_WARM=n its warm-page threshold (interpreter steps in a page).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fmt, guestBytes, guestPath, load } from './common.mjs';

const { Machine } = await load('core/machine.js');
const { parseElf } = await load('core/loader.js');
const { attachJit } = await load('core/jit/index.js');
const names = process.argv.length > 2 ? process.argv.slice(2) : ['bench'];
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

/**
 * CPU seconds of this thread (Linux): what the guest itself cost, without V8's compiler
 * threads or the neighbours' load; null elsewhere.
 */
const statFile = `/proc/self/task/${process.pid}/stat`;
function threadSeconds() {
  if (!existsSync(statFile)) return null;
  const fields = readFileSync(statFile, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function once(elf, executor) {
  const m = new Machine({ program: parseElf(elf, 0x80000000, 64 << 20), executor: 'interp' });
  let out = '';
  m.onOutput = (b) => (out += String.fromCharCode(b));
  if (executor === 'jit') {
    const options = {};
    if (process.env.JIT_HOT) options.hot = Number(process.env.JIT_HOT);
    if (process.env.JIT_WARM) options.warm = Number(process.env.JIT_WARM);
    const r = attachJit(m.cpu, options);
    if (!r.ok) throw new Error(r.reason);
  }
  const t = performance.now();
  const c = process.cpuUsage();
  const t0 = threadSeconds();
  while (!m.power) m.run(10_000_000);
  const s = (performance.now() - t) / 1000;
  const u = process.cpuUsage(c);
  const main = t0 === null ? null : m.position / (threadSeconds() - t0) / 1e6;
  const stats = m.cpu.jit?.stats;
  // CPU time as well (the whole process, V8's compiler threads included): on a loaded host
  // the wall clock says more about the neighbours.
  return {
    steps: m.position,
    seconds: s,
    mips: m.position / s / 1e6,
    cpuMips: m.position / (u.user + u.system),
    main,
    out,
    stats,
  };
}

function qemu(name, steps) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    const r = spawnSync(
      'qemu-system-riscv32',
      [
        '-machine',
        'virt',
        '-bios',
        'none',
        '-kernel',
        guestPath(name),
        '-m',
        '64M',
        '-display',
        'none',
        '-serial',
        'stdio',
        '-monitor',
        'none',
      ],
      { timeout: 120_000 },
    );
    if (r.status !== 0) return null;
    runs.push(steps / ((performance.now() - t) / 1000) / 1e6);
  }
  return runs;
}

const hasQemu = spawnSync('qemu-system-riscv32', ['--version']).status === 0;
for (const name of names) {
  const elf = guestBytes(name);
  const results = {};
  console.log(`guest ${name}:`);
  // Machines of one host share the JIT's generated code, so the first JIT run also pays for compiling it.
  for (const executor of ['interp', 'jit']) {
    const runs = [];
    for (let i = 0; i < RUNS; i++) runs.push(once(elf, executor));
    const best = runs.reduce((a, b) => (b.mips > a.mips ? b : a));
    const cpu = Math.max(...runs.map((r) => r.cpuMips));
    const main =
      runs[0].main === null ? '' : `, this thread's CPU time ${fmt(Math.max(...runs.map((r) => r.main)))} MIPS`;
    results[executor] = best;
    const extra = best.stats ? `; ${best.stats.compiled} regions compiled, ${best.stats.invalidated} invalidated` : '';
    console.log(
      `  ${executor}: ${fmt(best.mips)} MIPS best of ${RUNS} (${runs.map((r) => fmt(r.mips)).join(', ')}), ${fmt(best.seconds, 2)} s; ` +
        `by CPU time ${fmt(cpu)} MIPS${main}${extra}`,
    );
  }
  const { interp, jit } = results;
  console.log(`  ${jit.steps} instructions, output ${JSON.stringify(jit.out.trim())}`);
  if (interp.out !== jit.out || interp.steps !== jit.steps) console.log('  MISMATCH between executors!');
  console.log(`  jit/interp = ${fmt(jit.mips / interp.mips, 2)}×`);
  if (!hasQemu) {
    console.log('  qemu-system-riscv32 not installed: no comparison');
    continue;
  }
  const q = qemu(name, jit.steps);
  if (q === null) {
    console.log('  qemu failed to run the guest');
    continue;
  }
  const best = Math.max(...q);
  console.log(
    `  qemu (TCG, start-up included): ${fmt(best)} MIPS best of ${RUNS} (${q.map((m) => fmt(m)).join(', ')}); jit/QEMU = ${fmt(jit.mips / best, 2)}`,
  );
}
