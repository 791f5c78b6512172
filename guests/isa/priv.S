/*
 * Privileged architecture: mret/sret and the MPP/MPIE/MIE (SPP/SPIE/SIE)
 * stacks, ecall causes 8/9/11, delegation to S (medeleg/mideleg, scause,
 * sepc, stval, stvec), CSR privilege checks, counter enables, TSR/TW/TVM,
 * vectored mtvec with a CLINT software interrupt, wfi with a pending
 * interrupt, illegal encodings, 2-aligned jump targets, access faults from
 * unmapped addresses, and PMP (NAPOT, TOR, NA4, lock).
 * Registers s7..s11 are used by the handlers below to report back.
 */
#define TEST_FILE "priv.S"
#include "common.h"

#define MSIP_IRQ 0x80000003
#define SSIP_IRQ 0x80000001

    .section .pages, "aw"
    .balign 4096
pmpbuf:  .space 4096
pmpbuf2: .space 4096
lockbuf: .space 4096

/* set one field of the trap expectation from a register */
.macro SETEXP field, reg
    la t6, isa_data
    sw \reg, \field(t6)
.endm

/* jalr to reg must fail with an instruction access fault at the target */
.macro FETCH_FAULT reg
    TRAP_AT 1, 0, .Lff\@, .Lffr\@, (F_TVAL | F_EPC)
    SETEXP D_EPC, \reg
    SETEXP D_TVAL, \reg
.Lff\@:
    jalr ra, 0(\reg)
    j isa_fail_notrap
.Lffr\@:
.endm

TEST_BEGIN
    j main

/* ---- handlers ---- */
    .balign 4
s_handler:                  /* delegated exceptions: report, then back to M */
    S_FORWARD_FAIL
    csrr s8, scause
    csrr s9, sepc
    csrr s10, stval
    csrr s11, sstatus
    TO_M
    jr s7

    .balign 4
s_int:                      /* delegated supervisor software interrupt */
    csrr s9, scause
    csrr s10, sepc
    csrci sip, 2
    sret

    .balign 64
vec_table:                  /* mtvec vectored: base + 4 * cause */
    .option push
    .option norvc
    j isa_trap_entry        /* 0: exceptions */
    j vec_ssi               /* 1: supervisor software */
    j vec_bad
    j vec_msi               /* 3: machine software */
    j vec_bad
    j vec_bad
    j vec_bad
    j vec_mti               /* 7: machine timer */
    j vec_bad
    j vec_bad
    j vec_bad
    j vec_bad
    .option pop
vec_msi:
    li t6, CLINT
    sw zero, 0(t6)
    csrr s9, mcause
    csrr s10, mepc
    mret
vec_ssi:
    csrci mip, 2
    csrr s9, mcause
    csrr s10, mepc
    mret
vec_mti:                    /* push mtimecmp to the far future */
    li t6, CLINT + 0x4000
    li t5, -1
    sw t5, 4(t6)
    sw t5, 0(t6)
    mv s8, s9               /* what the MSI handler had reported by now */
    csrr s11, mcause
    csrr s10, mepc
    mret
vec_bad:
    csrr a1, mcause
    li a2, 0
    j isa_fail_value

main:
/* ---- mret stacks: MIE <- MPIE, MPIE <- 1, MPP <- U ---- */
    TC 1
    li a0, MSTATUS_MPP | MSTATUS_MIE
    csrc mstatus, a0
    li a0, MSTATUS_MPP | MSTATUS_MPIE       /* MPP = M, MPIE = 1 */
    csrs mstatus, a0
    la a0, 1f
    csrw mepc, a0
    mret
1:  csrr a5, mstatus
    li a4, MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE
    and a5, a5, a4
    CHK a5, MSTATUS_MPIE | MSTATUS_MIE       /* MPP = U after mret */
    csrci mstatus, MSTATUS_MIE
    TC 2                                     /* MPIE = 0 gives MIE = 0 */
    li a0, MSTATUS_MPIE
    csrc mstatus, a0
    csrsi mstatus, MSTATUS_MIE
    li a0, MSTATUS_MPP
    csrs mstatus, a0
    la a0, 1f
    csrw mepc, a0
    mret
1:  csrr a5, mstatus
    andi a5, a5, MSTATUS_MIE
    CHK a5, 0

/* ---- ecall causes and the trap stack ---- */
    TC 3                                     /* ecall from U = 8, MPP = U */
    li a0, MSTATUS_MPIE
    csrs mstatus, a0                         /* U runs with MIE = 1 after mret */
    GO_MODE PRV_U
    TO_M
    LDTRAP a5, D_LCAUSE
    CHK a5, 8
    LDTRAP a5, D_LSTATUS
    li a4, MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE
    and a5, a5, a4
    CHK a5, MSTATUS_MPIE                     /* MPIE <- MIE (1), MIE <- 0, MPP = 0 */
    TC 4                                     /* ecall from S = 9, MPP = S */
    GO_MODE PRV_S
    TO_M
    LDTRAP a5, D_LCAUSE
    CHK a5, 9
    LDTRAP a5, D_LSTATUS
    li a4, MSTATUS_MPP
    and a5, a5, a4
    CHK a5, (PRV_S << 11)
    TC 5                                     /* ecall from M = 11, mepc = the ecall */
    TRAPS 11, 0, ecall
    TC 6                                     /* mepc of an ecall from U is the ecall */
    GO_MODE PRV_U
    TRAPS 8, 0, ecall

    TC 85                                    /* mret to M keeps MPRV (mret/sret to U
                                                clearing it: priv-qemu-deviation.S) */
    li a0, MSTATUS_MPP | MSTATUS_MPRV        /* MPP = M: MPRV changes nothing */
    csrs mstatus, a0
    la a0, 1f
    csrw mepc, a0
    mret
1:  csrr a5, mstatus
    li a4, MSTATUS_MPRV
    csrc mstatus, a4
    and a5, a5, a4
    CHK a5, MSTATUS_MPRV
/* ---- sret ---- */
    TC 7                                     /* sret S -> U: SIE <- SPIE, SPIE <- 1, SPP <- U */
    GO_MODE PRV_S
    li a0, MSTATUS_SPP | MSTATUS_SIE
    csrc sstatus, a0
    li a0, MSTATUS_SPIE
    csrs sstatus, a0
    la a0, 1f
    csrw sepc, a0
    sret
1:  TO_M                                     /* from U if sret went to U */
    LDTRAP a5, D_LCAUSE
    CHK a5, 8
    LDTRAP a5, D_LSTATUS
    li a4, MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE
    and a5, a5, a4
    CHK a5, MSTATUS_SPIE | MSTATUS_SIE
    csrci mstatus, MSTATUS_SIE
    TC 8                                     /* sret S -> S */
    GO_MODE PRV_S
    li a0, MSTATUS_SPP
    csrs sstatus, a0
    la a0, 1f
    csrw sepc, a0
    sret
1:  TO_M
    LDTRAP a5, D_LCAUSE
    CHK a5, 9
    LDTRAP a5, D_LSTATUS
    li a4, MSTATUS_SPP
    and a5, a5, a4
    CHK a5, 0                                /* SPP <- U after sret */
    TC 9                                     /* sret from M is legal: goes to SPP */
    li a0, MSTATUS_SPP
    csrc mstatus, a0
    la a0, 1f
    csrw sepc, a0
    sret
1:  TO_M
    LDTRAP a5, D_LCAUSE
    CHK a5, 8

/* ---- delegation of ecall from U to S ---- */
    TC 10
    la a0, s_handler
    csrw stvec, a0
    li a0, (1 << 8)
    csrw medeleg, a0
    la s7, 2f
    li s8, 0
    GO_MODE PRV_U
1:  ecall                                    /* goes to S, not M */
    j isa_fail_notrap
2:  csrw medeleg, zero
    CHK s8, 8                                /* scause */
    la a4, 1b
    CHKR s9, a4                              /* sepc */
    CHK s10, 0                               /* stval */
    li a4, MSTATUS_SPP
    and a5, s11, a4
    CHK a5, 0                                /* SPP = U */
    LDTRAP a5, D_LCAUSE                      /* the only M trap: the handler's ecall */
    CHK a5, 9
    TC 11                                    /* delegated illegal instruction: stval = bits */
    li a0, (1 << 2)
    csrw medeleg, a0
    la s7, 2f
    GO_MODE PRV_U
1:  csrr a0, mstatus
    j isa_fail_notrap
2:  csrw medeleg, zero
    CHK s8, 2
    la a4, 1b
    CHKR s9, a4
    lw a4, 0(a4)
    CHKR s10, a4
    TC 12                                    /* traps from M are never delegated */
    li a0, (1 << 2) | (1 << 3)
    csrw medeleg, a0
    TRAPS_NT 3, ebreak
    csrw medeleg, zero

/* ---- CSR privilege ---- */
    TC 13
    GO_MODE PRV_U
    TRAPS_ILL csrr a0, mstatus
    TC 14
    GO_MODE PRV_S
    TRAPS_ILL csrr a0, mstatus
    TC 15
    GO_MODE PRV_U
    TRAPS_ILL csrr a0, sstatus
    TC 16
    GO_MODE PRV_S
    TRAPS_ILL csrw medeleg, zero
    TC 17
    GO_MODE PRV_U
    TRAPS_ILL csrw sscratch, a0
    TC 18
    GO_MODE PRV_S
    TRAPS_ILL csrr a0, mhartid
    TC 19                                    /* S may use its own CSRs */
    GO_MODE PRV_S
    li a0, 0x5a5a
    csrw sscratch, a0
    csrr a5, sscratch
    csrr a4, sstatus
    csrr a4, satp
    TO_M
    CHK a5, 0x5a5a

/* ---- counter enables ---- */
    csrw mcounteren, zero
    csrw scounteren, zero
    TC 20
    GO_MODE PRV_U
    TRAPS_ILL csrr a0, cycle
    TC 21
    GO_MODE PRV_S
    TRAPS_ILL csrr a0, instret
    TC 22
    GO_MODE PRV_S
    TRAPS_ILL csrr a0, time
    TC 23                                    /* mcounteren set: S may read, U still not */
    li a0, 7
    csrw mcounteren, a0
    GO_MODE PRV_S
    csrr a0, cycle
    csrr a0, time
    csrr a0, instreth
    TO_M
    GO_MODE PRV_U
    TRAPS_ILL csrr a0, cycle
    TC 24                                    /* both set: U may read */
    li a0, 5                                 /* CY, IR; not TM */
    csrw scounteren, a0
    GO_MODE PRV_U
    csrr a0, cycle
    csrr a0, instret
    TRAPS_ILL csrr a0, time
    TC 25
    li a0, 7
    csrw mcounteren, a0
    li a0, 2                                 /* only TM for U */
    csrw scounteren, a0
    GO_MODE PRV_U
    csrr a0, time
    TRAPS_ILL csrr a0, cycleh
    csrw mcounteren, zero
    csrw scounteren, zero

/* ---- xRET and WFI from the wrong mode, TSR/TW/TVM ---- */
    TC 26
    GO_MODE PRV_U
    TRAPS_ILL sret
    TC 27
    GO_MODE PRV_S
    TRAPS_ILL mret
    TC 28
    GO_MODE PRV_U
    TRAPS_ILL mret
    TC 29                                    /* TSR: sret in S traps */
    li a0, MSTATUS_TSR
    csrs mstatus, a0
    GO_MODE PRV_S
    TRAPS_ILL sret
    li a0, MSTATUS_TSR
    csrc mstatus, a0
    TC 30                                    /* TW: wfi in S traps */
    li a0, MSTATUS_TW
    csrs mstatus, a0
    GO_MODE PRV_S
    TRAPS_ILL wfi
    TC 31                                    /* TW: wfi in U traps */
    GO_MODE PRV_U
    TRAPS_ILL wfi
    li a0, MSTATUS_TW
    csrc mstatus, a0
    TC 32                                    /* TVM: satp from S traps */
    li a0, MSTATUS_TVM
    csrs mstatus, a0
    GO_MODE PRV_S
    TRAPS_ILL csrr a0, satp
    TC 33
    GO_MODE PRV_S
    TRAPS_ILL csrw satp, zero
    TC 34
    GO_MODE PRV_S
    TRAPS_ILL sfence.vma
    TC 35                                    /* TVM does not apply to M */
    csrr a0, satp
    sfence.vma
    li a0, MSTATUS_TVM
    csrc mstatus, a0
    TC 36                                    /* without TVM, S may */
    GO_MODE PRV_S
    csrr a0, satp
    sfence.vma
    TO_M
    CHK x0, 0

/* ---- interrupts: vectored mtvec, CLINT msip ---- */
    la a0, vec_table
    ori a0, a0, 1
    csrw mtvec, a0
    TC 37
    csrr a5, mtvec
    la a4, vec_table + 1
    CHKR a5, a4
    TC 38                                    /* machine software interrupt in M */
    li s9, 0
    li s10, 0
    li a0, CLINT
    li a1, 1
    sw a1, 0(a0)
    li a0, (1 << 3)
    csrs mie, a0
    csrsi mstatus, MSTATUS_MIE
1:  nop
    csrci mstatus, MSTATUS_MIE
    CHK s9, MSIP_IRQ
    la a4, 1b
    CHKR s10, a4
    TC 39                                    /* msip cleared by the handler */
    csrr a5, mip
    andi a5, a5, (1 << 3)
    CHK a5, 0
    TC 40                                    /* pending + enabled in mie, MIE = 0: */
    li s9, 0                                 /*   not taken in M */
    li a0, CLINT
    li a1, 1
    sw a1, 0(a0)
    nop
    nop
    CHK s9, 0
    csrr a5, mip
    andi a5, a5, (1 << 3)
    CHK a5, (1 << 3)
    TC 41                                    /* wfi returns at once when one is pending */
    wfi
    CHK s9, 0
    TC 42                                    /* M interrupts are always on in U */
    li a0, MSTATUS_MPP
    csrc mstatus, a0
    la a0, 1f
    csrw mepc, a0
    mret
1:  nop
    TO_M
    CHK s9, MSIP_IRQ
    la a4, 1b
    CHKR s10, a4
    TC 43                                    /* non-delegated SSIP goes to M, vector 1 */
    li s9, 0
    li a0, (1 << 1)
    csrs mie, a0
    csrsi mip, (1 << 1)
    csrsi mstatus, MSTATUS_MIE
1:  nop
    csrci mstatus, MSTATUS_MIE
    CHK s9, SSIP_IRQ
    la a4, 1b
    CHKR s10, a4
    TC 44                                    /* delegated SSIP: not taken in M ... */
    la a0, s_int
    csrw stvec, a0
    li a0, (1 << 1)
    csrw mideleg, a0
    li s9, 0
    csrsi mstatus, MSTATUS_MIE | MSTATUS_SIE
    csrsi mip, (1 << 1)
    nop
    csrci mstatus, MSTATUS_MIE
    CHK s9, 0
    TC 45                                    /* ... but in S, through stvec */
    li a0, MSTATUS_MPP
    csrc mstatus, a0
    li a0, (PRV_S << 11)
    csrs mstatus, a0
    la a0, 1f
    csrw mepc, a0
    mret
1:  nop
    TO_M
    CHK s9, SSIP_IRQ
    la a4, 1b
    CHKR s10, a4
    csrci mstatus, MSTATUS_SIE
    csrw mideleg, zero
    csrw mie, zero
    TC 81                                    /* machine timer: mtimecmp = 0 is due */
    li s11, 0
    li a0, CLINT + 0x4000
    sw zero, 4(a0)
    sw zero, 0(a0)
    csrr a5, mip
    andi a5, a5, (1 << 7)
    CHK a5, (1 << 7)
    li a0, (1 << 7)
    csrs mie, a0
    csrsi mstatus, MSTATUS_MIE
1:  nop
    csrci mstatus, MSTATUS_MIE
    CHK s11, 0x80000007
    la a4, 1b
    CHKR s10, a4
    csrr a5, mip
    andi a5, a5, (1 << 7)
    CHK a5, 0
    TC 82                                    /* MSI is taken before MTI */
    li s8, 0
    li s9, 0
    li s11, 0
    li a0, CLINT
    li a1, 1
    sw a1, 0(a0)
    li a0, CLINT + 0x4000
    sw zero, 4(a0)
    sw zero, 0(a0)
    li a0, (1 << 7) | (1 << 3)
    csrs mie, a0
    csrsi mstatus, MSTATUS_MIE
    nop
    csrci mstatus, MSTATUS_MIE
    CHK s9, MSIP_IRQ
    CHK s11, 0x80000007
    CHK s8, MSIP_IRQ
    csrw mie, zero
    TC 83                                    /* exceptions use the base of a vectored mtvec */
    TRAPS 11, 0, ecall
    la a0, isa_trap_entry
    csrw mtvec, a0

/* ---- illegal encodings ---- */
    TC 46
    TRAPS_ILL .word 0x00000000               /* mtval 0 */
    TC 47
    TRAPS_ILL .word 0xffffffff
    TC 48
    TRAPS_ILL .word 0x0000000b               /* custom-0 */
    TC 49
    TRAPS_ILL .word 0x40001033               /* OP funct7 0x20 with funct3 1 */
    TC 50
    TRAPS_ILL .word 0x00200073               /* uret: not in this ISA */
    TC 51
    GO_MODE PRV_U
    TRAPS_ILL .word 0x0000505b

/* ---- 2-aligned targets are fine with C ---- */
    TC 52
    la a0, 2f
    jalr ra, 0(a0)
    j 3f
    .balign 4
    c.nop
2:  c.nop                                    /* address = 2 mod 4 */
    ret
3:  la a4, 2b
    andi a4, a4, 3
    CHK a4, 2
    TC 53                                    /* mret to a 2-aligned mepc */
    la a0, 2f
    csrw mepc, a0
    li a0, MSTATUS_MPP
    csrs mstatus, a0
    mret
    j isa_fail_value
    .balign 4
    c.nop
2:  CHK x0, 0

/* ---- access faults from unmapped physical addresses ---- */
    TC 54                                    /* fetch from 0x0: cause 1 */
    TRAP_AT 1, 0, 1f, 2f, (F_TVAL | F_EPC)
    SETEXP D_EPC, zero
1:  jalr zero, 0(zero)
    j isa_fail_notrap
2:  TC 55
    li s0, 0xf0000000
    TRAP_AT 1, 0, 1f, 2f, (F_TVAL | F_EPC)
    SETEXP D_EPC, s0
    SETEXP D_TVAL, s0
1:  jalr zero, 0(s0)
    j isa_fail_notrap
2:  TC 56                                    /* load: cause 5, mtval = address */
    TRAPS 5, 0, lw a0, 0(zero)
    TC 57
    li s0, 0xf0000010
    TRAP_AT 5, 0, 1f, 2f, (F_TVAL | F_EPC)
    SETEXP D_TVAL, s0
1:  lbu a0, 0(s0)
    j isa_fail_notrap
2:  TC 58                                    /* store: cause 7 */
    li s0, 0xf0000020
    TRAP_AT 7, 0, 1f, 2f, (F_TVAL | F_EPC)
    SETEXP D_TVAL, s0
1:  sw a0, 0(s0)
    j isa_fail_notrap
2:  TC 59
    TRAPS 7, 8, sh a0, 8(zero)
    TC 60                                    /* from U as well */
    GO_MODE PRV_U
    TRAPS 5, 4, lw a0, 4(zero)

/* ---- PMP ---- */
    la s0, pmpbuf
    la s1, pmpbuf2
    la s2, lockbuf
    li a0, 0x00008067                        /* ret */
    sw a0, 0(s0)
    sw a0, 0(s1)
    fence.i
    TC 61                                    /* entry 0: NAPOT 4 KiB over pmpbuf, R only */
    srli a0, s0, 2
    ori a0, a0, 0x1ff
    csrw pmpaddr0, a0
    li a0, 0x19
    csrw pmpcfg0, a0
    csrr a5, pmpcfg0
    andi a5, a5, 0xff
    CHK a5, 0x19
    csrr a5, pmpaddr0
    srli a4, s0, 2
    ori a4, a4, 0x1ff
    CHKR a5, a4
    TC 62                                    /* U may read */
    GO_MODE PRV_U
    lw a5, 4(s0)
    lw a5, 2044(s0)
    TO_M
    TC 63                                    /* U store: cause 7 */
    addi s3, s0, 8
    TRAP_AT 7, 0, 1f, 2f, (F_TVAL | F_EPC)
    SETEXP D_TVAL, s3
    GO_MODE PRV_U
1:  sw a0, 0(s3)
    j isa_fail_notrap
2:  TC 64                                    /* S store: cause 7 */
    addi s3, s0, 0x7fc
    TRAP_AT 7, 0, 1f, 2f, (F_TVAL | F_EPC)
    SETEXP D_TVAL, s3
    GO_MODE PRV_S
1:  sh a0, 0(s3)
    j isa_fail_notrap
2:  TC 65                                    /* S fetch (no X): cause 1 */
    TRAP_AT 1, 0, 1f, 2f, (F_TVAL | F_EPC)
    SETEXP D_TVAL, s0
    SETEXP D_EPC, s0
    GO_MODE PRV_S
1:  jalr ra, 0(s0)
    j isa_fail_notrap
2:  TC 66                                    /* M ignores an unlocked entry */
    li a0, 0x1234
    sw a0, 8(s0)
    lw a5, 8(s0)
    CHK a5, 0x1234
    jalr ra, 0(s0)
    TC 67                                    /* just past the region: entry 15 allows */
    GO_MODE PRV_U
    li a0, 4096
    add a0, a0, s0
    sw a0, 0(a0)                             /* pmpbuf + 4096 */
    TO_M
    TC 68                                    /* X but not R/W: U fetches, loads fault (5) */
    li a0, 0x1c
    csrw pmpcfg0, a0
    GO_MODE PRV_U
    jalr ra, 0(s0)
    TRAPS_NT 5, lw a0, 0(s0)
    LDTRAP a5, D_LTVAL
    CHKR a5, s0
    TC 69                                    /* entries 2..3: TOR [pmpbuf2, +4K) none */
    srli a0, s1, 2
    csrw pmpaddr2, a0
    li a1, 4096
    add a0, s1, a1
    srli a0, a0, 2
    csrw pmpaddr3, a0
    li a0, (0x08 << 24) | 0x1b               /* cfg3 = TOR, cfg2 = OFF, cfg0 = RW */
    csrw pmpcfg0, a0
    GO_MODE PRV_U
    TRAPS_NT 5, lw a0, 0(s1)
    TC 70
    GO_MODE PRV_S
    TRAPS_NT 7, sw a0, 2044(s1)
    TC 71
    GO_MODE PRV_U
    FETCH_FAULT s1
    TC 72                                    /* below and above the TOR range: allowed */
    GO_MODE PRV_U
    lw a0, -4(s1)
    li a1, 4096
    add a1, a1, s1
    lw a0, 0(a1)
    TO_M
    TC 73                                    /* TOR with R|W */
    li a0, (0x0b << 24) | 0x1b
    csrw pmpcfg0, a0
    GO_MODE PRV_U
    sw a0, 16(s1)
    lw a5, 16(s1)
    FETCH_FAULT s1
    CHK a5, (0x0b << 24) | 0x1b
    TC 74                                    /* NA4 over one word (entry 1): no access */
    addi s3, s1, 64                          /* (entry 1 wins over the TOR entry 3) */
    srli a0, s3, 2
    csrw pmpaddr1, a0
    li a0, (0x0b << 24) | (0x10 << 8) | 0x1b
    csrw pmpcfg0, a0
    GO_MODE PRV_U
    lw a0, 60(s1)                            /* neighbours: TOR R|W */
    lw a0, 68(s1)
    TRAPS_NT 5, lw a0, 0(s3)
    LDTRAP a5, D_LTVAL
    CHKR a5, s3
    TC 75
    GO_MODE PRV_U
    TRAPS_NT 7, sb a0, 3(s3)
    TC 76                                    /* the lowest-numbered match decides: */
    srli a0, s1, 2                           /* entry 0 now NAPOT over pmpbuf2, R only, */
    ori a0, a0, 0x1ff                        /* before NA4 (1, none) and TOR (3, R|W) */
    csrw pmpaddr0, a0
    li a0, (0x0b << 24) | (0x10 << 8) | 0x19
    csrw pmpcfg0, a0
    GO_MODE PRV_U
    lw a0, 0(s3)                             /* entry 0 allows R before NA4 denies */
    TRAPS_NT 7, sw a0, 0(s3)                 /* entry 0 denies W before TOR allows */
    TC 77                                    /* everything off: only entry 15 remains */
    csrw pmpcfg0, zero
    csrw pmpcfg1, zero
    GO_MODE PRV_U
    sw a0, 0(s3)
    sw a0, 0(s0)
    TO_M
    TC 78                                    /* locked NAPOT R-only entry 14: M too */
    srli a0, s2, 2
    ori a0, a0, 0x1ff
    csrw pmpaddr14, a0
    li a0, (0x99 << 16) | 0x1f000000         /* cfg14 = L|NAPOT|R, cfg15 unchanged */
    csrw pmpcfg3, a0
    lw a5, 0(s2)                             /* M read allowed */
    TRAP_AT 7, 0, 1f, 2f, (F_TVAL | F_EPC)
    SETEXP D_TVAL, s2
1:  sw a0, 0(s2)
    j isa_fail_notrap
2:  TC 79                                    /* locked: cfg and addr writes ignored */
    li a0, 0x1f1f0000 | (0x1f << 24)
    csrw pmpcfg3, a0
    csrr a5, pmpcfg3
    li a4, 0x00ff0000
    and a5, a5, a4
    CHK a5, 0x00990000
    csrw pmpaddr14, zero
    csrr a5, pmpaddr14
    srli a4, s2, 2
    ori a4, a4, 0x1ff
    CHKR a5, a4
    TC 80                                    /* locked entry also applies to U */
    GO_MODE PRV_U
    lw a0, 4(s2)
    TRAPS_NT 7, sw a0, 4(s2)
TEST_END
