/* irq: the timer handler: mtimecmp = mtime + INTERVAL, count, mret (saves what it uses). */
    .file   "irq.S"
#define INTERVAL 3000
    .text
    .align  2
    .globl  irq_entry
irq_entry:
    addi    sp, sp, -16
    sw      t0, 0(sp)
    sw      t1, 4(sp)
    sw      t2, 8(sp)
    csrr    t0, mcause
    bgez    t0, 9f                  /* an exception: not expected */
    li      t0, 0x0200bff8          /* mtime */
1:  lw      t2, 4(t0)
    lw      t1, 0(t0)
    lw      t0, 4(t0)
    bne     t0, t2, 8f
    li      t0, INTERVAL
    add     t0, t1, t0
    sltu    t1, t0, t1
    add     t2, t2, t1
    li      t1, 0x02004000          /* mtimecmp */
    sw      t2, 4(t1)               /* high first: the low write completes the new value */
    sw      t0, 0(t1)
    la      t0, irq_ticks
    lw      t1, 0(t0)
    addi    t1, t1, 1
    sw      t1, 0(t0)
    lw      t0, 0(sp)
    lw      t1, 4(sp)
    lw      t2, 8(sp)
    addi    sp, sp, 16
    mret
8:  li      t0, 0x0200bff8
    j       1b
9:  li      a0, 5
    call    exit
