/**
 * Region compiler to WebAssembly: the same regions as compile.ts (basic blocks of one page,
 * entered at any of them, exact to the step), as a module of one function. V8 compiles a module
 * in one pass (Liftoff) in a fraction of a millisecond and runs that code at once at about the
 * speed its optimizing JS compiler reaches only after the function has run a while and waited
 * its turn on the compiler thread; JS regions run in V8's own interpreter until then, several
 * times slower than Rewind's. So a guest whose time is spread over many functions (a parser,
 * an evaluator, a sort) is fast from its first 10⁸ steps, not only once V8 caught up.
 *
 * The guest's RAM, registers, data TLBs and dirty flags live in one WebAssembly memory
 * (PagedMemory's lead, laid out as Cpu's LEAD says), which the module imports. The function is
 * `(pc0, budget, tlbBase) => steps`; it writes the registers it changed back, and leaves which
 * exit it took in the record at LEAD.EXIT: a row of the region's exit table (EXIT), which
 * jit.ts's wrapper carries out as it does a JS region's exit (go on at a pc, or a load for the
 * interpreter's slow path). Stores that miss the TLB call the interpreter's slow path in place
 * (`put`), as in compile.ts.
 */
import { Op } from '../isa/table.js';
import { FIELD_COMPRESSED } from '../isa/decode.js';
import { DTLB_MASK, LEAD } from '../cpu.js';
import { DIRTY, HAS_CODE } from '../paged.js';
import { Body, Bytes, I32, W, moduleOf } from '../wasm-binary.js';
import { type BasicBlock, quotientPairs, readsRs2, regionPlan } from './compile.js';

/**
 * Columns of a region's exit table (RegionModule.exits), a row for each way out of its function:
 * D, the steps of the basic block left not run, negated (the function returns the steps up to
 * its end); KIND, 0 to go on at page offset TO (of any page: it may be negative), 1 for the load
 * at page offset AT (OP, RD) to be done by the interpreter's slow path, then TO, 2 when a
 * store's slow path ended it (the pc is set), 3 to go on at the value the function left (an
 * indirect jump's target). The
 * function leaves in the record at LEAD.EXIT the row it took (RECORD.ROW) and that value
 * (RECORD.VALUE: a load's address, a jump's target).
 */
export const EXIT = { D: 0, KIND: 1, OP: 2, RD: 3, AT: 4, TO: 5, width: 6 } as const;
export const RECORD = { ROW: 0, VALUE: 1 } as const;

/** Names of the module's imports (module "r"). */
export const IMPORTS = { memory: 'm', put: 'p', touch: 't' } as const;

const LOADS: Record<number, { size: number; op: W; align: number }> = {
  [Op.LB]: { size: 1, op: W.i32Load8S, align: 0 },
  [Op.LH]: { size: 2, op: W.i32Load16S, align: 1 },
  [Op.LW]: { size: 4, op: W.i32Load, align: 2 },
  [Op.LBU]: { size: 1, op: W.i32Load8U, align: 0 },
  [Op.LHU]: { size: 2, op: W.i32Load16U, align: 1 },
};
const STORES: Record<number, { size: number; op: W; align: number }> = {
  [Op.SB]: { size: 1, op: W.i32Store8, align: 0 },
  [Op.SH]: { size: 2, op: W.i32Store16, align: 1 },
  [Op.SW]: { size: 4, op: W.i32Store, align: 2 },
};
const BRANCH: Record<number, W> = {
  [Op.BEQ]: W.i32Eq,
  [Op.BNE]: W.i32Ne,
  [Op.BLT]: W.i32LtS,
  [Op.BGE]: W.i32GeS,
  [Op.BLTU]: W.i32LtU,
  [Op.BGEU]: W.i32GeU,
};
/** ALU ops that are one WebAssembly instruction on (rs1, rs2) or (rs1, imm). */
const SIMPLE: Record<number, W> = {
  [Op.ADDI]: W.i32Add,
  [Op.XORI]: W.i32Xor,
  [Op.ORI]: W.i32Or,
  [Op.ANDI]: W.i32And,
  [Op.SLLI]: W.i32Shl,
  [Op.SRLI]: W.i32ShrU,
  [Op.SRAI]: W.i32ShrS,
  [Op.SLTI]: W.i32LtS,
  [Op.SLTIU]: W.i32LtU,
  [Op.ADD]: W.i32Add,
  [Op.SUB]: W.i32Sub,
  [Op.SLL]: W.i32Shl,
  [Op.SLT]: W.i32LtS,
  [Op.SLTU]: W.i32LtU,
  [Op.XOR]: W.i32Xor,
  [Op.SRL]: W.i32ShrU,
  [Op.SRA]: W.i32ShrS,
  [Op.OR]: W.i32Or,
  [Op.AND]: W.i32And,
  [Op.MUL]: W.i32Mul,
};

/** Locals of a region function: the parameters, scratch values, then the registers it uses. */
const enum Local {
  pc0,
  budget,
  tb,
  /** Steps up to the end of the basic block being run (the first local after the parameters). */
  c,
  scratch = c,
  /** Basic block to go to at the loop's head. */
  L,
  /** The exit taken (a row of the region's exit table). */
  x,
  /** A value the exit leaves: a load's address, an indirect jump's target. */
  v,
  pcb,
  a,
  e,
  j,
  o,
  /** i32 locals in all before the registers. */
  count,
}

/** Where data TLB array k (in DataTlbs' order) starts in the module's memory; entry e is 4 × e further. */
const TLB_ARRAY = (k: number): number => LEAD.TLB + LEAD.TLB_ARRAY * k;
const R_TAG = TLB_ARRAY(0);
const R_OFF = TLB_ARRAY(1);
const W_TAG = TLB_ARRAY(2);
const W_OFF = TLB_ARRAY(3);
const C_TAG = TLB_ARRAY(4);
const C_OFF = TLB_ARRAY(5);

/** A region compiled: the module's bytes, and its exit table (rows of EXIT's columns). */
export interface RegionModule {
  bytes: Uint8Array<ArrayBuffer>;
  exits: Int32Array;
}

/**
 * The module of a region, or null when it has an instruction this compiler leaves to
 * compile.ts (one straddling the page end). Same layout as compile.ts's regionSource: the
 * basic blocks in address order, each after the end of a block holding those before it, so a
 * jump forward is a branch out of blocks, one backward sets L and goes round the loop whose
 * head dispatches on it, and a basic block that branches to itself is a loop of its own.
 * Each exit is a row of the exit table, which the function leaves in the record with the
 * steps up to the end of the basic block it was in: the code stays small, and V8 compiles it
 * the faster.
 */
export function regionModule(region: readonly BasicBlock[]): RegionModule | null {
  const { bbs, index, used, written, loops } = regionPlan(region);
  if (bbs.some((bb) => bb.insns.some((i) => i.upper !== undefined))) return null;
  const f = new Body();
  const regs = new Int32Array(33);
  let locals = Local.count;
  for (const r of used) regs[r] = locals++;
  /** Pushes register r (x0 reads 0). */
  const read = (r: number): Body => (r === 0 ? f.const(0) : f.get(regs[r]!));
  const exits: number[] = [];
  /** Leaves by a new row of the exit table. */
  const exitTo = (d: number, kind: number, to: number, op = 0, rd = 0, at = 0): void => {
    f.const(exits.length / EXIT.width)
      .set(Local.x)
      .br('exit');
    exits.push(d, kind, op, rd, at, to);
  };
  /** Goes on at page offset `off` once basic block `from` has run whole (see compile.ts's go). */
  const go = (off: number, from: number): void => {
    const i = index.get(off);
    if (i === undefined) return exitTo(0, 0, off);
    if (i === from) return void f.br(`s${i}`);
    if (i > from) return void f.br(`b${i}`);
    f.const(i).set(Local.L).br('out');
  };
  /**
   * Sets L to the basic block that starts at the page offset in local `at` and runs `then` (a
   * binary search over the starts, which are in order); runs nothing when none starts there.
   */
  const find = (at: Local, then: () => void, lo = 0, hi = bbs.length): void => {
    if (hi - lo <= 4) {
      for (let k = lo; k < hi; k++) {
        f.get(at).const(bbs[k]!.start).op(W.i32Eq).open(W.if, '');
        f.const(k).set(Local.L);
        then();
        f.end();
      }
      return;
    }
    const mid = (lo + hi) >> 1;
    f.get(at).const(bbs[mid]!.start).op(W.i32LtU).open(W.if, '');
    find(at, then, lo, mid);
    f.else();
    find(at, then, mid, hi);
    f.end();
  };

  f.get(Local.pc0).const(-4096).op(W.i32And).set(Local.pcb);
  for (const r of used)
    f.const(0)
      .mem(W.i32Load, 2, LEAD.X + 4 * r)
      .set(regs[r]!);
  f.get(Local.pc0).const(4095).op(W.i32And).set(Local.j);
  find(Local.j, () => undefined);
  f.open(W.block, 'exit');
  f.open(W.loop, 'out');
  for (let i = bbs.length - 1; i >= 0; i--) f.open(W.block, `b${i}`);
  // The head: L picks the basic block (b0 ends right before the first, so depth i is bi's).
  f.get(Local.L).code.byte(W.brTable).u32(bbs.length);
  for (let i = 0; i < bbs.length; i++) f.code.u32(i);
  f.code.u32(0);
  bbs.forEach((bb, bi) => {
    f.end(); // b<bi>: what follows is basic block bi
    const len = bb.insns.length;
    const loop = loops(bb, bi);
    if (loop) f.open(W.loop, `s${bi}`);
    f.get(Local.c).const(len).op(W.i32Add).set(Local.c);
    f.get(Local.c).get(Local.budget).op(W.i32GtS).open(W.if, '');
    exitTo(-len, 0, bb.start);
    f.end();
    let ended = false;
    const pairs = quotientPairs(bb.insns);
    bb.insns.forEach((ins, i) => {
      const { fields: g, imm, delta } = ins;
      const op = g & 127;
      const rd = (g >>> 7) & 63;
      const rs1 = (g >>> 13) & 31;
      const rs2 = (g >>> 18) & 31;
      const next = delta + ((g & FIELD_COMPRESSED) !== 0 ? 2 : 4);
      const dd = i + 1 - len;
      const address = (): void => {
        read(rs1).const(imm).op(W.i32Add).set(Local.a);
        // e × 4: the byte offset of the TLB entry.
        f.get(Local.tb).get(Local.a).const(12).op(W.i32ShrU).const(DTLB_MASK).op(W.i32And).op(W.i32Or);
        f.const(2).op(W.i32Shl).set(Local.e);
      };
      /** Pushes whether TLB array `tag`'s entry holds a's page and a is aligned for `size`. */
      const hits = (tag: number, size: number): void => {
        f.get(Local.e).mem(W.i32Load, 2, tag).get(Local.a).const(12).op(W.i32ShrU).op(W.i32Eq);
        if (size > 1)
          f.get(Local.a)
            .const(size - 1)
            .op(W.i32And)
            .op(W.i32Eqz)
            .op(W.i32And);
      };
      /** Pushes the RAM offset of a through TLB array `off`'s entry. */
      const ramOffset = (off: number): void => {
        f.get(Local.e).mem(W.i32Load, 2, off).get(Local.a).const(4095).op(W.i32And).op(W.i32Or);
      };
      const ld = LOADS[op];
      if (ld !== undefined) {
        address();
        hits(R_TAG, ld.size);
        f.open(W.if, '');
        if (rd !== 32) {
          ramOffset(R_OFF);
          f.mem(ld.op, ld.align, LEAD.bytes).set(regs[rd]!);
        }
        f.else();
        f.get(Local.a).set(Local.v);
        exitTo(dd, 1, next, op, rd, delta);
        f.end();
        return;
      }
      const st = STORES[op];
      if (st !== undefined) {
        address();
        hits(W_TAG, st.size);
        f.open(W.if, '');
        ramOffset(W_OFF);
        read(rs2).mem(st.op, st.align, LEAD.bytes);
        f.else();
        hits(C_TAG, st.size);
        f.open(W.if, '');
        // A page with code: the store, then touch, which drops overwritten code (see compile.ts),
        // unless it lands outside the page's decoded instructions (Cpu.codeExtent), where all
        // touch would do is mark the page, done here: a small program's variables share the
        // page after its last function, and a bytecode interpreter stores there every 20 steps.
        ramOffset(C_OFF);
        f.set(Local.o).get(Local.o);
        read(rs2).mem(st.op, st.align, LEAD.bytes);
        f.get(Local.o).const(12).op(W.i32ShrU).set(Local.e);
        f.get(Local.e).const(2).op(W.i32Shl).mem(W.i32Load, 2, LEAD.EXTENT).set(Local.j);
        // Decoded starts lie in [lo, hi); one from 2 bytes before the store to its end may overlap it.
        f.get(Local.j).const(0xffff).op(W.i32And);
        f.get(Local.o).const(4095).op(W.i32And).const(st.size).op(W.i32Add).op(W.i32LtS);
        f.get(Local.j).const(16).op(W.i32ShrU);
        f.get(Local.o).const(4095).op(W.i32And).const(2).op(W.i32Sub).const(-2).op(W.i32And).op(W.i32GtS);
        f.op(W.i32And).open(W.if, '');
        f.get(Local.o).const(st.size).call(1).open(W.if, '');
        exitTo(dd, 0, next);
        f.end();
        f.else();
        f.get(Local.e)
          .const(DIRTY | HAS_CODE)
          .mem(W.i32Store8, 0, LEAD.DIRTY);
        f.end();
        f.else();
        f.get(Local.a);
        read(rs2).const(st.size).get(Local.pcb).const(delta).const(next).get(Local.c).const(dd).call(0);
        f.open(W.if, '');
        exitTo(dd, 2, 0);
        f.end();
        f.end();
        f.end();
        return;
      }
      const cond = BRANCH[op];
      if (cond !== undefined) {
        read(rs1);
        read(rs2).op(cond).open(W.if, '');
        go(delta + imm, bi);
        f.end();
        return;
      }
      if (op === Op.JAL) {
        if (rd !== 32) f.get(Local.pcb).const(next).op(W.i32Add).set(regs[rd]!);
        go(delta + imm, bi);
        ended = true;
        return;
      }
      if (op === Op.JALR) {
        // The target before the link: rs1 may be rd.
        read(rs1).const(imm).op(W.i32Add).const(-2).op(W.i32And).set(Local.v);
        if (rd !== 32) f.get(Local.pcb).const(next).op(W.i32Add).set(regs[rd]!);
        f.get(Local.v).get(Local.pcb).op(W.i32Xor).const(12).op(W.i32ShrU).op(W.i32Eqz).open(W.if, '');
        f.get(Local.v).const(4095).op(W.i32And).set(Local.o);
        find(Local.o, () => void f.br('out'));
        f.end();
        exitTo(0, 3, 0);
        ended = true;
        return;
      }
      if (op === Op.LUI) return void (rd !== 32 && f.const(imm).set(regs[rd]!));
      if (op === Op.AUIPC)
        return void (
          rd !== 32 &&
          f
            .get(Local.pcb)
            .const(delta + imm)
            .op(W.i32Add)
            .set(regs[rd]!)
        );
      if (op === Op.FENCE || op === Op.FENCE_I) return;
      // A division and a remainder of the same operands share one quotient (see compile.ts's quotientPairs).
      const first = pairs.get(i);
      if (first !== undefined) {
        const quotient = locals + first; // a local of its own, after the registers
        if (first === i) {
          const signed = op === Op.DIV || op === Op.REM;
          alu(
            f,
            signed ? Op.DIV : Op.DIVU,
            () => read(rs1),
            () => read(rs2),
          );
          f.set(quotient);
        }
        if (rd === 32) return;
        if (op === Op.DIV || op === Op.DIVU) f.get(quotient);
        else {
          read(rs1).get(quotient);
          read(rs2).op(W.i32Mul).op(W.i32Sub);
        }
        f.set(regs[rd]!);
        return;
      }
      if (rd === 32) return; // an ALU op writing x0 does nothing
      alu(
        f,
        op,
        () => read(rs1),
        () => (readsRs2(op) ? read(rs2) : f.const(imm)),
      );
      f.set(regs[rd]!);
    });
    if (loop) f.end();
    const following = bbs[bi + 1];
    if (!ended && (following === undefined || following.start !== bb.end)) go(bb.end, bi);
  });
  f.op(W.unreachable);
  f.end(); // out
  f.end(); // exit
  // The epilogue: registers written back, the exit left in its record, the steps returned.
  for (const r of written)
    f.const(0)
      .get(regs[r]!)
      .mem(W.i32Store, 2, LEAD.X + 4 * r);
  f.const(0)
    .get(Local.x)
    .mem(W.i32Store, 2, LEAD.EXIT + 4 * RECORD.ROW);
  f.const(0)
    .get(Local.v)
    .mem(W.i32Store, 2, LEAD.EXIT + 4 * RECORD.VALUE);
  f.get(Local.c);
  // Declared: every local after the parameters, and a quotient's after the registers (one per
  // instruction index of a basic block at most).
  const maxInsns = Math.max(...bbs.map((bb) => bb.insns.length));
  const body = new Bytes()
    .u32(1)
    .u32(locals - Local.scratch + maxInsns)
    .byte(I32);
  body.bytes(f.code.view()).byte(W.end);
  return { bytes: moduleBytes(body), exits: Int32Array.from(exits) };
}

/** Pushes rd's value for ALU op `op` on operands a and b (pushed by the callbacks). */
function alu(f: Body, op: number, a: () => void, b: () => void): void {
  const simple = SIMPLE[op];
  if (simple !== undefined) {
    a();
    b();
    f.op(simple);
    return;
  }
  // High words of the 64-bit product (i64 arithmetic).
  const high = (extendA: W, extendB: W, shift: W): void => {
    a();
    f.op(extendA);
    b();
    f.op(extendB).op(W.i64Mul);
    f.code.byte(0x42).s32(32);
    f.op(shift).op(W.i32WrapI64);
  };
  switch (op) {
    case Op.MULH:
      return high(W.i64ExtendI32S, W.i64ExtendI32S, W.i64ShrS);
    case Op.MULHSU:
      return high(W.i64ExtendI32S, W.i64ExtendI32U, W.i64ShrS);
    case Op.MULHU:
      return high(W.i64ExtendI32U, W.i64ExtendI32U, W.i64ShrU);
  }
  // Division by zero and overflow as the unprivileged spec's table: WebAssembly traps on both
  // where the division would, so they are decided first.
  b();
  f.set(Local.o);
  a();
  f.set(Local.j);
  const divisorZero = (): void => void f.get(Local.o).op(W.i32Eqz);
  const overflow = (): void =>
    void f.get(Local.j).const(-2147483648).op(W.i32Eq).get(Local.o).const(-1).op(W.i32Eq).op(W.i32And);
  const quotient = (div: W): void => void f.get(Local.j).get(Local.o).op(div);
  divisorZero();
  f.open(W.if, '', I32);
  if (op === Op.DIV || op === Op.DIVU) f.const(-1);
  else f.get(Local.j);
  f.else();
  switch (op) {
    case Op.DIV:
      overflow();
      f.open(W.if, '', I32).get(Local.j).else();
      quotient(W.i32DivS);
      f.end();
      break;
    case Op.DIVU:
      quotient(W.i32DivU);
      break;
    case Op.REM:
      // rem_s does not trap on overflow: it gives 0, the table's value.
      quotient(W.i32RemS);
      break;
    case Op.REMU:
      quotient(W.i32RemU);
      break;
    default:
      throw new Error(`jit: op ${op} is not compilable`);
  }
  f.end();
}

/** The module around a region's function: types, imports (memory, put, touch), the function and its export. */
function moduleBytes(body: Bytes): Uint8Array<ArrayBuffer> {
  const types = new Bytes().u32(3);
  const signature = (params: number): void => {
    types.byte(0x60).u32(params);
    for (let i = 0; i < params; i++) types.byte(I32);
    types.u32(1).byte(I32);
  };
  signature(3); // the region
  signature(8); // put
  signature(2); // touch
  const imports = new Bytes().u32(3);
  imports.name('r').name(IMPORTS.put).byte(0x00).u32(1);
  imports.name('r').name(IMPORTS.touch).byte(0x00).u32(2);
  imports.name('r').name(IMPORTS.memory).byte(0x02).byte(0x00).u32(0);
  const functions = new Bytes().u32(1).u32(0);
  const exports = new Bytes().u32(1).name('f').byte(0x00).u32(2);
  const code = new Bytes().u32(1).u32(body.length).bytes(body.view());
  return moduleOf([
    [1, types],
    [2, imports],
    [3, functions],
    [7, exports],
    [10, code],
  ]);
}
