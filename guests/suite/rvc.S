/*
 * rvc: hand-written loops of 16-bit instructions only (c.lw/c.sw, c.lwsp/c.swsp, c.jal,
 * c.jr, c.beqz/c.bnez, c.j, ALU ops on x8-x15), so that 32-bit instructions straddle
 * halfword boundaries around them. Called from rvc.c (built with -Os, itself dense).
 */
    .file   "rvc.S"
    .text
    .option push
    .option rvc
    .option norelax

/* uint32_t rvc_kernel(uint32_t *buf, uint32_t nwords, uint32_t seed) */
    .globl  rvc_kernel
    .align  1
rvc_kernel:
    c.addi16sp sp, -16
    c.swsp  ra, 12(sp)
    c.swsp  s0, 8(sp)
    c.swsp  s1, 4(sp)
    c.mv    s0, a0
    c.mv    s1, a1
    c.mv    a0, a2
1:  c.lw    a3, 0(s0)
    c.mv    a4, a3
    c.slli  a4, 5
    c.xor   a4, a0
    c.srli  a3, 3
    c.add   a0, a4
    c.sub   a0, a3
    c.andi  a3, 15
    c.jal   mixstep
    c.sw    a0, 0(s0)
    c.lw    a5, 4(s0)
    c.srai  a5, 1
    c.or    a5, a0
    c.sw    a5, 4(s0)
    c.addi  s0, 4
    c.addi  s1, -1
    c.bnez  s1, 1b
    c.lwsp  ra, 12(sp)
    c.lwsp  s0, 8(sp)
    c.lwsp  s1, 4(sp)
    c.addi16sp sp, 16
    c.jr    ra

/* a0 = step(a0, a3): a few more compressed ALU ops and branches */
mixstep:
    c.beqz  a3, 2f
    c.li    a5, 9
    c.and   a5, a3
    c.beqz  a5, 3f
    c.slli  a0, 1
    c.addi  a0, 1
    c.j     4f
3:  c.srli  a0, 1
    c.lui   a5, 0x12
    c.xor   a0, a5
    c.j     4f
2:  c.li    a5, -7
    c.add   a0, a5
4:  c.mv    a2, a0
    c.srai  a2, 7
    c.xor   a0, a2
    c.jr    ra

/* uint32_t rvc_list(struct cell *c): sums a linked list through c.lw with offsets */
    .globl  rvc_list
rvc_list:
    c.li    a1, 0
    c.beqz  a0, 6f
5:  c.lw    a2, 4(a0)
    c.lw    a3, 8(a0)
    c.add   a1, a2
    c.xor   a1, a3
    c.slli  a1, 1
    c.lw    a0, 0(a0)
    c.bnez  a0, 5b
6:  c.mv    a0, a1
    c.jr    ra
    .option pop
