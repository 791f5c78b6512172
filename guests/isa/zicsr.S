/*
 * Zicsr: the six CSR instructions, the "no write when rs1 = x0 / uimm = 0"
 * rule, read-only and unknown CSRs (illegal instruction, mtval = the
 * instruction bits), WARL fields of M-mode CSRs (misa, mtvec, mstatus.MPP,
 * mepc, medeleg, mideleg), the counters and mcountinhibit. Privileged spec
 * chapters "Zicsr", "Machine-Level ISA" and "Counters".
 */
#define TEST_FILE "zicsr.S"
#include "common.h"

TEST_BEGIN
/* ---- the six instructions on mscratch ---- */
    TC 1
    li a0, 0x12345678
    csrw mscratch, a0
    li a1, 0xcafef00d
    csrrw a5, mscratch, a1
    CHK a5, 0x12345678
    csrr a5, mscratch
    CHK a5, 0xcafef00d
    TC 2
    li a1, 0x0000ffff
    csrrs a5, mscratch, a1
    CHK a5, 0xcafef00d
    csrr a5, mscratch
    CHK a5, 0xcafeffff
    TC 3
    li a1, 0xff0000ff
    csrrc a5, mscratch, a1
    CHK a5, 0xcafeffff
    csrr a5, mscratch
    CHK a5, 0x00feff00
    TC 4
    csrrwi a5, mscratch, 31
    CHK a5, 0x00feff00
    csrr a5, mscratch
    CHK a5, 31
    TC 5
    csrw mscratch, zero
    csrrsi a5, mscratch, 0x15
    CHK a5, 0
    csrr a5, mscratch
    CHK a5, 0x15
    TC 6
    csrrci a5, mscratch, 0x05
    CHK a5, 0x15
    csrr a5, mscratch
    CHK a5, 0x10
    TC 7                              /* rd = rs1: old value returned, new from rs1 */
    li a0, 77
    csrrw a0, mscratch, a0
    CHK a0, 0x10
    csrr a5, mscratch
    CHK a5, 77
    TC 8                              /* csrrs/csrrc with x0 and imm 0 leave it alone */
    csrrs a5, mscratch, x0
    csrrc a5, mscratch, x0
    csrrsi a5, mscratch, 0
    csrrci a5, mscratch, 0
    csrr a5, mscratch
    CHK a5, 77

/* ---- read-only CSRs: reads fine, any write illegal ---- */
    TC 9
    csrr a5, mhartid
    CHK a5, 0
    csrr a5, mvendorid
    csrr a5, marchid
    csrr a5, mimpid
    csrrsi a5, mhartid, 0             /* uimm 0: no write, legal */
    csrrc a5, mvendorid, x0
    CHK x0, 0
    TC 10
    TRAPS_ILL csrw mvendorid, a0
    TC 11
    TRAPS_ILL csrw marchid, a0
    TC 12
    TRAPS_ILL csrw mimpid, a0
    TC 13
    TRAPS_ILL csrrwi x0, mhartid, 1   /* rd = x0 still writes */
    TC 14
    li a1, 1                          /* (rs1 != x0 holding 0: zicsr-qemu-deviation.S) */
    TRAPS_ILL csrrs a5, mhartid, a1
    TC 15
    TRAPS_ILL csrrci a5, mhartid, 1
    TC 16
    csrr a5, cycle
    csrr a5, time
    csrr a5, instret
    csrr a5, cycleh
    csrr a5, timeh
    csrr a5, instreth
    TRAPS_ILL csrw cycle, a0
    TC 17
    TRAPS_ILL csrw time, a0
    TC 18
    TRAPS_ILL csrw instret, a0
    TC 19
    TRAPS_ILL csrrs a5, cycleh, a0
    TC 20
    TRAPS_ILL csrw instreth, zero

/* ---- CSR numbers that do not exist here ---- */
    TC 21
    TRAPS_ILL csrr a5, 0x0ff
    TC 22
    TRAPS_ILL csrr a5, 0x3ff
    TC 23
    TRAPS_ILL csrr a5, 0x7c0          /* custom M range, none implemented */
    TC 24
    TRAPS_ILL csrw 0x5c0, a0
    TC 25
    TRAPS_ILL csrr a5, 0x003          /* fcsr: no F extension */
    TC 26
    TRAPS_ILL csrr a5, 0x600          /* hstatus: no H extension */
    TC 27
    TRAPS_ILL csrr a5, 0xfff

/* ---- misa ---- */
    TC 28
    csrr s0, misa
    srli a5, s0, 30
    CHK a5, 1                         /* MXL = 1: 32-bit */
    li a4, (1<<0)|(1<<2)|(1<<8)|(1<<12)|(1<<18)|(1<<20)   /* A C I M S U */
    and a5, s0, a4
    CHKR a5, a4
    TC 29
    csrw misa, s0                     /* writing the same value changes nothing */
    csrr a5, misa
    CHKR a5, s0
    TC 30
    csrw misa, zero                   /* WARL: still a legal value */
    csrr a5, misa
    srli a4, a5, 30
    CHK a4, 1
    andi a4, a5, (1<<8)
    CHK a4, (1<<8)
    csrw misa, s0
    csrr a5, misa
    CHKR a5, s0

/* ---- mtvec: modes 2 and 3 are reserved ---- */
    csrr s1, mtvec
    TC 31
    la a0, isa_trap_entry
    ori a0, a0, 2
    csrw mtvec, a0
    csrr a5, mtvec
    andi a5, a5, 2                    /* mode is 0 or 1 */
    CHK a5, 0
    csrw mtvec, s1
    TC 32
    la a0, isa_trap_entry
    ori a0, a0, 3
    csrw mtvec, a0
    csrr a5, mtvec
    andi a5, a5, 2
    CHK a5, 0
    csrw mtvec, s1
    TC 33                             /* direct mode with an aligned base is kept */
    csrr a5, mtvec
    la a4, isa_trap_entry
    CHKR a5, a4

/* ---- mstatus.MPP takes M, S, U ---- */
    li s2, MSTATUS_MPP
.macro MPP n, val
    TC \n
    csrc mstatus, s2
    li a0, (\val << 11)
    csrs mstatus, a0
    csrr a5, mstatus
    and a5, a5, s2
    CHK a5, (\val << 11)
.endm
    MPP 34, 0
    MPP 35, 1
    MPP 36, 3
    TC 37                             /* mstatus.MIE / SIE / SUM / MXR writable */
    li a0, MSTATUS_SIE | MSTATUS_SUM | MSTATUS_MXR
    csrs mstatus, a0
    csrr a5, mstatus
    and a5, a5, a0
    CHKR a5, a0
    csrc mstatus, a0
    csrr a5, mstatus
    and a5, a5, a0
    CHK a5, 0
    TC 38                             /* sstatus is a view of mstatus */
    csrsi sstatus, MSTATUS_SIE
    csrr a5, mstatus
    andi a5, a5, MSTATUS_SIE
    CHK a5, MSTATUS_SIE
    csrci mstatus, MSTATUS_SIE
    csrr a5, sstatus
    andi a5, a5, MSTATUS_SIE
    CHK a5, 0
    TC 39                             /* sstatus hides the M fields */
    li a0, MSTATUS_MPP
    csrs mstatus, a0
    csrr a5, sstatus
    and a5, a5, a0
    CHK a5, 0

/* ---- mepc: bit 1 kept (IALIGN = 16); bit 0: zicsr-qemu-deviation.S ---- */
    TC 40
    li a0, 0x80000002
    csrw mepc, a0
    csrr a5, mepc
    CHK a5, 0x80000002
    TC 41
    li a0, 0x80001232
    csrw sepc, a0
    csrr a5, sepc
    CHK a5, 0x80001232
    TC 42
    li a0, 0x12345674
    csrw mepc, a0
    csrr a5, mepc
    CHK a5, 0x12345674

/* ---- medeleg / mideleg ---- */
    TC 43
    li a0, -1
    csrw medeleg, a0
    csrr a5, medeleg                  /* (bit 11 read-only zero: zicsr-qemu-deviation.S) */
    li a4, (1 << 8) | (1 << 12) | (1 << 13) | (1 << 15)
    and a5, a5, a4                    /* ecall-U and page faults delegable */
    CHKR a5, a4
    csrw medeleg, zero
    csrr a5, medeleg
    CHK a5, 0
    TC 44
    li a0, 0x222                      /* SSIP, STIP, SEIP */
    csrw mideleg, a0
    csrr a5, mideleg
    CHK a5, 0x222
    csrw mideleg, zero
    csrr a5, mideleg
    CHK a5, 0
    TC 45                             /* sie is mie restricted to delegated bits */
    li a0, 0x222
    csrw mideleg, a0
    csrw sie, a0
    csrr a5, mie
    andi a5, a5, 0x222
    CHK a5, 0x222
    csrr a5, sie
    CHK a5, 0x222
    csrw sie, zero
    csrr a5, mie
    CHK a5, 0
    csrw mideleg, zero

/* ---- counters ---- */
    TC 46                             /* mcycle / mcycleh writable */
    csrw mcycle, zero
    li a0, 0x12345678
    csrw mcycleh, a0
    csrr a5, mcycleh
    CHK a5, 0x12345678
    csrr a5, mcycle
    li a4, 0x10000000
    sltu a5, a5, a4
    CHK a5, 1
    TC 47                             /* minstret / minstreth writable */
    csrw minstret, zero
    li a0, 0x0badf00d
    csrw minstreth, a0
    csrr a5, minstreth
    CHK a5, 0x0badf00d
    csrr a5, minstret
    li a4, 0x10000000
    sltu a5, a5, a4
    CHK a5, 1
    TC 48                             /* cycle mirrors mcycle */
    csrr a5, cycleh
    CHK a5, 0x12345678
    csrr a5, instreth
    CHK a5, 0x0badf00d
    TC 49                             /* instret strictly increases, cycle never decreases */
    csrr s0, instret
    csrr s1, cycle
    nop
    nop
    nop
    csrr s2, instret
    csrr s3, cycle
    sltu a5, s0, s2
    CHK a5, 1
    sltu a5, s3, s1
    CHK a5, 0
    TC 50                             /* the 64-bit read idiom sees a monotonic value */
    li s4, 100
1:  csrr a0, cycleh
    csrr a1, cycle
    csrr a2, cycleh
    bne a0, a2, 1b
    bltu a0, s2, 9f                   /* reuse: s2/s3 = previous high/low */
    bne a0, s2, 2f
    bltu a1, s3, 9f
2:  mv s2, a0
    mv s3, a1
    addi s4, s4, -1
    bnez s4, 1b
    j 3f
9:  li a1, 1
    li a2, 0
    j isa_fail_value
3:  csrr a5, cycleh
    CHK a5, 0x12345678
    TC 51                             /* mcountinhibit: CY and IR writable (TM: deviation file) */
    li a0, 5
    csrw mcountinhibit, a0
    csrr a5, mcountinhibit
    CHK a5, 5
    TC 52                             /* inhibited minstret does not move */
    csrr s0, minstret
    nop
    nop
    csrr s1, minstret
    CHKR s1, s0
    TC 53
    csrw mcountinhibit, zero
    csrr s0, minstret
    nop
    csrr s1, minstret
    sltu a5, s0, s1
    CHK a5, 1
    TC 54                             /* mcounteren / scounteren hold CY TM IR */
    li a0, 7
    csrw mcounteren, a0
    csrr a5, mcounteren
    andi a5, a5, 7
    CHK a5, 7
    csrw scounteren, a0
    csrr a5, scounteren
    andi a5, a5, 7
    CHK a5, 7
    csrw mcounteren, zero
    csrw scounteren, zero
TEST_END
