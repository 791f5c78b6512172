/*
 * mcycle/minstret writes (Zicsr, unprivileged spec 20191213, "CSR
 * Instructions"): a CSR instruction that writes a counter retires first, so
 * its own increment is not added after the write. The value written is the
 * value the next instruction reads. mcycle counts one per step here (no idle
 * ticks between these instructions), like minstret.
 */
#define TEST_FILE "counters-qemu-deviation.S"
#include "common.h"

TEST_BEGIN
    csrw mcountinhibit, zero
    TC 1                      /* csrwi minstret, 0: the next instruction reads 0 */
    csrwi minstret, 0
    csrr a5, minstret
    CHK a5, 0
    TC 2                      /* mcycle likewise */
    csrwi mcycle, 0
    csrr a5, mcycle
    CHK a5, 0
    TC 3                      /* a read two instructions later counts the one between */
    csrwi minstret, 5
    nop
    csrr a5, minstret
    CHK a5, 6
    TC 4                      /* -1 in both halves, a nop: 0xffffffff'00000001 */
    li a0, -1
    csrw minstret, a0
    csrw minstreth, a0
    nop
    csrr a5, minstret
    csrr a4, minstreth
    CHK a5, 1
    CHK a4, 0xffffffff
    TC 5                      /* mcycle likewise */
    li a0, -1
    csrw mcycle, a0
    csrw mcycleh, a0
    nop
    csrr a5, mcycle
    csrr a4, mcycleh
    CHK a5, 1
    CHK a4, 0xffffffff
    TC 6                      /* the writing instruction's increment carries into the high half before the write replaces it */
    li a0, -1
    csrw minstret, a0
    csrwi minstreth, 5
    csrr a5, minstret
    csrr a4, minstreth
    CHK a5, 0
    CHK a4, 5
    TC 7                      /* csrrw returns the old value; the next read gets the new one */
    csrwi minstret, 10
    csrrwi a5, minstret, 20
    csrr a4, minstret
    CHK a5, 10
    CHK a4, 20
    TC 8                      /* csrrs on minstret: old value | bits, as written */
    csrwi minstret, 8
    csrrsi a5, minstret, 1
    csrr a4, minstret
    CHK a5, 8
    CHK a4, 9
TEST_END
