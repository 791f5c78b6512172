/*
 * RV32A: LR/SC and AMOs (unprivileged spec, "A" chapter). Checks the value
 * returned in rd (the old memory word) and the word left in memory, SC
 * success (0) and failure (nonzero: 1 on QEMU and Rewind), and the
 * misaligned LR trap (load address misaligned, cause 4, mtval = address),
 * where QEMU and the spec agree. Misaligned AMO/SC, where QEMU reports
 * the wrong cause, is in rv32a-qemu-deviation.S.
 */
#define TEST_FILE "rv32a.S"
#include "common.h"

    .data
    .balign 4096
mem:    .space 4096
mem2:   .space 64

/* AMO n, op, old, operand, expected-rd, expected-memory */
.macro AMO n, op, old, val, rd, new
    TC \n
    la s0, mem
    li a3, \old
    sw a3, 0(s0)
    li a4, \val
    \op a5, a4, (s0)
    CHK a5, \rd
    lw a5, 0(s0)
    CHK a5, \new
.endm

TEST_BEGIN
    la s0, mem
    la s1, mem2

/* ---- LR/SC ---- */
    TC 1                                     /* lr then sc: success */
    li a3, 100
    sw a3, 0(s0)
    lr.w a5, (s0)
    CHK a5, 100
    li a4, 200
    sc.w a5, a4, (s0)
    CHK a5, 0
    lw a5, 0(s0)
    CHK a5, 200
    TC 2                                     /* sc after a successful sc: no reservation */
    li a4, 300
    sc.w a5, a4, (s0)
    CHK a5, 1
    lw a5, 0(s0)
    CHK a5, 200
    TC 3                                     /* sc to another address than the lr */
    sw zero, 0(s1)
    lr.w a5, (s0)
    li a4, 400
    sc.w a5, a4, (s1)
    CHK a5, 1
    lw a5, 0(s1)
    CHK a5, 0
    TC 4                                     /* that failed sc ended the reservation */
    sc.w a5, a4, (s0)
    CHK a5, 1
    lw a5, 0(s0)
    CHK a5, 200
    TC 5                                     /* aq/rl forms */
    lr.w.aq a5, (s0)
    CHK a5, 200
    li a4, 201
    sc.w.rl a5, a4, (s0)
    CHK a5, 0
    lw a5, 0(s0)
    CHK a5, 201
    TC 6                                     /* lr.aqrl / sc.aqrl */
    lr.w.aqrl a5, (s0)
    li a4, 202
    sc.w.aqrl a5, a4, (s0)
    CHK a5, 0
    lw a5, 0(s0)
    CHK a5, 202
    TC 7                                     /* a second lr replaces the first reservation */
    lr.w a5, (s1)
    lr.w a5, (s0)
    li a4, 203
    sc.w a5, a4, (s0)
    CHK a5, 0
    TC 8                                     /* sc with rd = rs2: status overwrites the value */
    lr.w a5, (s0)
    li a4, 204
    sc.w a4, a4, (s0)
    CHK a4, 0
    lw a5, 0(s0)
    CHK a5, 204
    TC 9                                     /* lr/sc loop increments */
    li a3, 10
    sw a3, 0(s0)
1:  lr.w a5, (s0)
    addi a5, a5, 1
    sc.w a4, a5, (s0)
    bnez a4, 1b
    lw a5, 0(s0)
    CHK a5, 11

/* ---- AMOs ---- */
    AMO 10, amoswap.w, 0x11111111, 0x22222222, 0x11111111, 0x22222222
    AMO 11, amoadd.w,  0x7fffffff, 1,          0x7fffffff, 0x80000000
    AMO 12, amoadd.w,  5,          0xfffffffb, 5,          0
    AMO 13, amoxor.w,  0xff00ff00, 0x0ff00ff0, 0xff00ff00, 0xf0f0f0f0
    AMO 14, amoand.w,  0xff00ff00, 0x0ff00ff0, 0xff00ff00, 0x0f000f00
    AMO 15, amoor.w,   0xff00ff00, 0x0ff00ff0, 0xff00ff00, 0xfff0fff0
    AMO 16, amomin.w,  0xffffffff, 1,          0xffffffff, 0xffffffff
    AMO 17, amomin.w,  5,          0x80000000, 5,          0x80000000
    AMO 18, amomax.w,  0xffffffff, 1,          0xffffffff, 1
    AMO 19, amomax.w,  0x7fffffff, 0x80000000, 0x7fffffff, 0x7fffffff
    AMO 20, amominu.w, 0xffffffff, 1,          0xffffffff, 1
    AMO 21, amominu.w, 0,          0x80000000, 0,          0
    AMO 22, amomaxu.w, 0xffffffff, 1,          0xffffffff, 0xffffffff
    AMO 23, amomaxu.w, 0x7fffffff, 0x80000000, 0x7fffffff, 0x80000000
    AMO 24, amoswap.w.aq,   1, 2, 1, 2
    AMO 25, amoadd.w.rl,    1, 2, 1, 3
    AMO 26, amoor.w.aqrl,   1, 2, 1, 3
    AMO 27, amomin.w, 3, 3, 3, 3
    TC 28                                    /* rd = x0: memory still updated */
    li a3, 7
    sw a3, 0(s0)
    li a4, 9
    amoadd.w x0, a4, (s0)
    lw a5, 0(s0)
    CHK a5, 16
    TC 29                                    /* rd = rs2: old value returned */
    li a4, 1
    amoswap.w a4, a4, (s0)
    CHK a4, 16
    lw a5, 0(s0)
    CHK a5, 1
    TC 30                                    /* AMO on a second word */
    li a3, 50
    sw a3, 0(s1)
    amoadd.w a5, a3, (s1)
    lw a5, 0(s1)
    CHK a5, 100

/* ---- misaligned LR: load address misaligned (4), mtval = address ---- */
    TC 31
    addi s2, s0, 2
    TRAP_AT 4, 0, 1f, 2f, (F_TVAL | F_EPC)
    la t6, isa_data
    sw s2, D_TVAL(t6)
1:  lr.w a5, (s2)
    j isa_fail_notrap
2:
    TC 32
    addi s2, s0, 1
    TRAP_AT 4, 0, 1f, 2f, (F_TVAL | F_EPC)
    la t6, isa_data
    sw s2, D_TVAL(t6)
1:  lr.w.aq a5, (s2)
    j isa_fail_notrap
2:
TEST_END
