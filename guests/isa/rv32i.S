/*
 * RV32I base integer instructions (unprivileged spec, chapter "RV32I Base
 * Integer Instruction Set"), plus ecall/ebreak causes and misaligned
 * loads/stores (performed without a trap, as QEMU does; the spec allows
 * either, and Rewind follows QEMU).
 */
#define TEST_FILE "rv32i.S"
#include "common.h"

    .data
    .balign 16
buf:    .word 0x8899aabb, 0x11223344, 0xf0e0d0c0, 0x7f6f5f4f
wbuf:   .space 32

TEST_BEGIN
    .option push
    .option norvc           /* plain 32-bit encodings in this file */

/* ---- add/sub and immediates ---- */
    TRR 1,  add, 0x00000000, 0, 0
    TRR 2,  add, 0x00000002, 1, 1
    TRR 3,  add, 0x80000000, 0x7fffffff, 1       /* wraps, no trap */
    TRR 4,  add, 0x00000000, 0xffffffff, 1
    TRR 5,  sub, 0xffffffff, 0, 1
    TRR 6,  sub, 0x7fffffff, 0x80000000, 1
    TRR 7,  sub, 0x00000000, 0x12345678, 0x12345678
    TRI 8,  addi, 0x000007ff, 0, 2047
    TRI 9,  addi, 0xfffff800, 0, -2048           /* 12-bit imm sign-extended */
    TRI 10, addi, 0x7fffffff, 0x80000000, -1

/* ---- logic ---- */
    TRR 11, and, 0x0f000f00, 0x0ff00ff0, 0xff00ff00
    TRR 12, or,  0xfff0fff0, 0x0ff00ff0, 0xff00ff00
    TRR 13, xor, 0xf0f0f0f0, 0x0ff00ff0, 0xff00ff00
    TRI 14, andi, 0x000007f0, 0xff00fff0, 0x7ff
    TRI 15, andi, 0xff00ff00, 0xff00ff00, -256   /* imm 0xf00 sign-extends */
    TRI 16, ori,  0xfffff80f, 0x0000000f, -2048
    TRI 17, xori, 0xf00ff00f, 0x0ff00ff0, -1     /* xori -1 = not */

/* ---- shifts: only the low 5 bits of the amount count ---- */
    TRR 18, sll, 0x80000000, 1, 31
    TRR 19, sll, 0x00000002, 1, 33
    TRR 20, sll, 0x12345678, 0x12345678, 0xffffffe0
    TRR 21, srl, 0x00000001, 0x80000000, 31
    TRR 22, srl, 0x40000000, 0x80000000, 0xffffffe1
    TRR 23, sra, 0xffffffff, 0x80000000, 31
    TRR 24, sra, 0xc0000000, 0x80000000, 33
    TRR 25, sra, 0x3fffffff, 0x7fffffff, 1
    TRI 26, slli, 0xf0000000, 0xffffffff, 28
    TRI 27, srli, 0x0000000f, 0xffffffff, 28
    TRI 28, srai, 0xffffffff, 0xf0000000, 31
    TRI 29, srai, 0x07000000, 0x70000000, 4
    TRI 30, slli, 0x12345678, 0x12345678, 0

/* ---- set-less-than with negatives ---- */
    TRR 31, slt,  1, 0xffffffff, 0           /* -1 < 0 signed */
    TRR 32, sltu, 0, 0xffffffff, 0           /* 0xffffffff > 0 unsigned */
    TRR 33, slt,  1, 0x80000000, 0x7fffffff
    TRR 34, sltu, 0, 0x80000000, 0x7fffffff
    TRR 35, slt,  0, 5, 5
    TRR 36, sltu, 1, 0, 1                    /* snez idiom: sltu rd, x0, rs */
    TRI 37, slti, 1, 0xfffffffe, -1
    TRI 38, slti, 0, 0, -2048
    TRI 39, sltiu, 1, 0x7ffffffe, -1         /* imm -1 compares as 0xffffffff */
    TRI 40, sltiu, 0, 0xffffffff, -1
    TRI 41, sltiu, 1, 0, 1                   /* seqz idiom */

/* ---- x0 as destination never changes ---- */
    TC 42
    li a3, 123
    add x0, a3, a3
    addi x0, x0, 5
    lui x0, 0x12345
    auipc x0, 1
    la a4, buf
    lw x0, 0(a4)
    CHK x0, 0
    mv a5, x0
    CHK a5, 0
    TC 43
    jal x0, 1f               /* jal to x0 writes nothing */
    j isa_fail_value
1:  CHK x0, 0
    TC 44
    csrrw x0, mscratch, a3   /* still must not write x0 */
    CHK x0, 0

/* ---- lui / auipc ---- */
    TC 45
    lui a5, 0xfffff
    CHK a5, 0xfffff000
    TC 46
    lui a5, 0x80000
    CHK a5, 0x80000000
    TC 47
1:  auipc a5, 0
    la a4, 1b
    CHKR a5, a4
    TC 48
1:  auipc a5, 0xfffff        /* pc - 0x1000 */
    la a4, 1b
    li a3, 0x1000
    sub a4, a4, a3
    CHKR a5, a4
    TC 49
1:  auipc a5, 1
    la a4, 1b
    li a3, 0x1000
    add a4, a4, a3
    CHKR a5, a4

/* ---- loads: sign/zero extension ---- */
    la s0, buf               /* bytes: bb aa 99 88 44 33 22 11 c0 d0 e0 f0 4f 5f 6f 7f */
    TC 50
    lb a5, 0(s0)
    CHK a5, 0xffffffbb
    TC 51
    lbu a5, 0(s0)
    CHK a5, 0x000000bb
    TC 52
    lb a5, 4(s0)
    CHK a5, 0x00000044
    TC 53
    lh a5, 2(s0)
    CHK a5, 0xffff8899
    TC 54
    lhu a5, 2(s0)
    CHK a5, 0x00008899
    TC 55
    lh a5, 4(s0)
    CHK a5, 0x00003344
    TC 56
    lw a5, 8(s0)
    CHK a5, 0xf0e0d0c0
    TC 57
    addi s1, s0, 16
    lw a5, -16(s1)           /* negative offset */
    CHK a5, 0x8899aabb
    TC 58
    lbu a5, -1(s1)
    CHK a5, 0x7f

/* ---- stores ---- */
    la s1, wbuf
    TC 59
    li a3, 0x12345678
    sw a3, 0(s1)
    li a3, 0xaabbccdd
    sb a3, 1(s1)             /* only the low byte */
    lw a5, 0(s1)
    CHK a5, 0x1234dd78
    TC 60
    sh a3, 2(s1)             /* only the low half */
    lw a5, 0(s1)
    CHK a5, 0xccdddd78
    TC 61
    sw zero, 4(s1)
    li a3, -1
    sb a3, 7(s1)
    lw a5, 4(s1)
    CHK a5, 0xff000000
    TC 62
    addi s2, s1, 32
    sw a3, -24(s2)
    lw a5, 8(s1)
    CHK a5, 0xffffffff

/* ---- misaligned loads/stores: performed, no trap (as on QEMU) ---- */
    TC 63
    lw a5, 1(s0)
    CHK a5, 0x448899aa
    TC 64
    lw a5, 3(s0)
    CHK a5, 0x22334488
    TC 65
    lh a5, 1(s0)
    CHK a5, 0xffff99aa
    TC 66
    lhu a5, 3(s0)
    CHK a5, 0x00004488
    TC 67
    lh a5, 7(s0)             /* crosses the word: 0xc0 0x11 */
    CHK a5, 0xffffc011
    TC 68
    sw zero, 16(s1)
    sw zero, 20(s1)
    li a3, 0xa1b2c3d4
    sw a3, 17(s1)
    lw a5, 16(s1)
    CHK a5, 0xb2c3d400
    lw a5, 20(s1)
    CHK a5, 0x000000a1
    TC 69
    li a3, 0xbeef
    sh a3, 19(s1)
    lw a5, 16(s1)
    CHK a5, 0xefc3d400
    lw a5, 20(s1)
    CHK a5, 0x000000be

/* ---- branches, taken and not taken, signed/unsigned boundaries ---- */
.macro BR n, op, a, b, taken
    TC \n
    li a3, \a
    li a4, \b
    li a5, 0
    \op a3, a4, 1f
    li a5, 1                /* not taken */
1:  CHK a5, (1 - \taken)
.endm
    BR 70, beq,  5, 5, 1
    BR 71, beq,  5, 6, 0
    BR 72, bne,  5, 6, 1
    BR 73, bne,  0, 0, 0
    BR 74, blt,  0xffffffff, 0, 1
    BR 75, blt,  0, 0xffffffff, 0
    BR 76, blt,  0x80000000, 0x7fffffff, 1
    BR 77, blt,  3, 3, 0
    BR 78, bge,  3, 3, 1
    BR 79, bge,  0x7fffffff, 0x80000000, 1
    BR 80, bge,  0xffffffff, 0, 0
    BR 81, bltu, 0, 0xffffffff, 1
    BR 82, bltu, 0xffffffff, 0, 0
    BR 83, bltu, 0x7fffffff, 0x80000000, 1
    BR 84, bgeu, 0xffffffff, 0, 1
    BR 85, bgeu, 0x80000000, 0x80000000, 1
    BR 86, bgeu, 0x7fffffff, 0x80000000, 0
    TC 87                    /* backward branch */
    li a3, 0
    li a4, 3
1:  addi a3, a3, 1
    bne a3, a4, 1b
    CHK a3, 3

/* ---- jal / jalr ---- */
    TC 88
    li ra, 0
    jal ra, 2f
1:  j isa_fail_value
2:  la a4, 1b
    CHKR ra, a4              /* link = pc + 4 */
    TC 89
    la a3, 3f
    jalr a5, 0(a3)
2:  j isa_fail_value
3:  la a4, 2b
    CHKR a5, a4
    TC 90                    /* jalr clears bit 0 of the target */
    la a3, 4f
    addi a3, a3, 1
    jalr a5, 0(a3)
    j isa_fail_value
4:  CHK x0, 0
    TC 91                    /* jalr with an offset (odd sum) */
    la a3, 5f
    addi a3, a3, -7
    jalr zero, 8(a3)
    j isa_fail_value
5:  CHK x0, 0
    TC 92                    /* rd == rs1: target uses the old value */
    la a3, 6f
    jalr a3, 0(a3)
6:  la a4, 6b
    CHKR a3, a4
    TC 93                    /* backward jal */
    li a3, 0
    j 8f
7:  li a3, 1
    j 9f
8:  jal zero, 7b
9:  CHK a3, 1

/* ---- fence / fence.i are ordering only ---- */
    TC 94
    li a3, 0x55
    sw a3, 24(s1)
    fence
    fence rw, rw
    fence.tso
    fence.i
    lw a5, 24(s1)
    CHK a5, 0x55
    TC 95                    /* self-modifying code after fence.i */
    la a3, 1f
    li a4, 0x00700793        /* addi a5, x0, 7 */
    sw a4, 0(a3)
    fence.i
1:  addi a5, x0, 3
    CHK a5, 7

/* ---- ecall / ebreak ---- */
    TC 96
    TRAPS 11, 0, ecall       /* from M: cause 11, mepc = the ecall */
    TC 97
    TRAPS_NT 3, ebreak       /* breakpoint: cause 3, mepc = the ebreak */
    TC 98                    /* mtval of ebreak: zero or the pc (QEMU: pc) */
    LDTRAP a5, D_LTVAL
    beqz a5, 1f
    LDTRAP a4, D_LEPC
    CHKR a5, a4
1:
    TC 99
    LDTRAP a5, D_LSTATUS     /* MPP = M after a trap from M */
    srli a5, a5, 11
    andi a5, a5, 3
    CHK a5, 3
    .option pop
TEST_END
