// MIPS of a CPU-bound guest (default guests/bench) under both executors, and QEMU's when installed.
// Usage: node bench/jit.mjs [guest]   (after npm run build:cli)
import { spawnSync } from 'node:child_process';
import { fmt, guestBytes, guestPath, load } from './common.mjs';

const { Machine } = await load('core/machine.js');
const { parseElf } = await load('core/loader.js');
const { attachJit } = await load('core/jit/index.js');
const name = process.argv[2] ?? 'bench';
const elf = guestBytes(name);

function once(executor) {
  const m = new Machine({ program: parseElf(elf, 0x80000000, 64 << 20) });
  let out = '';
  m.onOutput = (b) => (out += String.fromCharCode(b));
  if (executor === 'jit') {
    const r = attachJit(m.cpu, process.env.JIT_HOT ? { hot: Number(process.env.JIT_HOT) } : {});
    if (!r.ok) throw new Error(r.reason);
  }
  const t = performance.now();
  const c = process.cpuUsage();
  while (!m.power) m.run(10_000_000);
  const s = (performance.now() - t) / 1000;
  const u = process.cpuUsage(c);
  const stats = m.cpu.jit?.stats;
  // CPU time as well: on a loaded host the wall clock says more about the neighbours.
  return { steps: m.position, seconds: s, mips: m.position / s / 1e6, cpuMips: m.position / (u.user + u.system), out, stats };
}

const results = {};
for (const executor of ['interp', 'jit']) {
  const runs = [once(executor), once(executor), once(executor)];
  const best = runs.reduce((a, b) => (b.mips > a.mips ? b : a));
  results[executor] = best;
  const extra = best.stats ? `, ${best.stats.compiled} blocks compiled, ${best.stats.invalidated} invalidated` : '';
  console.log(`${executor}: ${fmt(best.mips)} MIPS best of 3 (${runs.map((r) => fmt(r.mips)).join(', ')}), ${fmt(best.seconds, 2)} s; by CPU time ${fmt(best.cpuMips)} MIPS${extra}`);
}
const { interp, jit } = results;
console.log(`guest: ${name} (${jit.steps} instructions, output ${JSON.stringify(jit.out.trim())})`);
if (interp.out !== jit.out || interp.steps !== jit.steps) console.log('MISMATCH between executors!');
console.log(`jit/interp = ${fmt(jit.mips / interp.mips, 2)}×`);

const qemu = spawnSync('qemu-system-riscv32', ['--version']);
if (qemu.status === 0) {
  const t = performance.now();
  const r = spawnSync('qemu-system-riscv32', [
    '-machine', 'virt', '-bios', 'none', '-kernel', guestPath(name), '-m', '64M',
    '-display', 'none', '-serial', 'stdio', '-monitor', 'none',
  ], { timeout: 120_000 });
  const s = (performance.now() - t) / 1000;
  const mips = jit.steps / s / 1e6;
  console.log(`qemu (TCG, incl. start-up): ${fmt(mips)} MIPS, ${fmt(s, 2)} s, exit ${r.status}; jit/QEMU = ${fmt(jit.mips / mips, 3)}`);
} else {
  console.log('qemu-system-riscv32 not installed: no comparison');
}
