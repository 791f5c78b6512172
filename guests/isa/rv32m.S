/*
 * RV32M: multiply and divide (unprivileged spec, "M" chapter), including
 * the table of division by zero (quotient all ones, remainder = dividend)
 * and signed overflow (INT_MIN / -1 = INT_MIN, remainder 0). No traps.
 */
#define TEST_FILE "rv32m.S"
#include "common.h"

TEST_BEGIN
    TRR 1,  mul, 0x00000000, 0, 0x12345678
    TRR 2,  mul, 0x00000006, 2, 3
    TRR 3,  mul, 0xfffffffa, 0xfffffffe, 3            /* -2 * 3 */
    TRR 4,  mul, 0x00000000, 0x80000000, 2            /* low bits only */
    TRR 5,  mul, 0xa39b7dc8, 0x12345678, 0x9abcdef7
    TRR 6,  mul, 0x00000001, 0xffffffff, 0xffffffff

    TRR 7,  mulh,   0x00000000, 2, 3
    TRR 8,  mulh,   0xffffffff, 0xfffffffe, 3         /* -6 high = -1 */
    TRR 9,  mulh,   0x00000000, 0xffffffff, 0xffffffff /* (-1)(-1) = 1 */
    TRR 10, mulh,   0x40000000, 0x80000000, 0x80000000
    TRR 11, mulh,   0xc0000000, 0x80000000, 0x7fffffff
    TRR 12, mulh,   0xf8cc93d6, 0x12345678, 0x9abcdef7

    TRR 13, mulhu,  0x00000000, 2, 3
    TRR 14, mulhu,  0xfffffffe, 0xffffffff, 0xffffffff
    TRR 15, mulhu,  0x40000000, 0x80000000, 0x80000000
    TRR 16, mulhu,  0x0b00ea4e, 0x12345678, 0x9abcdef7
    TRR 17, mulhu,  0x00000002, 0xffffffff, 3

    TRR 18, mulhsu, 0xffffffff, 0xffffffff, 1          /* -1 * 1 */
    TRR 19, mulhsu, 0xffffffff, 0xffffffff, 0xffffffff /* -1 * (2^32-1) */
    TRR 20, mulhsu, 0x00000000, 1, 0xffffffff
    TRR 21, mulhsu, 0xc0000000, 0x80000000, 0x80000000
    TRR 22, mulhsu, 0x7ffffffe, 0x7fffffff, 0xffffffff

    TRR 23, div,  0x00000003, 7, 2
    TRR 24, div,  0xfffffffd, 0xfffffff9, 2           /* -7/2 = -3 (toward 0) */
    TRR 25, div,  0xfffffffd, 7, 0xfffffffe
    TRR 26, div,  0x00000003, 0xfffffff9, 0xfffffffe
    TRR 27, div,  0xffffffff, 5, 0                    /* by zero: -1 */
    TRR 28, div,  0xffffffff, 0x80000000, 0
    TRR 29, div,  0x80000000, 0x80000000, 0xffffffff  /* overflow */
    TRR 30, div,  0x00000000, 1, 2

    TRR 31, divu, 0x00000003, 7, 2
    TRR 32, divu, 0x7ffffffc, 0xfffffff9, 2
    TRR 33, divu, 0xffffffff, 5, 0                    /* by zero: 2^32-1 */
    TRR 34, divu, 0xffffffff, 0, 0
    TRR 35, divu, 0x00000000, 0x80000000, 0xffffffff
    TRR 36, divu, 0x00000001, 0xffffffff, 0xffffffff

    TRR 37, rem,  0x00000001, 7, 2
    TRR 38, rem,  0xffffffff, 0xfffffff9, 2           /* sign of dividend */
    TRR 39, rem,  0x00000001, 7, 0xfffffffe
    TRR 40, rem,  0xffffffff, 0xfffffff9, 0xfffffffe
    TRR 41, rem,  0x00000005, 5, 0                    /* by zero: dividend */
    TRR 42, rem,  0x80000000, 0x80000000, 0
    TRR 43, rem,  0x00000000, 0x80000000, 0xffffffff  /* overflow: 0 */

    TRR 44, remu, 0x00000001, 7, 2
    TRR 45, remu, 0x00000001, 0xfffffff9, 2
    TRR 46, remu, 0xfffffff9, 0xfffffff9, 0           /* by zero: dividend */
    TRR 47, remu, 0x80000000, 0x80000000, 0xffffffff
    TRR 48, remu, 0x00000000, 0xffffffff, 0xffffffff

    TC 49                                             /* rd = rs1 = rs2 */
    li a3, 0xfffffff0
    mul a3, a3, a3
    CHK a3, 0x00000100
    TC 50
    li a3, 9
    div a3, a3, a3
    CHK a3, 1
    TC 51                                             /* x0 destination */
    li a3, 3
    mul x0, a3, a3
    div x0, a3, x0
    CHK x0, 0
TEST_END
