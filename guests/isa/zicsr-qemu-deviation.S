/*
 * Zicsr / machine CSR rules where QEMU 7.2 departs from the spec. The
 * differential test runs this file only on Rewind (see README.md).
 *  1. csrrs/csrrc with rs1 != x0 always write (Zicsr chapter: a register
 *     holding zero still "attempts to write the unmodified value back"), so
 *     on a read-only CSR they raise illegal instruction. QEMU looks at the
 *     register's value instead of the rs1 field and does not trap.
 *  2. mepc[0] and sepc[0] always read zero (priv spec, mepc/sepc). QEMU
 *     keeps the bit (it masks it only when it jumps).
 *  3. medeleg[11] (ecall from M) is read-only zero. QEMU lets it be set.
 *  4. mcountinhibit bit 1 (TM) is read-only zero: time cannot be inhibited.
 *     QEMU keeps the bit.
 *  5. mstatus.MPP is WARL over M/S/U: writing the reserved 2 leaves a legal
 *     value (0, 1 or 3).
 */
#define TEST_FILE "zicsr-qemu-deviation.S"
#include "common.h"

TEST_BEGIN
    TC 1
    li a1, 0
    TRAPS_ILL csrrs a5, mhartid, a1
    TC 2
    li a1, 0
    TRAPS_ILL csrrc a5, mvendorid, a1
    TC 3
    li a1, 0
    TRAPS_ILL csrrs a5, cycle, a1
    TC 4
    li a0, 0x80000001
    csrw mepc, a0
    csrr a5, mepc
    CHK a5, 0x80000000
    TC 5
    li a0, 0xffffffff
    csrw sepc, a0
    csrr a5, sepc
    CHK a5, 0xfffffffe
    TC 6
    li a0, -1
    csrw medeleg, a0
    csrr a5, medeleg
    csrw medeleg, zero
    li a4, (1 << 11)
    and a5, a5, a4
    CHK a5, 0
    TC 7
    li a0, 7
    csrw mcountinhibit, a0
    csrr a5, mcountinhibit
    csrw mcountinhibit, zero
    CHK a5, 5
    TC 8
    li a0, MSTATUS_MPP
    csrc mstatus, a0
    li a0, (2 << 11)
    csrs mstatus, a0
    csrr a5, mstatus
    li a0, MSTATUS_MPP
    and a5, a5, a0
    li a4, (2 << 11)
    beq a5, a4, 1f
    li a5, 1
1:  CHK a5, 1                     /* anything but 2 */
TEST_END
