/**
 * Block compiler: turns a straight run of decoded records (core/isa/decode.ts)
 * into the source of a JS function. Guest registers live in locals inside
 * the block; memory accesses inline the interpreter's TLB fast path and call
 * the interpreter's own slow paths (`Cpu.load`, `Cpu.store`, `Cpu.touch`)
 * for everything else, so the semantics of anything unusual stay in one place.
 *
 * A compiled function is `(pc0, budget) => steps`:
 * - pc0: the virtual pc of the basic block to start at (a region is keyed by
 *   physical page, and may be mapped at several virtual addresses);
 * - budget: steps it may run (≥ the block's length); a block that branches to
 *   itself loops while another whole iteration fits.
 * It returns the steps it ran, with registers written back and cpu.pc set;
 * its slow path (`slow`, in jit.ts) tells the dispatcher when the slice must
 * end (a trap, MMIO, a watchpoint).
 */
import { ENCODINGS, type Kind, Op } from '../isa/table.js';
import { FIELD_COMPRESSED } from '../isa/decode.js';
import { MULTIPLY_HIGH_SOURCE } from '../isa/multiply.js';
import { DTLB_MASK, FETCH_TLB_MASK } from '../cpu.js';

/** One instruction of a block: decoded fields and immediate, and its byte offset from the block's start. */
export interface BlockInsn {
  fields: number;
  imm: number;
  delta: number;
  /**
   * For a 32-bit instruction straddling the page end: its upper half and the RAM offset of the
   * physical page that held it when compiled. It runs compiled only while the next virtual page
   * still maps there (fetch TLB) and holds the same half; otherwise the region leaves before it.
   */
  upper?: { half: number; page: number };
}

const R = (r: number): string => (r === 0 ? '0' : `r${r}`);

const kind = (op: number): Kind => ENCODINGS[op]!.kind;

const COMPILED: ReadonlySet<Kind> = new Set<Kind>(['upper', 'jump', 'branch', 'load', 'store', 'alu', 'fence']);

/**
 * Ops the compiler handles; anything else (atomics, CSRs, system
 * instructions, illegal encodings) ends a block before it and is left to the
 * interpreter.
 */
export function compilable(op: number): boolean {
  return COMPILED.has(kind(op));
}

/** Ops that end a block after them (control transfers). */
export function endsBlock(op: number): boolean {
  return kind(op) === 'jump' || kind(op) === 'branch';
}

const LOADS: Record<number, { size: number; view: string; shift: number }> = {
  [Op.LB]: { size: 1, view: 'mem8s', shift: 0 },
  [Op.LH]: { size: 2, view: 'mem16s', shift: 1 },
  [Op.LW]: { size: 4, view: 'mem32', shift: 2 },
  [Op.LBU]: { size: 1, view: 'mem8', shift: 0 },
  [Op.LHU]: { size: 2, view: 'mem16', shift: 1 },
};
const STORES: Record<number, { size: number; view: string; shift: number }> = {
  [Op.SB]: { size: 1, view: 'mem8', shift: 0 },
  [Op.SH]: { size: 2, view: 'mem16', shift: 1 },
  [Op.SW]: { size: 4, view: 'mem32', shift: 2 },
};

const BRANCH: Record<number, (a: string, b: string) => string> = {
  [Op.BEQ]: (a, b) => `${a} === ${b}`,
  [Op.BNE]: (a, b) => `${a} !== ${b}`,
  [Op.BLT]: (a, b) => `${a} < ${b}`,
  [Op.BGE]: (a, b) => `${a} >= ${b}`,
  [Op.BLTU]: (a, b) => `${a} >>> 0 < ${b} >>> 0`,
  [Op.BGEU]: (a, b) => `${a} >>> 0 >= ${b} >>> 0`,
};

/** Of the compilable ops: all but U, J and fences read rs1. */
function readsRs1(op: number): boolean {
  const format = ENCODINGS[op]!.format;
  return format !== 'U' && format !== 'J' && format !== 'NONE';
}

/** Of the compilable ops: branches, stores and register-register ALU ops read rs2. */
export function readsRs2(op: number): boolean {
  return kind(op) === 'branch' || kind(op) === 'store' || (kind(op) === 'alu' && ENCODINGS[op]!.format === 'R');
}

/** Register-to-register and immediate ALU ops: the int32 value written to rd. */
function alu(op: number, a: string, b: string, imm: number): string | null {
  switch (op) {
    case Op.ADDI:
      return `(${a} + ${imm}) | 0`;
    case Op.SLTI:
      return `${a} < ${imm} ? 1 : 0`;
    case Op.SLTIU:
      return `${a} >>> 0 < ${imm >>> 0} ? 1 : 0`;
    case Op.XORI:
      return `${a} ^ ${imm}`;
    case Op.ORI:
      return `${a} | ${imm}`;
    case Op.ANDI:
      return `${a} & ${imm}`;
    case Op.SLLI:
      return `${a} << ${imm}`;
    case Op.SRLI:
      return `(${a} >>> ${imm}) | 0`;
    case Op.SRAI:
      return `${a} >> ${imm}`;
    case Op.ADD:
      return `(${a} + ${b}) | 0`;
    case Op.SUB:
      return `(${a} - ${b}) | 0`;
    case Op.SLL:
      return `${a} << ${b}`;
    case Op.SLT:
      return `${a} < ${b} ? 1 : 0`;
    case Op.SLTU:
      return `${a} >>> 0 < ${b} >>> 0 ? 1 : 0`;
    case Op.XOR:
      return `${a} ^ ${b}`;
    case Op.SRL:
      return `(${a} >>> ${b}) | 0`;
    case Op.SRA:
      return `${a} >> ${b}`;
    case Op.OR:
      return `${a} | ${b}`;
    case Op.AND:
      return `${a} & ${b}`;
    case Op.MUL:
      return `Math.imul(${a}, ${b})`;
    case Op.MULH:
      return MULTIPLY_HIGH_SOURCE.mulh(a, b);
    case Op.MULHSU:
      return MULTIPLY_HIGH_SOURCE.mulhsu(a, b);
    case Op.MULHU:
      return MULTIPLY_HIGH_SOURCE.mulhu(a, b);
    // Division by zero and overflow as the unprivileged spec's "Division Operations" table.
    case Op.DIV:
      return `${b} === 0 ? -1 : ${a} === -2147483648 && ${b} === -1 ? ${a} : (${a} / ${b}) | 0`;
    case Op.DIVU:
      return `${b} === 0 ? -1 : ((${a} >>> 0) / (${b} >>> 0)) | 0`;
    case Op.REM:
      return `${b} === 0 ? ${a} : ${a} === -2147483648 && ${b} === -1 ? 0 : (${a} % ${b}) | 0`;
    case Op.REMU:
      return `${b} === 0 ? ${a} : ((${a} >>> 0) % (${b} >>> 0)) | 0`;
    default:
      return null;
  }
}

const PARTNER: Record<number, number> = { [Op.DIV]: Op.REM, [Op.REM]: Op.DIV, [Op.DIVU]: Op.REMU, [Op.REMU]: Op.DIVU };

/**
 * Pairs of a division and a remainder of the same two registers in a basic block, neither
 * register written from the first to the second (`x % 10` then `x / 10`, as compilers emit for
 * digits and hash buckets). The map gives each of a pair the index of the first, which computes
 * the quotient once; both take their result from it, the remainder as `a - q × b`, which is what
 * the unprivileged spec's division table gives in every case, division by zero and overflow
 * included (q = -1 and q = a there). One host division instead of two: a loop of both ran 1.7
 * times faster.
 */
export function quotientPairs(insns: readonly BlockInsn[]): Map<number, number> {
  const pairs = new Map<number, number>();
  insns.forEach(({ fields }, i) => {
    const partner = PARTNER[fields & 127];
    if (partner === undefined || pairs.has(i)) return;
    const rs1 = (fields >>> 13) & 31;
    const rs2 = (fields >>> 18) & 31;
    for (let j = i; j < insns.length; j++) {
      const g = insns[j]!.fields;
      if (j > i && (g & 127) === partner && ((g >>> 13) & 31) === rs1 && ((g >>> 18) & 31) === rs2) {
        pairs.set(i, i);
        pairs.set(j, i);
        return;
      }
      const rd = (g >>> 7) & 63;
      if (rd === rs1 || rd === rs2) return;
    }
  });
  return pairs;
}

/** A basic block of a region: its instructions and where it starts and ends in the page. */
export interface BasicBlock {
  /** Byte offset in the page of the first instruction. */
  start: number;
  /** Byte offset just past the last instruction. */
  end: number;
  insns: BlockInsn[];
}

/** What a region's compilers (this one and wasm.ts) start from. */
export interface RegionPlan {
  /** The basic blocks in address order. */
  bbs: BasicBlock[];
  /** By page offset of a basic block's start: its place in bbs. */
  index: Map<number, number>;
  /** Registers the region reads or writes (loaded at entry), and those it writes (stored at exit). */
  used: Set<number>;
  written: Set<number>;
  /** Whether basic block bbs[bi] branches or jumps to itself (a loop of its own). */
  loops: (bb: BasicBlock, bi: number) => boolean;
}

export function regionPlan(region: readonly BasicBlock[]): RegionPlan {
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
  const loops = (bb: BasicBlock, bi: number): boolean => {
    const last = bb.insns[bb.insns.length - 1]!;
    const op = last.fields & 127;
    return (op === Op.JAL || BRANCH[op] !== undefined) && index.get(last.delta + last.imm) === bi;
  };
  return { bbs, index, used, written, loops };
}

/**
 * The body of a region function: basic blocks of one page reachable from
 * the first one (the entry) through direct branches and jumps; it may be
 * entered at any of them (pc0 says which). A basic block is entered only
 * when all of it fits the budget, so the function stops at exactly the
 * position the interpreter would reach. `BlockInsn.delta` is the offset in
 * the page here.
 *
 * Layout: the basic blocks in address order inside one loop, each after
 * the end of a labelled block (`b<i>`) that holds all those before it, so
 * that a jump forward is a `break`, falling through costs nothing, and a
 * basic block that branches to itself is a loop of its own (`s<i>`). A
 * jump backward sets `L` and goes round the outer loop, whose head
 * dispatches on it.
 *
 * Every path that leaves the region only assigns constants (`d`: steps of
 * the current basic block not run, negated; `t`: page offset to go on at),
 * and the epilogue, which runs at every exit, does the arithmetic: V8 then
 * finds no operation without type feedback on a path taken for the first
 * time, which would throw the optimized code away.
 */
export function regionSource(region: readonly BasicBlock[]): string {
  const { bbs, index, used, written, loops } = regionPlan(region);
  const wb = [...written].map((r) => `x[${r}] = r${r};`).join(' ');
  // pcb: the virtual address of the page offset 0 of this mapping of the page.
  const vpc = (off: number): string => `((pcb + ${off}) | 0)`;
  /** Goes on at page offset `off` once the current basic block (number `from`) has run whole. */
  const go = (off: number, from: number): string => {
    const i = index.get(off);
    if (i === undefined) return `{ t = ${off}; break out; }`;
    if (i === from) return `continue s${i};`;
    return i > from ? `break b${i};` : `{ L = ${i}; continue out; }`;
  };
  const lines: string[] = [];
  lines.push('const pcb = pc0 & -4096;');
  // The data TLB of the privilege level the region runs at (it leaves before any change of
  // level): every level's arrays, from tb on.
  const loads = bbs.some((bb) => bb.insns.some((i) => LOADS[i.fields & 127] !== undefined));
  const stores = bbs.some((bb) => bb.insns.some((i) => STORES[i.fields & 127] !== undefined));
  if (loads || stores) lines.push('const tb = cpu.tlbBase;');
  if (loads) lines.push('const rTag = cpu.dataTlbs.rTag, rOff = cpu.dataTlbs.rOff;');
  if (stores) lines.push('const wTag = cpu.dataTlbs.wTag, wOff = cpu.dataTlbs.wOff;');
  if (stores) lines.push('const cTag = cpu.dataTlbs.cTag, cOff = cpu.dataTlbs.cOff;');
  if (bbs.some((bb) => bb.insns.some((i) => i.upper !== undefined)))
    lines.push('const xTag = cpu.xTag, xOff = cpu.xOff, nvpn = ((pcb + 4096) >>> 12) | 0;');
  if (used.size > 0) lines.push(`let ${[...used].map((r) => `r${r} = x[${r}]`).join(', ')};`);
  // Every exit leaves through the epilogue: k = 0 goes on at t; 1 is a load that missed the TLB
  // (or is misaligned, or MMIO), done by the interpreter's slow path; 2, a store done in place.
  lines.push('let c = 0, d = 0, L = 0, t = 0, k = 0, sa = 0, sop = 0, srd = 0, spc = 0;');
  // Entered at any of its basic blocks: the entry, or where a call that ran out of budget stopped.
  lines.push(`switch (pc0 & 4095) { ${bbs.map((bb, i) => `case ${bb.start}: L = ${i}; break;`).join(' ')} }`);
  lines.push('out: for (;;) {');
  for (let i = bbs.length - 1; i > 0; i--) lines.push(`b${i}: {`);
  if (bbs.length > 1)
    lines.push(
      `switch (L) { ${bbs
        .slice(1)
        .map((_, i) => `case ${i + 1}: break b${i + 1};`)
        .join(' ')} }`,
    );
  bbs.forEach((bb, bi) => {
    const len = bb.insns.length;
    const loop = loops(bb, bi);
    if (bi > 0) lines.push('}');
    if (loop) lines.push(`s${bi}: for (;;) {`);
    // c counts the steps up to the end of the basic block being run.
    lines.push(`c += ${len}; if (c > budget) { d = ${-len}; t = ${bb.start}; break out; }`);
    let ended = false;
    const pairs = quotientPairs(bb.insns);
    bb.insns.forEach((ins, i) => {
      const { fields: f, imm, delta } = ins;
      if (ins.upper !== undefined) {
        const { half, page } = ins.upper;
        lines.push(
          `if (mem16[${page >>> 1}] !== ${half} || xTag[nvpn & ${FETCH_TLB_MASK}] !== nvpn || xOff[nvpn & ${FETCH_TLB_MASK}] !== ${page}) { d = ${i - bb.insns.length}; t = ${delta}; break out; }`,
        );
      }
      const op = f & 127;
      const rd = (f >>> 7) & 63;
      const a = R((f >>> 13) & 31);
      const b = R((f >>> 18) & 31);
      const size = (f & FIELD_COMPRESSED) !== 0 ? 2 : 4;
      const next = delta + size;
      // Exiting after this instruction: its steps not run in the basic block, negated.
      const dd = i + 1 - len;
      const set = (v: string): string => (rd === 32 ? `${v};` : `r${rd} = ${v};`);
      const ld = LOADS[op];
      const st = STORES[op];
      if (ld !== undefined) {
        const align = ld.size > 1 ? ` && (a & ${ld.size - 1}) === 0` : '';
        const read = `${ld.view}[(rOff[e] | (a & 4095))${ld.shift ? ` >>> ${ld.shift}` : ''}]`;
        lines.push(`{ const a = (${a} + ${imm}) | 0; const e = tb | ((a >>> 12) & ${DTLB_MASK});`);
        lines.push(`  if (rTag[e] === a >>> 12${align}) { ${rd === 32 ? '' : `r${rd} = ${read};`} }`);
        lines.push(
          `  else { d = ${dd}; k = 1; sa = a; sop = ${op}; srd = ${rd}; spc = ${delta}; t = ${next}; break out; } }`,
        );
        return;
      }
      if (st !== undefined) {
        const align = st.size > 1 ? ` && (a & ${st.size - 1}) === 0` : '';
        lines.push(`{ const a = (${a} + ${imm}) | 0; const e = tb | ((a >>> 12) & ${DTLB_MASK});`);
        const view = (o: string): string => `${st.view}[${o}${st.shift ? ` >>> ${st.shift}` : ''}]`;
        // The TLB caches write translations of dirty pages without code only, and forgets a page's
        // before anything cleans it (PageWriter in core/paged.ts): the store marks nothing.
        lines.push(`  if (wTag[e] === a >>> 12${align}) { const o = wOff[e] | (a & 4095); ${view('o')} = ${b}; }`);
        // A page with code (a small program's variables after its last function share it) has its
        // translation kept apart (Tlb.cTag): the store, then touch, which drops overwritten code; a
        // store into this region's own code ends it after the store (the interpreter re-decodes).
        lines.push(
          `  else if (cTag[e] === a >>> 12${align}) { const o = cOff[e] | (a & 4095); ${view('o')} = ${b}; if (touch(B, o, ${st.size})) { d = ${dd}; t = ${next}; break out; } }`,
        );
        // Any other store is the interpreter's slow path, called in place: `put` marks the page,
        // drops overwritten code, and says when the region must end after it (k = 2: the slice
        // ends, or the region's own code changed).
        lines.push(
          `  else if (put(B, a, ${b}, ${st.size}, pcb, ${delta}, ${next}, c, ${dd})) { d = ${dd}; k = 2; break out; } }`,
        );
        return;
      }
      const cond = BRANCH[op];
      if (cond !== undefined) {
        lines.push(`if (${cond(a, b)}) ${go(delta + imm, bi)}`);
        return;
      }
      if (op === Op.JAL) {
        if (rd !== 32) lines.push(`r${rd} = ${vpc(next)};`);
        lines.push(go(delta + imm, bi));
        ended = true;
        return;
      }
      if (op === Op.JALR) {
        // A return (or any indirect jump) into one of this region's basic blocks stays inside:
        // the target's page offset picks the basic block when it lies in this virtual page.
        const cases = bbs.map((to, j) => `case ${to.start}: L = ${j}; continue out;`);
        lines.push(`{ const j = ((${a} + ${imm}) | 0) & -2; ${set(vpc(next))}`);
        lines.push(`  if (((j ^ pcb) >>> 12) === 0) switch (j & 4095) { ${cases.join(' ')} }`);
        lines.push('  t = (j - pcb) | 0; break out; }');
        ended = true;
        return;
      }
      if (op === Op.LUI) return void lines.push(set(`${imm}`));
      if (op === Op.AUIPC) return void lines.push(set(`(${vpc(delta)} + ${imm}) | 0`));
      if (op === Op.FENCE || op === Op.FENCE_I) return; // one hart; stores already drop overwritten code
      // A division and a remainder of the same operands share one quotient (see quotientPairs).
      const first = pairs.get(i);
      if (first !== undefined) {
        // Named by basic block and instruction: unique in the function.
        const quotient = `q${bi}_${first}`;
        if (first === i)
          lines.push(`const ${quotient} = ${alu(op === Op.DIV || op === Op.REM ? Op.DIV : Op.DIVU, a, b, 0)};`);
        if (rd !== 32)
          lines.push(set(op === Op.DIV || op === Op.DIVU ? quotient : `(${a} - Math.imul(${quotient}, ${b})) | 0`));
        return;
      }
      const v = alu(op, a, b, imm);
      if (v === null) throw new Error(`jit: op ${op} is not compilable`);
      if (rd !== 32) lines.push(set(v));
    });
    // Past the last instruction (a branch not taken, or the basic block's end): straight on
    // when the next basic block starts there.
    const following = bbs[bi + 1];
    if (loop) lines.push(ended ? '}' : 'break; }');
    if (!ended && (following === undefined || following.start !== bb.end)) lines.push(go(bb.end, bi));
  });
  lines.push('}');
  lines.push(wb);
  lines.push('c += d; const q = (pcb + t) | 0;');
  lines.push('if (k === 0) { cpu.pc = q; return c; }');
  if (stores) lines.push('if (k === 2) return c;');
  lines.push('return slow(sop, srd, sa, pcb, spc, q, c);');
  return lines.join('\n');
}
