/**
 * The registers the stub shows gdb, and the target description
 * (qXfer:features:read:target.xml) that names and numbers them.
 *
 * Numbering follows gdb's RISC-V convention: x0..x31 are 0..31, pc is 32,
 * (33..64 would be the FPU registers, which this machine has not), a CSR
 * numbered c is 65 + c, and the virtual `priv` register is 65 + 4096. The
 * `g` packet carries x0..x31 and pc; everything else goes through `p`.
 */
import { CSR_NAMES } from '../../core/csr.js';
import { REG_NAMES } from '../../core/isa/disasm.js';

export const PC_REGNUM = 32;
export const CSR_REGNUM_BASE = 65;
export const PRIV_REGNUM = CSR_REGNUM_BASE + 4096;
/** Registers in a `g` packet: x0..x31 and pc. */
export const G_REGISTERS = 33;

/** gdb's names for x0..x31: the ABI names, with x8 as gdb's riscv target calls it (fp, not s0). */
export const ABI_NAMES = REG_NAMES.map((n) => (n === 's0' ? 'fp' : n));

/** The CSRs shown to gdb: every CSR the hart implements, by number. */
export const DEBUG_CSRS: readonly { num: number; name: string }[] = [...CSR_NAMES]
  .map(([num, name]) => ({ num, name }))
  .sort((a, b) => a.num - b.num);

function xReg(name: string, regnum: number, type: string): string {
  return `    <reg name="${name}" bitsize="32" type="${type}" regnum="${regnum}"/>`;
}

/** The target description document. */
export function targetXml(): string {
  const cpu = ABI_NAMES.map((n, i) => xReg(n, i, i === 1 ? 'code_ptr' : i === 2 || i === 8 ? 'data_ptr' : 'int'));
  cpu.push(xReg('pc', PC_REGNUM, 'code_ptr'));
  const csrs = DEBUG_CSRS.map(
    (c) => `    <reg name="${c.name}" bitsize="32" type="int" regnum="${CSR_REGNUM_BASE + c.num}" save-restore="no"/>`,
  );
  return [
    '<?xml version="1.0"?>',
    '<!DOCTYPE target SYSTEM "gdb-target.dtd">',
    '<target version="1.0">',
    '  <architecture>riscv:rv32</architecture>',
    '  <feature name="org.gnu.gdb.riscv.cpu">',
    ...cpu,
    '  </feature>',
    '  <feature name="org.gnu.gdb.riscv.csr">',
    ...csrs,
    '  </feature>',
    '  <feature name="org.gnu.gdb.riscv.virtual">',
    `    <reg name="priv" bitsize="32" type="int" regnum="${PRIV_REGNUM}" save-restore="no"/>`,
    '  </feature>',
    '</target>',
    '',
  ].join('\n');
}
