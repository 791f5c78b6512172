/*
 * Privileged rules where QEMU 7.2 departs from the spec (priv spec 1.12,
 * mstatus.MPRV): "An MRET or SRET instruction that changes the privilege
 * mode to a mode less privileged than M also sets MPRV=0." QEMU 7.2 leaves
 * MPRV set. The differential test runs this file only on Rewind.
 */
#define TEST_FILE "priv-qemu-deviation.S"
#include "common.h"

TEST_BEGIN
    TC 1                                    /* mret to U clears MPRV */
    li a0, MSTATUS_MPP
    csrc mstatus, a0
    li a0, MSTATUS_MPRV                      /* MPP = U, MPRV = 1 */
    csrs mstatus, a0
    la a0, 1f
    csrw mepc, a0
    mret
1:  TO_M
    LDTRAP a5, D_LSTATUS
    li a4, MSTATUS_MPRV
    and a5, a5, a4
    CHK a5, 0
    TC 2                                    /* sret (from M) to U clears MPRV */
    li a0, MSTATUS_MPRV | MSTATUS_MPP        /* MPRV = 1 with MPP = M: harmless */
    csrs mstatus, a0
    li a0, MSTATUS_SPP
    csrc mstatus, a0
    la a0, 1f
    csrw sepc, a0
    sret
1:  TO_M
    LDTRAP a5, D_LSTATUS
    li a4, MSTATUS_MPRV
    and a5, a5, a4
    CHK a5, 0

TEST_END
