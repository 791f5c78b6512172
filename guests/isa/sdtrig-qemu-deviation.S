/*
 * Debug triggers where QEMU 7.2 departs from the Sdtrig 1.0 spec. The
 * differential test runs this file only on Rewind (see README.md).
 *  1. tdata1 resets to a disabled trigger (type 15); QEMU: type 2.
 *  2. tinfo: version 1 (bits 31:24), types 6 and 15; QEMU: 0x44 (types 2, 6).
 *  3. Writing tdata1 = 0 disables the trigger (type 15); QEMU keeps type 6
 *     and the old fields, and the trigger still fires.
 *  4. WARL fields an implementation lacks read back as legal values (0);
 *     QEMU keeps vs/vu. Type 2 is not supported here: disabled.
 *  6-7. tcontrol (mte/mpte) keeps triggers from firing in M-mode unless mte
 *     is set; a trap into M saves mte in mpte and clears it, mret restores
 *     it. QEMU 7.2 has no tcontrol (illegal instruction).
 *  8-12. mtval holds the address that matched (the pc, or the load/store
 *     address); QEMU writes 0. hit0 is set when a trigger fires. An access
 *     matches "equal" at its own address only: QEMU matches a load of the
 *     next word too.
 */
#define TEST_FILE "sdtrig-qemu-deviation.S"
#include "common.h"
#include "sdtrig.h"

TEST_BEGIN
    TC 1                       /* reset value: a disabled trigger (type 15) */
    csrr a5, tdata1
    CHK a5, 0xf0000000

    TC 2                       /* tinfo: version 1, types 6 and 15 */
    csrr a5, tinfo
    CHK a5, 0x01008040

    TC 3                       /* tdata1 = 0 disables: type 15 */
    la a0, trig_data
    ARM 0, (T_TYPE6 | T_U | T_LOAD), a0
    csrw tdata1, zero
    csrr a5, tdata1
    CHK a5, 0xf0000000
    GO_MODE PRV_U
    lw a3, 0(a0)
    TO_M

    TC 4                       /* WARL: select, action, chain, dmode, vs/vu, size, uncertain read as 0 */
    li t0, (T_TYPE6 | (1 << 27) | (1 << 26) | (3 << 23) | (1 << 21) | (7 << 16) | (1 << 12) | (1 << 11) | (1 << 5) | T_U | T_LOAD)
    csrw tdata1, t0
    csrr a5, tdata1
    CHK a5, (T_TYPE6 | T_U | T_LOAD)

    TC 5                       /* type 2 (legacy mcontrol) is not supported: disabled */
    li t0, ((2 << 28) | T_U | T_LOAD)
    csrw tdata1, t0
    csrr a5, tdata1
    CHK a5, 0xf0000000

    TC 6                       /* m set, tcontrol.mte = 0: no fire in M */
    la a0, trig_data
    csrw tcontrol, zero
    ARM 0, (T_TYPE6 | T_M | T_LOAD), a0
    lw a3, 0(a0)
    TC 7                       /* mte = 1: fires in M; the trap saves mte in mpte and clears it; mret restores it */
    csrwi tcontrol, TCONTROL_MTE
    EXPECT_BREAK_TVAL 1f, 2f, a0
1:  lw a3, 0(a0)
    j isa_fail_notrap
2:  csrr a5, tcontrol
    CHK a5, (TCONTROL_MTE | TCONTROL_MPTE)
    DISARM 0
    csrw tcontrol, zero

    TC 8                       /* hit0 is set by a firing trigger */
    la a0, trig_data
    ARM 0, (T_TYPE6 | T_U | T_LOAD), a0
    EXPECT_BREAK_TVAL 1f, 2f, a0
    GO_MODE PRV_U
1:  lw a3, 0(a0)
    j isa_fail_notrap
2:  csrr a5, tdata1
    CHK a5, (T_TYPE6 | T_HIT0 | T_U | T_LOAD)
    DISARM 0

    TC 9                      /* match napot: 16 bytes at trig_data (tdata2 = base | 7) */
    la a0, trig_data
    ori a1, a0, 7
    ARM 0, (T_TYPE6 | MATCH(1) | T_U | T_LOAD), a1
    addi a2, a0, 12
    addi a4, a0, 16
    GO_MODE PRV_U
    lw a3, 0(a4)              /* outside */
    TO_M
    EXPECT_BREAK_TVAL 1f, 2f, a2
    GO_MODE PRV_U
1:  lw a3, 0(a2)
    j isa_fail_notrap
2:  DISARM 0

    TC 10                     /* match ge and lt */
    la a0, trig_data
    addi a1, a0, 8
    ARM 0, (T_TYPE6 | MATCH(2) | T_U | T_STORE), a1
    ARM 1, (T_TYPE6 | MATCH(3) | T_U | T_STORE), a0
    GO_MODE PRV_U
    sw zero, 4(a0)            /* neither >= base+8 nor < base */
    TO_M
    addi a2, a0, 12
    EXPECT_BREAK_TVAL 1f, 2f, a2
    GO_MODE PRV_U
1:  sw zero, 12(a0)
    j isa_fail_notrap
2:  addi a2, a0, -4
    EXPECT_BREAK_TVAL 1f, 2f, a2
    GO_MODE PRV_U
1:  sw zero, -4(a0)
    j isa_fail_notrap
2:  DISARM 0
    DISARM 1

    TC 11                     /* mtval = the address: execute, load, store */
    la a0, 1f
    ARM 0, (T_TYPE6 | T_U | T_EXEC), a0
    EXPECT_BREAK_TVAL 1f, 2f, a0
    GO_MODE PRV_U
1:  nop
    j isa_fail_notrap
2:  la a0, trig_data
    ARM 0, (T_TYPE6 | T_U | T_LOAD | T_STORE), a0
    EXPECT_BREAK_TVAL 1f, 2f, a0
    GO_MODE PRV_U
1:  lh a3, 0(a0)
    j isa_fail_notrap
2:  EXPECT_BREAK_TVAL 1f, 2f, a0
    GO_MODE PRV_U
1:  sb a3, 0(a0)
    j isa_fail_notrap
2:  DISARM 0

    TC 12                     /* size any, match equal: the access's address is compared, not the next word */
    la a0, trig_data
    ARM 0, (T_TYPE6 | T_U | T_LOAD | T_STORE), a0
    GO_MODE PRV_U
    lw a3, 4(a0)
    sw a3, 4(a0)
    TO_M
    DISARM 0

TEST_END

    .data
    .balign 64
trig_data: .space 64
