/*
 * Misaligned AMO and SC, as the spec says (privileged spec, exception code
 * table: 6 = "Store/AMO address misaligned"; unprivileged spec, "A"
 * chapter: a misaligned LR/SC/AMO raises an address-misaligned (or access)
 * exception). QEMU 7.2 deviates: a misaligned AMO reports cause 4 (load
 * address misaligned); a misaligned SC without a matching reservation
 * simply fails without trapping. The differential test runs this file only
 * on Rewind.
 */
#define TEST_FILE "rv32a-qemu-deviation.S"
#include "common.h"

    .data
    .balign 16
mem:    .space 64

.macro MISAMO n, off, insn:vararg
    TC \n
    la s0, mem
    addi s2, s0, \off
    li a4, 1
    sw zero, 0(s0)
    sw zero, 4(s0)
    TRAP_AT 6, 0, 1f, 2f, (F_TVAL | F_EPC)
    la t6, isa_data
    sw s2, D_TVAL(t6)
1:  \insn
    j isa_fail_notrap
2:  lw a5, 0(s0)                 /* memory untouched */
    CHK a5, 0
    lw a5, 4(s0)
    CHK a5, 0
.endm

TEST_BEGIN
    MISAMO 1,  2, amoadd.w a5, a4, (s2)
    MISAMO 2,  1, amoswap.w a5, a4, (s2)
    MISAMO 3,  3, amoor.w a5, a4, (s2)
    MISAMO 4,  2, amoxor.w a5, a4, (s2)
    MISAMO 5,  2, amoand.w a5, a4, (s2)
    MISAMO 6,  2, amomin.w a5, a4, (s2)
    MISAMO 7,  2, amomax.w a5, a4, (s2)
    MISAMO 8,  2, amominu.w a5, a4, (s2)
    MISAMO 9,  2, amomaxu.w a5, a4, (s2)
    MISAMO 10, 2, sc.w a5, a4, (s2)      /* no reservation: still traps */
TEST_END
