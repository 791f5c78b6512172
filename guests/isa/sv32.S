/*
 * Sv32 paging (privileged spec, "Supervisor-Level ISA", Sv32): 4 KiB pages
 * and 4 MiB megapages, R/W/X/U permissions for S and U, SUM and MXR, A/D
 * bits set by the hardware (as QEMU does; the spec also allows a page
 * fault instead, Rewind follows QEMU), page faults 12/13/15 with mtval =
 * the virtual address, reserved encodings (W without R), a non-leaf PTE at
 * the last level, misaligned megapages, sfence.vma, MPRV with MPP = S, and
 * satp WARL behaviour.
 *
 * Two root tables share one second-level table (pt_l0, VA 0x40000000..):
 *   root_a: VA 0x80000000 = PA 0x80000000, 4 MiB, R W X A D   (S runs here)
 *   root_b: the same with U set                               (U runs here)
 */
#define TEST_FILE "sv32.S"
#include "common.h"

#define PTE_V 0x01
#define PTE_R 0x02
#define PTE_W 0x04
#define PTE_X 0x08
#define PTE_U 0x10
#define PTE_A 0x40
#define PTE_D 0x80
#define RWAD  (PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)

#define VA(i) (0x40000000 + (i) * 4096)
#define SATP_MODE 0x80000000

    .section .pages, "aw"
    .balign 4096
root_a: .space 4096
root_b: .space 4096
pt_l0:  .space 4096
pg_a:   .space 4096
pg_b:   .space 4096

    .section .pages.code, "awx"
    .balign 4096
vcode:
    .option push
    .option norvc
    li a0, 42
    ret
    .option pop
    .balign 4096
vcode2:                         /* a 32-bit nop that spans two pages, then ret */
    .space 4094
    .word 0x00000013
    .option push
    .option norvc
    ret
    .option pop
    .balign 4096

/* pt_l0[idx] = leaf for page `label` with `flags` (M-mode, then sfence.vma) */
.macro PTE0 idx, label, flags
    la t5, \label
    srli t5, t5, 12
    slli t5, t5, 10
    ori t5, t5, \flags
    la t6, pt_l0
    sw t5, ((\idx) * 4)(t6)
    sfence.vma
.endm

/* root[idx] = leaf for physical address `pa` (constant) with flags */
.macro PTE1 root, idx, pa, flags
    la t6, \root
    li t5, (\idx) * 4
    add t6, t6, t5
    li t5, (((\pa) >> 12) << 10) | (\flags)
    sw t5, 0(t6)
    sfence.vma
.endm

.macro SETEXP field, reg
    la t6, isa_data
    sw \reg, \field(t6)
.endm

/* jalr to reg must fail with an instruction page fault at the target */
.macro FETCH_PF reg
    TRAP_AT 12, 0, .Lff\@, .Lffr\@, (F_TVAL | F_EPC)
    SETEXP D_EPC, \reg
    SETEXP D_TVAL, \reg
.Lff\@:
    jalr ra, 0(\reg)
    j isa_fail_notrap
.Lffr\@:
.endm

.macro SATP root
    la t5, \root
    srli t5, t5, 12
    li t6, SATP_MODE
    or t5, t5, t6
    csrw satp, t5
    sfence.vma
.endm

TEST_BEGIN
    j main
    .balign 4
s_handler:                      /* delegated page faults: report, back to M */
    S_FORWARD_FAIL
    csrr s8, scause
    csrr s9, sepc
    csrr s10, stval
    TO_M
    jr s7

main:
    /* root tables: identity megapage at 0x80000000, pt_l0 at VA 0x40000000 */
    PTE1 root_a, 0x200, 0x80000000, (PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D)
    PTE1 root_b, 0x200, 0x80000000, (PTE_V | PTE_R | PTE_W | PTE_X | PTE_U | PTE_A | PTE_D)
    la t0, pt_l0
    srli t0, t0, 12
    slli t0, t0, 10
    ori t0, t0, PTE_V
    la t1, root_a
    sw t0, (0x100 * 4)(t1)
    la t1, root_b
    sw t0, (0x100 * 4)(t1)
    la s4, pg_a
    la s5, pg_b
    li a0, 0x11111111
    sw a0, 0(s4)
    li a0, 0x22222222
    sw a0, 0(s5)

    TC 1                                     /* satp holds MODE and PPN */
    SATP root_a
    csrr a5, satp
    la a4, root_a
    srli a4, a4, 12
    li a3, SATP_MODE
    or a4, a4, a3
    CHKR a5, a4
    TC 2                                     /* S load through a 4 KiB page */
    PTE0 0, pg_a, RWAD
    li s0, VA(0)
    GO_MODE PRV_S
    lw a5, 0(s0)
    TO_M
    CHK a5, 0x11111111
    TC 3                                     /* S store lands in the physical page */
    GO_MODE PRV_S
    li a0, 0x3333
    sw a0, 8(s0)
    sh a0, 2046(s0)
    TO_M
    lw a5, 8(s4)
    CHK a5, 0x3333
    TC 4                                     /* two virtual pages, one physical page */
    PTE0 1, pg_a, RWAD
    li s1, VA(1)
    GO_MODE PRV_S
    li a0, 0x4444
    sw a0, 12(s0)
    lw a5, 12(s1)
    TO_M
    CHK a5, 0x4444
    TC 5                                     /* 4 MiB megapage */
    PTE1 root_a, 1, 0x80000000, RWAD
    li a1, 0x80000000
    sub a1, s4, a1
    li a2, 0x00400000
    add a1, a1, a2                           /* VA of pg_a inside the megapage */
    GO_MODE PRV_S
    lw a5, 0(a1)
    TO_M
    CHK a5, 0x11111111
    TC 6                                     /* misaligned megapage: page fault */
    PTE1 root_a, 2, 0x80001000, RWAD
    GO_MODE PRV_S
    li a1, 0x00800000
    TRAPS 13, 0x00800000, lw a0, 0(a1)
    TC 7
    GO_MODE PRV_S
    li a1, 0x00800010
    TRAPS 15, 0x00800010, sw a0, 0(a1)
    TC 8                                     /* invalid PTE: 13 / 15 / 12 */
    la t6, pt_l0
    sw zero, 8(t6)
    sfence.vma
    GO_MODE PRV_S
    li a1, VA(2) + 4
    TRAPS 13, VA(2) + 4, lw a0, 0(a1)
    TC 9
    GO_MODE PRV_S
    li a1, VA(2) + 6
    TRAPS 15, VA(2) + 6, sh a0, 0(a1)
    TC 10
    li a1, VA(2)
    GO_MODE PRV_S
    FETCH_PF a1
    TC 11                                    /* invalid first-level entry */
    GO_MODE PRV_S
    li a1, 0x00c00000
    TRAPS 13, 0x00c00000, lw a0, 0(a1)
    TC 12                                    /* read-only page */
    PTE0 3, pg_b, (PTE_V | PTE_R | PTE_A | PTE_D)
    li s3, VA(3)
    GO_MODE PRV_S
    lw a5, 0(s3)
    TRAPS 15, VA(3) + 4, sw a0, 4(s3)
    CHK a5, 0x22222222
    TC 13                                    /* W without R is reserved */
    PTE0 3, pg_b, (PTE_V | PTE_W | PTE_A | PTE_D)
    GO_MODE PRV_S
    TRAPS 13, VA(3), lw a0, 0(s3)
    TC 14
    GO_MODE PRV_S
    TRAPS 15, VA(3) + 8, sw a0, 8(s3)
    TC 15                                    /* execute-only page runs */
    PTE0 4, vcode, (PTE_V | PTE_X | PTE_A)
    li s2, VA(4)
    GO_MODE PRV_S
    li a0, 0
    jalr ra, 0(s2)
    TO_M
    CHK a0, 42
    TC 16                                    /* ... but cannot be read without MXR */
    GO_MODE PRV_S
    TRAPS 13, VA(4), lw a0, 0(s2)
    TC 17                                    /* MXR makes X pages readable */
    li a0, MSTATUS_MXR
    csrs mstatus, a0
    GO_MODE PRV_S
    lw a5, 0(s2)
    TO_M
    li a0, MSTATUS_MXR
    csrc mstatus, a0
    la a4, vcode
    lw a4, 0(a4)
    CHKR a5, a4
    TC 18                                    /* MXR does not make X pages writable */
    li a0, MSTATUS_MXR
    csrs mstatus, a0
    GO_MODE PRV_S
    TRAPS 15, VA(4), sw a0, 0(s2)
    li a0, MSTATUS_MXR
    csrc mstatus, a0
    TC 19                                    /* no fetch from a non-X page */
    GO_MODE PRV_S
    FETCH_PF s0
    TC 20                                    /* S and a U page: no SUM, load faults */
    PTE0 5, pg_a, (RWAD | PTE_U)
    li s6, VA(5)
    GO_MODE PRV_S
    TRAPS 13, VA(5), lw a0, 0(s6)
    TC 21
    GO_MODE PRV_S
    TRAPS 15, VA(5) + 16, sw a0, 16(s6)
    TC 22                                    /* SUM = 1: S may load and store */
    li a0, MSTATUS_SUM
    csrs mstatus, a0
    GO_MODE PRV_S
    lw a5, 0(s6)
    li a0, 0x5555
    sw a0, 20(s6)
    TO_M
    CHK a5, 0x11111111
    lw a5, 20(s4)
    CHK a5, 0x5555
    TC 23                                    /* S never executes a U page, even with SUM */
    PTE0 6, vcode, (PTE_V | PTE_R | PTE_X | PTE_U | PTE_A)
    li s7, VA(6)
    GO_MODE PRV_S
    FETCH_PF s7
    li a0, MSTATUS_SUM
    csrc mstatus, a0
    TC 24                                    /* non-leaf PTE at the last level */
    la t5, pg_a
    srli t5, t5, 12
    slli t5, t5, 10
    ori t5, t5, PTE_V
    la t6, pt_l0
    sw t5, (7 * 4)(t6)
    sfence.vma
    GO_MODE PRV_S
    li a1, VA(7)
    TRAPS 13, VA(7), lw a0, 0(a1)
    TC 25                                    /* A and D set by the hardware */
    PTE0 8, pg_b, (PTE_V | PTE_R | PTE_W)
    la s8, pt_l0 + 8 * 4
    GO_MODE PRV_S
    li a1, VA(8)
    lw a5, 0(a1)
    TO_M
    CHK a5, 0x22222222
    lw a5, 0(s8)
    andi a5, a5, PTE_A | PTE_D
    CHK a5, PTE_A
    TC 26
    GO_MODE PRV_S
    li a1, VA(8)
    sw a1, 24(a1)
    TO_M
    lw a5, 0(s8)
    andi a5, a5, PTE_A | PTE_D
    CHK a5, PTE_A | PTE_D
    TC 27                                    /* A set on a fetch */
    PTE0 9, vcode, (PTE_V | PTE_X)
    GO_MODE PRV_S
    li a1, VA(9)
    jalr ra, 0(a1)
    TO_M
    la a4, pt_l0 + 9 * 4
    lw a5, 0(a4)
    andi a5, a5, PTE_A | PTE_D
    CHK a5, PTE_A
    TC 28                                    /* sfence.vma makes a changed PTE visible */
    PTE0 10, pg_a, RWAD
    la s8, pt_l0 + 10 * 4
    la a3, pg_b
    srli a3, a3, 12
    slli a3, a3, 10
    ori a3, a3, RWAD
    li a1, VA(10)
    GO_MODE PRV_S
    lw a5, 0(a1)                             /* pg_a */
    sw a3, 0(s8)                             /* now pg_b */
    sfence.vma
    lw a4, 0(a1)
    TO_M
    CHK a5, 0x11111111
    CHK a4, 0x22222222
    TC 29                                    /* sfence.vma with an address */
    la a3, pg_a
    srli a3, a3, 12
    slli a3, a3, 10
    ori a3, a3, RWAD
    GO_MODE PRV_S
    sw a3, 0(s8)                             /* back to pg_a */
    sfence.vma a1, zero
    lw a4, 0(a1)
    TO_M
    CHK a4, 0x11111111
    TC 30                                    /* unmapping is seen after sfence.vma */
    GO_MODE PRV_S
    sw zero, 0(s8)
    sfence.vma a1
    TRAPS 13, VA(10), lw a0, 0(a1)

/* ---- MPRV ---- */
    TC 31                                    /* MPRV + MPP = S: M loads translated */
    li a0, MSTATUS_MPP
    csrc mstatus, a0
    li a0, (PRV_S << 11) | MSTATUS_MPRV
    csrs mstatus, a0
    lw a5, 0(s0)                             /* VA(0) -> pg_a */
    li a0, MSTATUS_MPRV
    csrc mstatus, a0
    CHK a5, 0x11111111
    TC 32                                    /* and stores */
    li a0, MSTATUS_MPRV
    csrs mstatus, a0
    li a1, 0x6666
    sw a1, 28(s0)
    li a0, MSTATUS_MPRV
    csrc mstatus, a0
    lw a5, 28(s4)
    CHK a5, 0x6666
    TC 33                                    /* a fault under MPRV reports the VA */
    li a0, MSTATUS_MPRV
    csrs mstatus, a0
    li a1, VA(2)
    TRAPS 13, VA(2), lw a0, 0(a1)
    TC 34                                    /* MPRV + MPP = M: no translation */
    li a0, MSTATUS_MPP | MSTATUS_MPRV
    csrs mstatus, a0
    lw a5, 0(s5)
    li a0, MSTATUS_MPRV
    csrc mstatus, a0
    CHK a5, 0x22222222
    TC 35                                    /* MPRV + MPP = S honours SUM */
    li a0, MSTATUS_MPP
    csrc mstatus, a0
    li a0, (PRV_S << 11) | MSTATUS_MPRV
    csrs mstatus, a0
    TRAPS 13, VA(5), lw a0, 0(s6)

/* ---- delegated page fault ---- */
    TC 36
    la a0, s_handler
    csrw stvec, a0
    li a0, (1 << 13)
    csrw medeleg, a0
    la s7, 2f
    li s8, 0
    li a1, VA(2) + 0x10
    GO_MODE PRV_S
1:  lw a0, 0(a1)
    j isa_fail_notrap
2:  csrw medeleg, zero
    CHK s8, 13
    la a4, 1b
    CHKR s9, a4
    CHK s10, VA(2) + 0x10

/* ---- U mode (root_b: code and data in a U megapage) ---- */
    SATP root_b
    TC 37                                    /* U loads and stores a U page */
    GO_MODE PRV_U
    lw a5, 0(s6)
    li a0, 0x7777
    sw a0, 32(s6)
    TO_M
    CHK a5, 0x11111111
    lw a5, 32(s4)
    CHK a5, 0x7777
    TC 38                                    /* U and a page without U */
    GO_MODE PRV_U
    TRAPS 13, VA(0), lw a0, 0(s0)
    TC 39
    GO_MODE PRV_U
    TRAPS 15, VA(0), sw a0, 0(s0)
    TC 40                                    /* U store to a read-only U page */
    PTE0 11, pg_b, (PTE_V | PTE_R | PTE_U | PTE_A | PTE_D)
    li a1, VA(11)
    GO_MODE PRV_U
    lw a5, 0(a1)
    TRAPS 15, VA(11), sw a0, 0(a1)
    CHK a5, 0x22222222
    TC 41                                    /* U executes a U|X page */
    li a1, VA(6)
    GO_MODE PRV_U
    li a0, 0
    jalr ra, 0(a1)
    TO_M
    CHK a0, 42
    TC 42                                    /* U cannot execute a non-U page */
    li a1, VA(4)
    GO_MODE PRV_U
    FETCH_PF a1
    TC 43                                    /* U, execute-only U page, MXR */
    PTE0 12, vcode, (PTE_V | PTE_X | PTE_U | PTE_A)
    li a1, VA(12)
    GO_MODE PRV_U
    TRAPS 13, VA(12), lw a0, 0(a1)
    TC 44
    li a0, MSTATUS_MXR
    csrs mstatus, a0
    GO_MODE PRV_U
    lw a5, 0(a1)
    TO_M
    li a0, MSTATUS_MXR
    csrc mstatus, a0
    la a4, vcode
    lw a4, 0(a4)
    CHKR a5, a4
    TC 45                                    /* SUM does not matter to U */
    li a0, MSTATUS_SUM
    csrs mstatus, a0
    GO_MODE PRV_U
    TRAPS 13, VA(0), lw a0, 0(s0)
    li a0, MSTATUS_SUM
    csrc mstatus, a0

/* ---- satp ---- */
    TC 46                                    /* Bare: writes read back */
    csrw satp, zero
    csrr a5, satp
    CHK a5, 0
    TC 47                                    /* PPN (22 bits) kept with MODE = Sv32 */
    li a0, SATP_MODE | 0x003fffff
    csrw satp, a0
    csrr a5, satp
    csrw satp, zero
    li a4, SATP_MODE | 0x003fffff
    and a5, a5, a4
    CHKR a5, a4
    TC 48                                    /* M ignores satp for its own accesses */
    SATP root_a
    lw a5, 0(s5)
    csrw satp, zero
    CHK a5, 0x22222222

/* ---- an instruction that spans two pages ---- */
    SATP root_a
    TC 49                                    /* second page unmapped: mepc = start, */
    PTE0 13, vcode2, (PTE_V | PTE_X | PTE_A) /* mtval = the second page */
    la t6, pt_l0
    sw zero, (14 * 4)(t6)
    sfence.vma
    li a1, VA(13) + 4094
    li a2, VA(14)
    TRAP_AT 12, 0, 1f, 2f, (F_TVAL | F_EPC)
    SETEXP D_EPC, a1
    SETEXP D_TVAL, a2
    GO_MODE PRV_S
1:  jalr ra, 0(a1)
    j isa_fail_notrap
2:  TC 50                                    /* both pages mapped: it runs */
    la a0, vcode2 + 4096
    srli a0, a0, 12
    slli a0, a0, 10
    ori a0, a0, (PTE_V | PTE_X | PTE_A)
    la t6, pt_l0
    sw a0, (14 * 4)(t6)
    sfence.vma
    GO_MODE PRV_S
    jalr ra, 0(a1)
    TO_M
    csrw satp, zero
    CHK x0, 0
TEST_END
