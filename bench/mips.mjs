// Interpreter speed on the CPU-bound guest (guests/bench), and QEMU's on the same ELF when installed.
import { spawnSync } from 'node:child_process';
import { fmt, guestBytes, guestPath, load } from './common.mjs';

const { Machine } = await load('core/machine.js');
const { parseElf } = await load('core/loader.js');
const name = process.argv[2] ?? 'bench';
const elf = guestBytes(name);

function once() {
  const m = new Machine({ program: parseElf(elf, 0x80000000, 64 << 20), executor: 'interp' });
  let out = '';
  m.onOutput = (b) => (out += String.fromCharCode(b));
  const t = performance.now();
  while (!m.power) m.run(10_000_000);
  const s = (performance.now() - t) / 1000;
  return { steps: m.position, seconds: s, mips: m.position / s / 1e6, out };
}

const runs = [once(), once(), once()];
const best = runs.reduce((a, b) => (b.mips > a.mips ? b : a));
console.log(`guest: ${name} (${best.steps} instructions, output ${JSON.stringify(best.out.trim())})`);
console.log(
  `interpreter: ${fmt(best.mips)} MIPS best of 3 (${runs.map((r) => fmt(r.mips)).join(', ')}), ${fmt(best.seconds, 2)} s`,
);

const qemu = spawnSync('qemu-system-riscv32', ['--version']);
if (qemu.status === 0) {
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
  const s = (performance.now() - t) / 1000;
  const mips = best.steps / s / 1e6;
  console.log(
    `qemu (TCG, incl. start-up): ${fmt(mips)} MIPS, ${fmt(s, 2)} s, exit ${r.status}; Rewind/QEMU = ${fmt(best.mips / mips, 3)}`,
  );
} else {
  console.log('qemu-system-riscv32 not installed: no comparison');
}
