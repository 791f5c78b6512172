/**
 * Block compiler: turns a straight run of decoded records (core/isa/decode.ts)
 * into the source of a JS function. Guest registers live in locals inside
 * the block; memory accesses inline the interpreter's TLB fast path and call
 * the interpreter's own slow paths (`Cpu.load`, `Cpu.store`, `Cpu.touch`)
 * for everything else, so the semantics of anything unusual stay in one place.
 *
 * A compiled function is `(pc0, n0, budget) => steps`:
 * - pc0: the virtual pc of the block's first instruction (a block is keyed by
 *   physical page, and may be mapped at several virtual addresses);
 * - n0: steps already run in this slice (slow paths need "first of slice");
 * - budget: steps it may run (≥ the block's length); a block that branches to
 *   itself loops while another whole iteration fits.
 * It returns the steps it ran, with registers written back and cpu.pc set;
 * it sets `J.stop` when the slice must end (a trap, MMIO, a retry, a watchpoint).
 */
import { Op } from '../isa/table.js';
import { FIELD_COMPRESSED } from '../isa/decode.js';

/** One instruction of a block: decoded fields and immediate, and its byte offset from the block's start. */
export interface BlockInsn {
  fields: number;
  imm: number;
  delta: number;
}

const R = (r: number): string => (r === 0 ? '0' : `r${r}`);

/** Ops the compiler handles; anything else ends a block before it (left to the interpreter). */
export function compilable(op: number): boolean {
  return (op >= Op.lui! && op <= Op.and!) || op === Op.fence || (op >= Op.mul! && op <= Op.remu!) || op === Op['fence.i'];
}

/** Ops that end a block after them (control transfers). */
export function endsBlock(op: number): boolean {
  return op >= Op.jal! && op <= Op.bgeu!;
}

const LOADS: Record<number, { size: number; view: string; shift: number }> = {
  [Op.lb!]: { size: 1, view: 'mem8s', shift: 0 },
  [Op.lh!]: { size: 2, view: 'mem16s', shift: 1 },
  [Op.lw!]: { size: 4, view: 'mem32', shift: 2 },
  [Op.lbu!]: { size: 1, view: 'mem8', shift: 0 },
  [Op.lhu!]: { size: 2, view: 'mem16', shift: 1 },
};
const STORES: Record<number, { size: number; view: string; shift: number }> = {
  [Op.sb!]: { size: 1, view: 'mem8', shift: 0 },
  [Op.sh!]: { size: 2, view: 'mem16', shift: 1 },
  [Op.sw!]: { size: 4, view: 'mem32', shift: 2 },
};

const BRANCH: Record<number, (a: string, b: string) => string> = {
  [Op.beq!]: (a, b) => `${a} === ${b}`,
  [Op.bne!]: (a, b) => `${a} !== ${b}`,
  [Op.blt!]: (a, b) => `${a} < ${b}`,
  [Op.bge!]: (a, b) => `${a} >= ${b}`,
  [Op.bltu!]: (a, b) => `${a} >>> 0 < ${b} >>> 0`,
  [Op.bgeu!]: (a, b) => `${a} >>> 0 >= ${b} >>> 0`,
};

function readsRs1(op: number): boolean {
  return op !== Op.lui && op !== Op.auipc && op !== Op.jal && op !== Op.fence && op !== Op['fence.i'];
}

function readsRs2(op: number): boolean {
  return op in BRANCH || op in STORES || (op >= Op.add! && op <= Op.and!) || (op >= Op.mul! && op <= Op.remu!);
}

/** Register-to-register and immediate ALU ops: the int32 value written to rd. */
function alu(op: number, a: string, b: string, imm: number): string | null {
  switch (op) {
    case Op.addi: return `(${a} + ${imm}) | 0`;
    case Op.slti: return `${a} < ${imm} ? 1 : 0`;
    case Op.sltiu: return `${a} >>> 0 < ${imm >>> 0} ? 1 : 0`;
    case Op.xori: return `${a} ^ ${imm}`;
    case Op.ori: return `${a} | ${imm}`;
    case Op.andi: return `${a} & ${imm}`;
    case Op.slli: return `${a} << ${imm}`;
    case Op.srli: return `(${a} >>> ${imm}) | 0`;
    case Op.srai: return `${a} >> ${imm}`;
    case Op.add: return `(${a} + ${b}) | 0`;
    case Op.sub: return `(${a} - ${b}) | 0`;
    case Op.sll: return `${a} << ${b}`;
    case Op.slt: return `${a} < ${b} ? 1 : 0`;
    case Op.sltu: return `${a} >>> 0 < ${b} >>> 0 ? 1 : 0`;
    case Op.xor: return `${a} ^ ${b}`;
    case Op.srl: return `(${a} >>> ${b}) | 0`;
    case Op.sra: return `${a} >> ${b}`;
    case Op.or: return `${a} | ${b}`;
    case Op.and: return `${a} & ${b}`;
    case Op.mul: return `Math.imul(${a}, ${b})`;
    case Op.mulh: return `mulh(${a}, ${b})`;
    case Op.mulhsu: return `mulhsu(${a}, ${b})`;
    case Op.mulhu: return `mulhu(${a}, ${b})`;
    // Division by zero and overflow as the unprivileged spec's "Division Operations" table.
    case Op.div: return `${b} === 0 ? -1 : ${a} === -2147483648 && ${b} === -1 ? ${a} : (${a} / ${b}) | 0`;
    case Op.divu: return `${b} === 0 ? -1 : ((${a} >>> 0) / (${b} >>> 0)) | 0`;
    case Op.rem: return `${b} === 0 ? ${a} : ${a} === -2147483648 && ${b} === -1 ? 0 : (${a} % ${b}) | 0`;
    case Op.remu: return `${b} === 0 ? ${a} : ((${a} >>> 0) % (${b} >>> 0)) | 0`;
    default: return null;
  }
}

/** A basic block of a region: its instructions and where it starts and ends in the page. */
export interface BasicBlock {
  /** Byte offset in the page of the first instruction. */
  start: number;
  /** Byte offset just past the last instruction. */
  end: number;
  insns: BlockInsn[];
}

/**
 * The body of a region function: basic blocks of one page reachable from
 * the first one (the entry) through direct branches and jumps. Control
 * flows between them inside the function (`L` names the basic block); a
 * basic block is entered only when all of it fits the budget, so the
 * function stops at exactly the position the interpreter would reach.
 * `BlockInsn.delta` is the offset in the page here.
 */
export function regionSource(region: readonly BasicBlock[]): string {
  const entry = region[0]!.start;
  // In address order, so that a basic block falls through into the next case without a dispatch.
  const bbs = [...region].sort((p, q) => p.start - q.start);
  const index = new Map<number, number>();
  bbs.forEach((bb, i) => index.set(bb.start, i));
  const used = new Set<number>();
  const written = new Set<number>();
  for (const bb of bbs) {
    for (const { fields } of bb.insns) {
      const rd = (fields >>> 7) & 63;
      const rs1 = (fields >>> 13) & 31;
      const rs2 = (fields >>> 18) & 31;
      const op = fields & 127;
      if (rd !== 32) {
        used.add(rd);
        written.add(rd);
      }
      if (rs1 !== 0 && readsRs1(op)) used.add(rs1);
      if (rs2 !== 0 && readsRs2(op)) used.add(rs2);
    }
  }
  const wb = [...written].map((r) => `x[${r}] = r${r};`).join(' ');
  const vpc = (off: number): string => `((pc0 + ${off - entry}) | 0)`;
  /** Goes on at page offset `off` after `done` more steps: inside the region when it is there and fits. */
  const go = (off: number, done: string): string => {
    const i = index.get(off);
    if (i === undefined) return `{ c = ${done}; t = ${vpc(off)}; break out; }`;
    const len = bbs[i]!.insns.length;
    return `{ c = ${done}; if (c + ${len} > budget) { t = ${vpc(off)}; break out; } L = ${i}; continue; }`;
  };
  const lines: string[] = [];
  if (used.size > 0) lines.push(`let ${[...used].map((r) => `r${r} = x[${r}]`).join(', ')};`);
  // Every exit leaves through the epilogue: k = 0 goes on at t; 1 and 2 are a load or store
  // that missed the TLB (or is misaligned, or MMIO), done by the interpreter's slow path.
  lines.push(`let c = 0, L = ${index.get(entry)!}, t = 0, k = 0, sa = 0, sv = 0, sop = 0, srd = 0, spc = 0;`);
  lines.push('out: for (;;) switch (L) {');
  bbs.forEach((bb, bi) => {
    lines.push(`case ${bi}: {`);
    const len = bb.insns.length;
    let ended = false;
    bb.insns.forEach((ins, i) => {
      const { fields: f, imm, delta } = ins;
      const op = f & 127;
      const rd = (f >>> 7) & 63;
      const a = R((f >>> 13) & 31);
      const b = R((f >>> 18) & 31);
      const size = (f & FIELD_COMPRESSED) !== 0 ? 2 : 4;
      const pc = vpc(delta);
      const npc = vpc(delta + size);
      const step = `c + ${i + 1}`;
      const set = (v: string): string => (rd === 32 ? `${v};` : `r${rd} = ${v};`);
      const ld = LOADS[op];
      const st = STORES[op];
      if (ld !== undefined) {
        const align = ld.size > 1 ? ` && (a & ${ld.size - 1}) === 0` : '';
        const read = `${ld.view}[(rOff[e] | (a & 4095))${ld.shift ? ` >>> ${ld.shift}` : ''}]`;
        lines.push(`{ const a = (${a} + ${imm}) | 0; const e = (a >>> 12) & 255;`);
        lines.push(`  if (rTag[e] === a >>> 12${align}) { ${rd === 32 ? '' : `r${rd} = ${read};`} }`);
        lines.push(`  else { c = ${step}; k = 1; sa = a; sop = ${op}; srd = ${rd}; spc = ${delta}; t = ${npc}; break out; } }`);
        return;
      }
      if (st !== undefined) {
        const align = st.size > 1 ? ` && (a & ${st.size - 1}) === 0` : '';
        lines.push(`{ const a = (${a} + ${imm}) | 0; const e = (a >>> 12) & 255;`);
        lines.push(`  if (wTag[e] === a >>> 12${align}) { const o = wOff[e] | (a & 4095); ${st.view}[o${st.shift ? ` >>> ${st.shift}` : ''}] = ${b};`);
        // A store into this region's own code ends it after the store (the interpreter re-decodes).
        lines.push(`    if (dirty[o >>> 12] !== 1) { cpu.touch(o, ${st.size}); if (B.dead) { c = ${step}; t = ${npc}; break out; } } }`);
        lines.push(`  else { c = ${step}; k = 2; sa = a; sv = ${b}; sop = ${st.size}; spc = ${delta}; t = ${npc}; break out; } }`);
        return;
      }
      const cond = BRANCH[op];
      if (cond !== undefined) {
        const target = delta + imm;
        lines.push(`if (${cond(a, b)}) ${go(target, `c + ${len}`)}`);
        return;
      }
      if (op === Op.jal) {
        if (rd !== 32) lines.push(`r${rd} = ${npc};`);
        lines.push(go(delta + imm, `c + ${len}`));
        ended = true;
        return;
      }
      if (op === Op.jalr) {
        lines.push(`{ t = ((${a} + ${imm}) | 0) & -2; ${set(npc)} c += ${len}; break out; }`);
        ended = true;
        return;
      }
      if (op === Op.lui) return void lines.push(set(`${imm}`));
      if (op === Op.auipc) return void lines.push(set(`(${pc} + ${imm}) | 0`));
      if (op === Op.fence || op === Op['fence.i']) return; // one hart; stores already drop overwritten code
      const v = alu(op, a, b, imm);
      if (v === null) throw new Error(`jit: op ${op} is not compilable`);
      if (rd !== 32) lines.push(set(v));
    });
    // Falls through past the last instruction (a branch not taken, or the basic block's end).
    const next = bbs[bi + 1];
    if (!ended && next !== undefined && next.start === bb.end) {
      lines.push(`c += ${len}; if (c + ${next.insns.length} > budget) { t = ${vpc(bb.end)}; break out; }`);
    } else if (!ended) lines.push(go(bb.end, `c + ${len}`));
    lines.push('}');
  });
  lines.push('}');
  lines.push(wb);
  lines.push('if (k === 0) { cpu.pc = t; return c; }');
  lines.push(`const p = (pc0 + spc - ${entry}) | 0;`);
  lines.push('if (k === 1 ? cpu.load(sop, srd, sa, p, t, n0 + c) : cpu.store(sop, sa, sv, p, t, n0 + c)) { J.stop = 1; return c - cpu.retried; }');
  // The slow path ran the access: this.pc is t; a store may have dropped this region's code, which the next lookup sees.
  lines.push('return c;');
  return lines.join('\n');
}
