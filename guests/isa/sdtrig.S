/*
 * Debug triggers (Sdtrig, RISC-V Debug Specification 1.0, "Trigger Module"):
 * tselect, tdata1/tdata2, tinfo and two mcontrol6 triggers that match the
 * address of an instruction, a load or a store (match = equal) in S and U
 * and raise a breakpoint exception (3) before it executes, with mepc at the
 * instruction. What QEMU 7.2 does otherwise (mtval, tdata1 = 0, the reset
 * value, tinfo, M-mode triggers and tcontrol, WARL fields, napot/ge/lt, the
 * hit bits) is in sdtrig-qemu-deviation.S.
 */
#define TEST_FILE "sdtrig.S"
#include "common.h"
#include "sdtrig.h"

TEST_BEGIN
    TC 1                      /* tselect holds 0 and 1 */
    csrwi tselect, 1
    csrr a5, tselect
    CHK a5, 1
    csrwi tselect, 0
    csrr a5, tselect
    CHK a5, 0

    TC 2                      /* tinfo: mcontrol6 (type 6) supported */
    csrr a5, tinfo
    andi a5, a5, (1 << 6)
    CHK a5, (1 << 6)

    TC 3                      /* tdata1 and tdata2 per trigger */
    la a0, trig_data
    ARM 0, (T_TYPE6 | T_U | T_LOAD), a0
    addi a1, a0, 4
    ARM 1, (T_TYPE6 | T_U | T_STORE), a1
    csrwi tselect, 0
    csrr a5, tdata2
    CHKR a5, a0
    csrr a5, tdata1
    CHK a5, (T_TYPE6 | T_U | T_LOAD)
    csrwi tselect, 1
    csrr a5, tdata2
    CHKR a5, a1
    csrr a5, tdata1
    CHK a5, (T_TYPE6 | T_U | T_STORE)
    DISARM 0
    DISARM 1

    TC 4                      /* execute trigger in U: breakpoint before the instruction, mtval = pc */
    la a0, 1f
    ARM 0, (T_TYPE6 | T_U | T_EXEC), a0
    li a1, 0
    EXPECT_BREAK 1f, 2f, a0
    GO_MODE PRV_U
1:  addi a1, zero, 7
    j isa_fail_notrap
2:  DISARM 0
    CHK a1, 0

    TC 5                      /* load trigger in U: no load, mtval = the address */
    la a0, trig_data
    li a1, 0x1234
    sw a1, 0(a0)
    ARM 0, (T_TYPE6 | T_U | T_LOAD), a0
    li a2, 0
    EXPECT_BREAK 1f, 2f, a0
    GO_MODE PRV_U
1:  lw a2, 0(a0)
    j isa_fail_notrap
2:  DISARM 0
    CHK a2, 0

    TC 6                      /* store trigger in U: memory unchanged */
    la a0, trig_data
    sw zero, 0(a0)
    ARM 0, (T_TYPE6 | T_U | T_STORE), a0
    li a1, 0x55
    EXPECT_BREAK 1f, 2f, a0
    GO_MODE PRV_U
1:  sw a1, 0(a0)
    j isa_fail_notrap
2:  DISARM 0
    lw a5, 0(a0)
    CHK a5, 0

    TC 7                      /* two triggers: a load of the store trigger's word and a store to the load trigger's do not fire */
    la a0, trig_data
    addi a1, a0, 8
    ARM 0, (T_TYPE6 | T_U | T_LOAD), a0
    ARM 1, (T_TYPE6 | T_U | T_STORE), a1
    li a2, 0x77
    GO_MODE PRV_U
    sw a2, 0(a0)
    lw a3, 0(a1)
    TO_M
    TC 8                      /* ... and trigger 1 fires on its store */
    EXPECT_BREAK 1f, 2f, a1
    GO_MODE PRV_U
1:  sw a2, 0(a1)
    j isa_fail_notrap
2:  TC 9                      /* ... and trigger 0 on its load (lbu, same address) */
    EXPECT_BREAK 1f, 2f, a0
    GO_MODE PRV_U
1:  lbu a3, 0(a0)
    j isa_fail_notrap
2:  DISARM 0
    DISARM 1

    TC 10                     /* u only: no fire in S */
    la a0, trig_data
    ARM 0, (T_TYPE6 | T_U | T_LOAD), a0
    GO_MODE PRV_S
    lw a3, 0(a0)
    TO_M
    TC 11                     /* s: fires in S */
    ARM 0, (T_TYPE6 | T_S | T_LOAD), a0
    EXPECT_BREAK 1f, 2f, a0
    GO_MODE PRV_S
1:  lw a3, 0(a0)
    j isa_fail_notrap
2:  DISARM 0

    TC 12                     /* execute trigger in S on a compressed instruction */
    la a0, 1f
    ARM 0, (T_TYPE6 | T_S | T_EXEC), a0
    EXPECT_BREAK 1f, 2f, a0
    GO_MODE PRV_S
    .option push
    .option rvc
1:  c.nop
    .option pop
    j isa_fail_notrap
2:  DISARM 0

    TC 13                     /* an execute trigger does not fire on a load from its address */
    la a0, 1f
    ARM 0, (T_TYPE6 | T_U | T_EXEC), a0
    GO_MODE PRV_U
    lw a3, 0(a0)
    TO_M
    DISARM 0
    j 3f
1:  nop
3:
    TC 14                     /* a load trigger does not fire on executing its address */
    la a0, 1f
    ARM 0, (T_TYPE6 | T_U | T_LOAD | T_STORE), a0
    GO_MODE PRV_U
1:  nop
    TO_M
    DISARM 0

    TC 15                     /* amoadd: a store trigger fires, memory unchanged */
    la a0, trig_data
    li a1, 5
    sw a1, 0(a0)
    ARM 0, (T_TYPE6 | T_U | T_STORE), a0
    EXPECT_BREAK 1f, 2f, a0
    GO_MODE PRV_U
1:  amoadd.w a3, a1, (a0)
    j isa_fail_notrap
2:  DISARM 0
    lw a5, 0(a0)
    CHK a5, 5

    TC 16                     /* lr.w: a load trigger fires */
    la a0, trig_data
    ARM 0, (T_TYPE6 | T_U | T_LOAD), a0
    EXPECT_BREAK 1f, 2f, a0
    GO_MODE PRV_U
1:  lr.w a3, (a0)
    j isa_fail_notrap
2:  DISARM 0

    TC 17                     /* mcontrol6 with none of execute, load, store never fires */
    la a0, trig_data
    csrwi tselect, 0
    csrw tdata2, a0
    li t0, (T_TYPE6 | T_U)
    csrw tdata1, t0
    GO_MODE PRV_U
    lw a3, 0(a0)
    sw a3, 0(a0)
    TO_M

    TC 18                     /* a load trigger on another word leaves loads alone */
    la a0, trig_data
    addi a1, a0, 12
    ARM 0, (T_TYPE6 | T_U | T_LOAD), a1
    GO_MODE PRV_U
    lw a3, 0(a0)
    lw a3, 4(a0)
    lw a3, 8(a0)
    TO_M
    DISARM 0
    TC 19                      /* tselect WARL: 2 is no trigger, tselect keeps a trigger's index */
    csrwi tselect, 1
    csrwi tselect, 2
    csrr a5, tselect
    CHK a5, 1
    csrwi tselect, 0

    TC 20                     /* unsupported match values read as 0 (equal) */
    la a0, trig_data
    ARM 0, (T_TYPE6 | MATCH(4) | T_U | T_LOAD), a0
    csrr a5, tdata1
    CHK a5, (T_TYPE6 | T_U | T_LOAD)
    DISARM 0
TEST_END

    .data
    .balign 64
trig_data: .space 64
