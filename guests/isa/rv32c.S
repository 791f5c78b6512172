/*
 * RV32C: every RV32 compressed instruction, written with the assembler's
 * explicit c.* mnemonics so each encoding is the 16-bit form, plus the
 * reserved encodings (c.addi4spn nzuimm=0, c.lwsp rd=0, c.jr rs1=0,
 * c.lui nzimm=0, c.addi16sp nzimm=0) and the all-zero halfword, which
 * raise illegal instruction (2) with mtval = the 16-bit encoding; HINT
 * encodings (rd = x0 and the like) run as no-ops.
 */
#define TEST_FILE "rv32c.S"
#include "common.h"

    .data
    .balign 16
buf:    .word 0x11111111, 0x22222222, 0x33333333, 0x44444444
        .space 108
        .word 0xfeedface          /* buf + 128 - 4 = the largest c.lw offset */

TEST_BEGIN
    .option push
    .option rvc
    la s0, buf                  /* s0 = x8, s1 = x9 are in the c.* register set */

    TC 1                        /* c.addi4spn */
    mv s1, sp
    c.addi4spn a0, sp, 4
    addi a5, s1, 4
    CHKR a0, a5
    TC 2
    c.addi4spn a5, sp, 1020
    addi a4, sp, 1020
    CHKR a5, a4

    TC 3                        /* c.lw */
    c.lw a0, 4(s0)
    CHK a0, 0x22222222
    TC 4
    c.lw a1, 124(s0)
    CHK a1, 0xfeedface
    TC 5                        /* c.sw */
    li a2, 0x5a5a5a5a
    c.sw a2, 8(s0)
    lw a5, 8(s0)
    CHK a5, 0x5a5a5a5a

    TC 6                        /* c.nop changes nothing */
    li a0, 7
    c.nop
    CHK a0, 7

    TC 7                        /* c.addi */
    li a0, 10
    c.addi a0, -32
    CHK a0, -22
    TC 8
    li s2, 0x7fffffff
    c.addi s2, 31
    CHK s2, 0x8000001e

    TC 9                        /* c.jal (RV32): ra = pc + 2 */
    c.jal 2f
1:  j isa_fail_value
2:  la a5, 1b
    CHKR ra, a5

    TC 10                       /* c.li sign-extends */
    c.li a3, -32
    CHK a3, 0xffffffe0
    TC 11
    c.li t0, 31
    CHK t0, 31

    TC 12                       /* c.addi16sp */
    mv s1, sp
    c.addi16sp sp, -512
    sub a5, s1, sp
    CHK a5, 512
    c.addi16sp sp, 496
    c.addi16sp sp, 16
    CHKR sp, s1

    TC 13                       /* c.lui: 6-bit immediate sign-extended from bit 17 */
    c.lui a0, 0x1f
    CHK a0, 0x0001f000
    TC 14
    c.lui a0, 0xfffe0
    CHK a0, 0xfffe0000
    TC 15
    c.lui t1, 1
    CHK t1, 0x1000

    TC 16                       /* c.srli / c.srai / c.andi */
    li a0, 0x80000000
    c.srli a0, 31
    CHK a0, 1
    TC 17
    li a0, 0x80000000
    c.srai a0, 4
    CHK a0, 0xf8000000
    TC 18
    li a1, 0xffffffff
    c.andi a1, -16
    CHK a1, 0xfffffff0
    TC 19
    li a1, 0xffffffff
    c.andi a1, 15
    CHK a1, 15

    TC 20                       /* c.sub / c.xor / c.or / c.and */
    li a0, 5
    li a1, 7
    c.sub a0, a1
    CHK a0, -2
    TC 21
    li a0, 0x0ff0
    li a1, 0xff00
    c.xor a0, a1
    CHK a0, 0xf0f0
    TC 22
    li a0, 0x0ff0
    c.or a0, a1
    CHK a0, 0xfff0
    TC 23
    li a0, 0x0ff0
    c.and a0, a1
    CHK a0, 0x0f00

    TC 24                       /* c.j forward and back */
    li a0, 0
    c.j 2f
1:  li a0, 1
    c.j 3f
2:  c.j 1b
3:  CHK a0, 1

    TC 25                       /* c.beqz taken / not taken */
    li a0, 0
    li a5, 0
    c.beqz a0, 1f
    li a5, 1
1:  CHK a5, 0
    TC 26
    li a0, 1
    c.beqz a0, 1f
    li a5, 2
1:  CHK a5, 2
    TC 27                       /* c.bnez */
    li a0, -1
    li a5, 0
    c.bnez a0, 1f
    li a5, 1
1:  CHK a5, 0
    TC 28
    li a0, 0
    c.bnez a0, 1f
    li a5, 3
1:  CHK a5, 3

    TC 29                       /* c.slli */
    li a0, 3
    c.slli a0, 30
    CHK a0, 0xc0000000
    TC 30
    li t2, 1
    c.slli t2, 1
    CHK t2, 2

    TC 31                       /* c.swsp / c.lwsp */
    li a0, 0x13572468
    addi sp, sp, -256
    c.swsp a0, 252(sp)
    lw a5, 252(sp)
    CHKR a5, a0
    c.lwsp a4, 252(sp)
    CHKR a4, a0
    li a1, 0x0badcafe
    c.swsp a1, 0(sp)
    c.lwsp s3, 0(sp)
    CHKR s3, a1
    addi sp, sp, 256

    TC 32                       /* c.jr */
    la a0, 1f
    c.jr a0
    j isa_fail_value
1:  CHK x0, 0
    TC 33                       /* c.mv */
    li a1, 0x1234
    c.mv a2, a1
    CHK a2, 0x1234
    TC 34                       /* c.jalr: ra = pc + 2 */
    la a0, 2f
    c.jalr a0
1:  j isa_fail_value
2:  la a5, 1b
    CHKR ra, a5
    TC 35                       /* c.jalr with rs1 = ra: target read before the link */
    la ra, 2f
    c.jalr ra
1:  j isa_fail_value
2:  la a5, 1b
    CHKR ra, a5
    TC 36                       /* c.add */
    li a0, 0x7fffffff
    li a1, 2
    c.add a0, a1
    CHK a0, 0x80000001

    TC 37                       /* c.ebreak: breakpoint at its own address */
    TRAPS_NT 3, c.ebreak
    TC 38                       /* 32-bit instruction at a 2-aligned address */
    c.nop
    li a0, 0x12345678
    addi a0, a0, 1
    CHK a0, 0x12345679

/* ---- reserved / illegal encodings ---- */
    TC 39
    TRAPS_ILL .half 0x0000      /* all-zero halfword */
    TC 40
    TRAPS_ILL .half 0x0004      /* c.addi4spn a1, sp, 0 */
    TC 41
    TRAPS_ILL .half 0x4002      /* c.lwsp x0, 0(sp) */
    TC 42
    TRAPS_ILL .half 0x8002      /* c.jr x0 */
    TC 43
    TRAPS_ILL .half 0x6501      /* c.lui a0, 0 */
    TC 44
    TRAPS_ILL .half 0x6101      /* c.addi16sp sp, 0 */
    TC 45
    TRAPS_ILL .half 0x4006      /* c.lwsp x0, 16(sp) */

/* ---- HINT encodings execute as no-ops ---- */
    TC 46
    li a0, 0x1234
    .half 0x0005                /* c.nop with nzimm = 1 */
    .half 0x0501                /* c.addi a0, 0 */
    .half 0x4015                /* c.li x0, 5 */
    .half 0x6005                /* c.lui x0, 1 */
    .half 0x802a                /* c.mv x0, a0 */
    .half 0x902a                /* c.add x0, a0 */
    .half 0x0006                /* c.slli x0, 1 */
    CHK a0, 0x1234
    CHK x0, 0
    .option pop
TEST_END
