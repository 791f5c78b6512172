/*
 * Translations by privilege level: one virtual address that M-mode sees
 * bare (physical RAM) and S and U see through Sv32 as another page, read
 * and written while traps and xRETs switch between the levels, with MPRV
 * making M's loads and stores translate as S, and SUM toggled from S.
 * A TLB that kept one level's translations for another would read the
 * wrong page here (privileged spec, "Supervisor-Level ISA", Sv32; "Memory
 * Privilege in mstatus").
 *
 *   root:   VA 0x80000000 = PA 0x80000000, 4 MiB, R W X A D  (the code, for S)
 *           VA 0x80400000 -> pt_l0[0] -> pg_s (R W A D, U set or not)
 *   root_u: the same with U set on the code (for U)
 *   M-mode bare: VA 0x80400000 is physical RAM (pg_m below).
 */
#define TEST_FILE "tlb.S"
#include "common.h"

#define PTE_V 0x01
#define PTE_R 0x02
#define PTE_W 0x04
#define PTE_X 0x08
#define PTE_U 0x10
#define PTE_A 0x40
#define PTE_D 0x80
#define RWAD  (PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)
#define SATP_MODE 0x80000000
#define SHARED_VA 0x80400000

    .section .pages, "aw"
    .balign 4096
root:   .space 4096
root_u: .space 4096
pt_l0:  .space 4096
pg_s:   .space 4096

/* pt_l0[0] = leaf for pg_s with `flags` (M-mode, then sfence.vma) */
/* satp = the root table `table` */
.macro SATP table
    la t5, \table
    srli t5, t5, 12
    li t6, SATP_MODE
    or t5, t5, t6
    csrw satp, t5
    sfence.vma
.endm

.macro MAP_S flags
    la t5, pg_s
    srli t5, t5, 12
    slli t5, t5, 10
    ori t5, t5, \flags
    la t6, pt_l0
    sw t5, 0(t6)
    sfence.vma
.endm

/* table[0x200]: identity megapage for the code (with `user` flags added); table[0x201] -> pt_l0 */
.macro ROOT table, user
    la t6, \table + 0x200 * 4
    li t5, (0x80000000 >> 12 << 10) | PTE_V | PTE_R | PTE_W | PTE_X | (\user) | PTE_A | PTE_D
    sw t5, 0(t6)
    la t5, pt_l0
    srli t5, t5, 12
    slli t5, t5, 10
    ori t5, t5, PTE_V
    sw t5, 4(t6)
.endm

TEST_BEGIN
    ROOT root, 0
    ROOT root_u, PTE_U
    MAP_S RWAD
    SATP root

    li s0, SHARED_VA
    la s1, pg_s
    li a0, 0x4d4d4d4d                        /* M's page (physical SHARED_VA) */
    sw a0, 0(s0)
    li a0, 0x53535353                        /* S's page */
    sw a0, 0(s1)

    TC 1                                     /* S reads its own page */
    GO_MODE PRV_S
    lw a5, 0(s0)
    TO_M
    CHK a5, 0x53535353
    TC 2                                     /* back in M: the physical page */
    lw a5, 0(s0)
    CHK a5, 0x4d4d4d4d
    TC 3                                     /* S again, after M's access */
    GO_MODE PRV_S
    lw a5, 0(s0)
    li a0, 0x5353aaaa
    sw a0, 4(s0)
    TO_M
    CHK a5, 0x53535353
    TC 4                                     /* S's store went to its page */
    lw a5, 4(s1)
    CHK a5, 0x5353aaaa
    lw a5, 4(s0)
    CHK a5, 0
    TC 5                                     /* M stores, S still sees its page */
    li a0, 0x4d4daaaa
    sw a0, 4(s0)
    GO_MODE PRV_S
    lw a5, 4(s0)
    TO_M
    CHK a5, 0x5353aaaa
    TC 6                                     /* MPRV with MPP = S: M translates as S */
    li t0, MSTATUS_MPP
    csrc mstatus, t0
    li t0, (PRV_S << 11) | MSTATUS_MPRV
    csrs mstatus, t0
    lw a5, 0(s0)
    li t0, MSTATUS_MPRV
    csrc mstatus, t0
    CHK a5, 0x53535353
    TC 7                                     /* MPRV off: bare again */
    lw a5, 0(s0)
    CHK a5, 0x4d4d4d4d
    TC 8                                     /* U reads a U page */
    MAP_S (RWAD | PTE_U)
    SATP root_u
    GO_MODE PRV_U
    lw a5, 0(s0)
    TO_M
    CHK a5, 0x53535353
    lw a5, 0(s0)                             /* and M its own */
    CHK a5, 0x4d4d4d4d
    GO_MODE PRV_U
    lw a5, 0(s0)
    TO_M
    CHK a5, 0x53535353
    SATP root
    TC 9                                     /* S on a U page without SUM: load page fault */
    TRAP_AT 13, SHARED_VA, 1f, 2f, (F_TVAL | F_EPC)
    GO_MODE PRV_S
1:  lw a5, 0(s0)
    j isa_fail_notrap
2:  TC 10                                    /* U reads the second word */
    SATP root_u
    GO_MODE PRV_U
    lw a5, 4(s0)
    TO_M
    CHK a5, 0x5353aaaa
    SATP root
    TC 11                                    /* S sets SUM, then may load */
    GO_MODE PRV_S
    li t0, MSTATUS_SUM
    csrs sstatus, t0
    lw a5, 0(s0)
    csrc sstatus, t0
    TO_M
    CHK a5, 0x53535353
    TC 12                                    /* SUM cleared again: the fault is back */
    TRAP_AT 13, SHARED_VA, 1f, 2f, (F_TVAL | F_EPC)
    GO_MODE PRV_S
1:  lw a5, 0(s0)
    j isa_fail_notrap
2:  TC 13                                    /* M's page is untouched by all of it */
    lw a5, 0(s0)
    CHK a5, 0x4d4d4d4d
    lw a5, 4(s0)
    CHK a5, 0x4d4daaaa
    csrw satp, zero
    sfence.vma
TEST_END
