/*
 * Rewind ISA tests: shared harness (assembly macros + M-mode runtime).
 *
 * Each test file does:
 *     #define TEST_FILE "rv32i.S"
 *     #include "common.h"
 *     TEST_BEGIN
 *       TC 1 ; ... ; CHK a0, 42
 *       ...
 *     TEST_END
 *
 * Register conventions (tests must respect them):
 *   gp (x3)  current case number (set by TC)
 *   tp (x4)  number of cases run so far (TC increments it)
 *   t5, t6   harness scratch: every macro and every trap may clobber them
 *   sp       a small M-mode stack (the runtime does not use it)
 *   mscratch belongs to the harness: every trap overwrites it
 * Everything else belongs to the test and is preserved across traps that
 * the harness handles.
 *
 * Success prints nothing until TEST_END, which prints
 *     PASS <file> (<count> cases)
 * and exits 0 through the syscon. A failure prints one line
 *     FAIL <file> case <n>: ...
 * and exits with code n (n must be 1..255 so that the exit status is not 0).
 *
 * Trap harness: before an instruction that must trap, a test records the
 * expected mcause, mtval and mepc, and the address where execution resumes
 * (TRAPS / TRAP_AT below). The M-mode trap handler compares the trap with
 * the expectation, logs mcause/mepc/mtval/mstatus (LDTRAP), and resumes at
 * the given address in M-mode with MIE = 0 (or in the trapping mode with
 * F_SAME, MIE <- MPIE). Any
 * trap without an expectation prints
 *     FAIL <file> case <n>: unexpected trap mcause=.. mepc=.. mtval=..
 * Checks (CHK) may run in any mode: on a mismatch they `ecall` with a magic
 * value in t5; the M-mode handler prints the message. An S-mode handler of a
 * test that delegates ecalls must start with S_FORWARD_FAIL.
 */
#ifndef ISA_COMMON_H
#define ISA_COMMON_H

#define FAIL_MAGIC 0xFA11C0DE   /* t5 at ecall: report a failure (a0 = kind) */
#define SVC_MAGIC  0x5EC0DE01   /* t5 at ecall: return to M-mode after the ecall */

/* Expectation flags */
#define F_TVAL   1   /* compare mtval with the expected value */
#define F_EPC    2   /* compare mepc with the expected address */
#define F_TINSN  4   /* expected mtval = instruction bits at mepc (16 or 32) */
#define F_SAME   8   /* resume in the trapping privilege mode (else M) */

#define MSTATUS_SIE   (1 << 1)
#define MSTATUS_MIE   (1 << 3)
#define MSTATUS_SPIE  (1 << 5)
#define MSTATUS_MPIE  (1 << 7)
#define MSTATUS_SPP   (1 << 8)
#define MSTATUS_MPP   (3 << 11)
#define MSTATUS_MPRV  (1 << 17)
#define MSTATUS_SUM   (1 << 18)
#define MSTATUS_MXR   (1 << 19)
#define MSTATUS_TVM   (1 << 20)
#define MSTATUS_TW    (1 << 21)
#define MSTATUS_TSR   (1 << 22)

#define PRV_U 0
#define PRV_S 1
#define PRV_M 3

#define SYSCON 0x100000
#define UART   0x10000000
#define CLINT  0x2000000

/* Offsets in the harness data block (isa_data) */
#define D_ACTIVE  0
#define D_CAUSE   4
#define D_TVAL    8
#define D_EPC     12
#define D_RESUME  16
#define D_FLAGS   20
#define D_LCAUSE  24   /* last trap taken */
#define D_LEPC    28
#define D_LTVAL   32
#define D_LSTATUS 36
#define D_NTRAPS  40
#define D_SAVE    44   /* 8 words */

/* ---------------------------------------------------------------- cases */

.macro TC n
    li gp, \n
    addi tp, tp, 1
.endm

/* CHK reg, value: fail unless reg == value. Never pass t5/t6. */
.macro CHK reg, val
    li t6, \val
    beq \reg, t6, .Lchk_ok\@
    mv a1, \reg
    mv a2, t6
    j isa_fail_value
.Lchk_ok\@:
.endm

/* CHKR reg, reg2: fail unless reg == reg2. */
.macro CHKR reg, reg2
    mv t6, \reg2
    beq \reg, t6, .Lchkr_ok\@
    mv a1, \reg
    mv a2, t6
    j isa_fail_value
.Lchkr_ok\@:
.endm

/* Register-register op: rd = a0 op a1 */
.macro TRR n, op, res, a, b
    TC \n
    li a3, \a
    li a4, \b
    \op a5, a3, a4
    CHK a5, \res
.endm

/* Register-immediate op */
.macro TRI n, op, res, a, imm
    TC \n
    li a3, \a
    \op a5, a3, \imm
    CHK a5, \res
.endm

/* Load a field of the last trap taken (M-mode only): LDTRAP reg, D_LCAUSE */
.macro LDTRAP reg, field
    la t6, isa_data
    lw \reg, \field(t6)
.endm

/* --------------------------------------------------------------- traps */

/* TRAP_AT cause, tval, epc_label, resume_label, flags  (M-mode only) */
.macro TRAP_AT cause, tval, epc, resume, flags
    la t6, isa_data
    li t5, \cause
    sw t5, D_CAUSE(t6)
    li t5, \tval
    sw t5, D_TVAL(t6)
    la t5, \epc
    sw t5, D_EPC(t6)
    la t5, \resume
    sw t5, D_RESUME(t6)
    li t5, \flags
    sw t5, D_FLAGS(t6)
    li t5, 1
    sw t5, D_ACTIVE(t6)
.endm

/* The instruction(s) given must trap at the first one with mcause/mtval. */
.macro TRAPS cause, tval, insn:vararg
    TRAP_AT \cause, \tval, .Ltr_epc\@, .Ltr_res\@, (F_TVAL | F_EPC)
.Ltr_epc\@:
    \insn
    j isa_fail_notrap
.Ltr_res\@:
.endm

/* Same, mtval not compared. */
.macro TRAPS_NT cause, insn:vararg
    TRAP_AT \cause, 0, .Ltr_epc\@, .Ltr_res\@, F_EPC
.Ltr_epc\@:
    \insn
    j isa_fail_notrap
.Ltr_res\@:
.endm

/* Illegal instruction with mtval = the instruction's own bits. */
.macro TRAPS_ILL insn:vararg
    TRAP_AT 2, 0, .Ltr_epc\@, .Ltr_res\@, (F_TINSN | F_EPC)
.Ltr_epc\@:
    \insn
    j isa_fail_notrap
.Ltr_res\@:
.endm

/* ----------------------------------------------------------- privilege */

/* From M-mode: continue at the next instruction in privilege `mode`. */
.macro GO_MODE mode
    li t5, MSTATUS_MPP
    csrc mstatus, t5
    li t5, (\mode << 11)
    csrs mstatus, t5
    la t5, .Lgo\@
    csrw mepc, t5
    mret
.Lgo\@:
.endm

/* From S/U (ecall not delegated): continue at the next instruction in M. */
.macro TO_M
    li t5, SVC_MAGIC
    ecall
.endm

/* First lines of an S-mode trap handler of a test that delegates ecalls. */
.macro S_FORWARD_FAIL
    li t6, FAIL_MAGIC
    bne t5, t6, .Lsff\@
    ecall
.Lsff\@:
.endm

/* ------------------------------------------------------------- program */

.macro TEST_BEGIN
    .section .text.init, "ax"
    .globl _start
_start:
    .option push
    .option norelax
    la t0, isa_trap_entry
    csrw mtvec, t0
    la sp, __stack_top
    li gp, 0
    li tp, 0
    la t0, isa_data
    sw zero, D_ACTIVE(t0)
    sw zero, D_NTRAPS(t0)
    /* PMP entry 15 (lowest priority): NAPOT over everything, RWX, so S/U
       may access memory; entries 0..14 stay free for the tests. */
    li t0, -1
    csrw pmpaddr15, t0
    li t0, 0x1f000000
    csrw pmpcfg3, t0
    .option pop
    j isa_test_main
    .text
isa_test_main:
.endm

.macro TEST_END
    la a0, isa_msg_pass
    call isa_puts
    la a0, isa_msg_file
    call isa_puts
    la a0, isa_msg_open
    call isa_puts
    mv a0, tp
    call isa_putdec
    la a0, isa_msg_cases
    call isa_puts
    li t0, SYSCON
    li t1, 0x5555
    sw t1, 0(t0)
1:  j 1b

    .text
/* ---- failure entry points (any mode) ---- */
isa_fail_value:           /* a1 = observed, a2 = expected */
    li a0, 0
    li t5, FAIL_MAGIC
    ecall
isa_fail_notrap:          /* the instruction before did not trap */
    li a0, 1
    li t5, FAIL_MAGIC
    ecall

/* ---- M-mode trap handler ---- */
    .balign 4
isa_trap_entry:
    li t6, FAIL_MAGIC
    beq t5, t6, isa_fail_report
    li t6, MSTATUS_MPRV      /* the handler's own loads/stores are physical; */
    csrrc t6, mstatus, t6    /* mstatus as it was at the trap is logged */
    csrw mscratch, t6
    la t6, isa_data
    sw a0, D_SAVE+0(t6)
    sw a1, D_SAVE+4(t6)
    sw a2, D_SAVE+8(t6)
    sw a3, D_SAVE+12(t6)
    sw ra, D_SAVE+16(t6)
    csrr a0, mcause
    sw a0, D_LCAUSE(t6)
    csrr a0, mepc
    sw a0, D_LEPC(t6)
    csrr a0, mtval
    sw a0, D_LTVAL(t6)
    csrr a0, mscratch
    sw a0, D_LSTATUS(t6)
    lw a0, D_NTRAPS(t6)
    addi a0, a0, 1
    sw a0, D_NTRAPS(t6)
    /* service call: ecall with t5 = SVC_MAGIC returns to M after it */
    li a0, SVC_MAGIC
    bne t5, a0, 1f
    csrr a0, mcause
    addi a0, a0, -8
    li a1, 3
    bgeu a0, a1, 1f        /* not an ecall (8, 9, 11 all pass; 10 never occurs) */
    csrr a0, mepc
    addi a0, a0, 4
    csrw mepc, a0
    li a0, MSTATUS_MPP
    csrs mstatus, a0
    li a0, MSTATUS_MPIE    /* M resumes with MIE = 0 */
    csrc mstatus, a0
    j isa_trap_return
1:
    lw a0, D_ACTIVE(t6)
    beqz a0, isa_unexpected
    sw zero, D_ACTIVE(t6)
    lw a1, D_CAUSE(t6)
    csrr a0, mcause
    li a2, 0x10            /* "mcause" */
    bne a0, a1, isa_trap_mismatch
    lw a3, D_FLAGS(t6)
    andi a0, a3, F_EPC
    beqz a0, 2f
    lw a1, D_EPC(t6)
    csrr a0, mepc
    li a2, 0x11            /* "mepc" */
    bne a0, a1, isa_trap_mismatch
2:  andi a0, a3, F_TVAL
    beqz a0, 3f
    lw a1, D_TVAL(t6)
    csrr a0, mtval
    li a2, 0x12            /* "mtval" */
    bne a0, a1, isa_trap_mismatch
3:  andi a0, a3, F_TINSN
    beqz a0, 4f
    csrr a0, mepc          /* the instruction bits, read physically */
    lhu a1, 0(a0)
    andi a2, a1, 3
    li ra, 3
    bne a2, ra, 5f
    lhu a2, 2(a0)
    slli a2, a2, 16
    or a1, a1, a2
5:  csrr a0, mtval
    li a2, 0x12
    bne a0, a1, isa_trap_mismatch
4:  lw a0, D_RESUME(t6)
    csrw mepc, a0
    andi a0, a3, F_SAME
    bnez a0, isa_trap_return
    li a0, MSTATUS_MPP
    csrs mstatus, a0
    li a0, MSTATUS_MPIE
    csrc mstatus, a0
isa_trap_return:
    la t6, isa_data
    lw a0, D_SAVE+0(t6)
    lw a1, D_SAVE+4(t6)
    lw a2, D_SAVE+8(t6)
    lw a3, D_SAVE+12(t6)
    lw ra, D_SAVE+16(t6)
    mret

/* a0 = observed, a1 = expected, a2 = which (0x10 mcause, 0x11 mepc, 0x12 mtval) */
isa_trap_mismatch:
    mv s0, a0
    mv s1, a1
    mv s2, a2
    call isa_fail_head
    la a0, isa_msg_trap
    call isa_puts
    la a0, isa_msg_mcause
    li t0, 0x11
    bne s2, t0, 1f
    la a0, isa_msg_mepc
1:  li t0, 0x12
    bne s2, t0, 2f
    la a0, isa_msg_mtval
2:  call isa_puts
    la a0, isa_msg_obs
    call isa_puts
    mv a0, s0
    call isa_puthex
    la a0, isa_msg_exp
    call isa_puts
    mv a0, s1
    call isa_puthex
    j isa_fail_exit

isa_unexpected:
    call isa_fail_head
    la a0, isa_msg_unexp
    call isa_puts
    csrr a0, mcause
    call isa_puthex
    la a0, isa_msg_uepc
    call isa_puts
    csrr a0, mepc
    call isa_puthex
    la a0, isa_msg_utval
    call isa_puts
    csrr a0, mtval
    call isa_puthex
    j isa_fail_exit

isa_fail_report:          /* from the FAIL_MAGIC ecall: a0 = kind */
    li t6, MSTATUS_MPRV
    csrc mstatus, t6
    mv s0, a0
    mv s1, a1
    mv s2, a2
    call isa_fail_head
    bnez s0, 1f
    la a0, isa_msg_obs2
    call isa_puts
    mv a0, s1
    call isa_puthex
    la a0, isa_msg_exp
    call isa_puts
    mv a0, s2
    call isa_puthex
    j isa_fail_exit
1:  la a0, isa_msg_notrap
    call isa_puts
    la t6, isa_data
    lw a0, D_CAUSE(t6)
    call isa_puthex
    j isa_fail_exit

isa_fail_head:            /* "FAIL <file> case <n>: " */
    mv s3, ra
    la a0, isa_msg_fail
    call isa_puts
    la a0, isa_msg_file
    call isa_puts
    la a0, isa_msg_case
    call isa_puts
    mv a0, gp
    call isa_putdec
    la a0, isa_msg_colon
    call isa_puts
    mv ra, s3
    ret

isa_fail_exit:
    li a0, '\n'
    call isa_putc
    andi a0, gp, 0xff
    bnez a0, 1f
    li a0, 0xff            /* never exit 0 on a failure */
1:  slli a0, a0, 16
    li t0, 0x3333
    or a0, a0, t0
    li t0, SYSCON
    sw a0, 0(t0)
2:  j 2b

/* ---- UART output (M-mode) ---- */
isa_putc:
    li t0, UART
1:  lbu t1, 5(t0)
    andi t1, t1, 0x20
    beqz t1, 1b
    sb a0, 0(t0)
    ret

isa_puts:
    mv t2, ra
    mv t3, a0
1:  lbu a0, 0(t3)
    beqz a0, 2f
    call isa_putc
    addi t3, t3, 1
    j 1b
2:  mv ra, t2
    ret

isa_puthex:               /* 0x%08x */
    mv t2, ra
    mv t3, a0
    li a0, '0'
    call isa_putc
    li a0, 'x'
    call isa_putc
    li t4, 28
1:  srl a0, t3, t4
    andi a0, a0, 15
    li t1, 10
    blt a0, t1, 2f
    addi a0, a0, 'a' - '0' - 10
2:  addi a0, a0, '0'
    call isa_putc
    addi t4, t4, -4
    bgez t4, 1b
    mv ra, t2
    ret

isa_putdec:               /* unsigned decimal */
    mv t2, ra
    la t3, isa_decbuf + 15
    li t4, 10
1:  remu t1, a0, t4
    addi t1, t1, '0'
    addi t3, t3, -1
    sb t1, 0(t3)
    divu a0, a0, t4
    bnez a0, 1b
    la t4, isa_decbuf + 15
2:  lbu a0, 0(t3)
    call isa_putc
    addi t3, t3, 1
    bltu t3, t4, 2b
    mv ra, t2
    ret

    .section .rodata
isa_msg_file:   .asciz TEST_FILE
isa_msg_pass:   .asciz "PASS "
isa_msg_fail:   .asciz "FAIL "
isa_msg_open:   .asciz " ("
isa_msg_cases:  .asciz " cases)\n"
isa_msg_case:   .asciz " case "
isa_msg_colon:  .asciz ": "
isa_msg_obs2:   .asciz "observed "
isa_msg_obs:    .asciz " observed "
isa_msg_exp:    .asciz " expected "
isa_msg_trap:   .asciz "trap"
isa_msg_mcause: .asciz " mcause"
isa_msg_mepc:   .asciz " mepc"
isa_msg_mtval:  .asciz " mtval"
isa_msg_unexp:  .asciz "unexpected trap mcause="
isa_msg_uepc:   .asciz " mepc="
isa_msg_utval:  .asciz " mtval="
isa_msg_notrap: .asciz "expected trap did not occur, mcause expected "

    .data
    .balign 16
isa_data: .space 128
isa_decbuf: .space 16
.endm

#endif
