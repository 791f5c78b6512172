/*
 * crt0 for Rewind guests (M-mode, bare metal).
 * Entry at 0x80000000 with a0 = hart id, a1 = device tree address.
 * Sets gp/sp, clears .bss, points mtvec at trap_entry, calls
 * main(hartid, dtb) and hands its return value to exit() (syscon).
 */
    .file   "crt0.S"
    .section .text.init, "ax"
    .globl _start
_start:
    .option push
    .option norelax
    la      gp, __global_pointer$
    .option pop
    csrr    t0, mhartid
    bnez    t0, park                /* only hart 0 runs */
    la      sp, __stack_top
    mv      s0, a0
    mv      s1, a1
    la      t0, __bss_start
    la      t1, __bss_end
1:  bgeu    t0, t1, 2f
    sw      zero, 0(t0)
    addi    t0, t0, 4
    j       1b
2:  la      t0, trap_entry
    csrw    mtvec, t0
    mv      a0, s0
    mv      a1, s1
    call    main
    call    exit
park:
    wfi
    j       park

/*
 * Generic M-mode trap entry: saves x1..x31 and mepc in a 32-word frame on
 * the current stack, calls trap_handler(frame), writes back mepc, restores.
 * frame[0] = mepc, frame[i] = x_i (frame[2] = sp at the trap).
 */
    .text
    .align  2
    .globl  trap_entry
trap_entry:
    addi    sp, sp, -128
    sw      x1, 4(sp)
    .irp n, 3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    sw      x\n, (\n*4)(sp)
    .endr
    addi    t0, sp, 128
    sw      t0, 8(sp)
    csrr    t0, mepc
    sw      t0, 0(sp)
    mv      a0, sp
    call    trap_handler
    lw      t0, 0(sp)
    csrw    mepc, t0
    lw      x1, 4(sp)
    .irp n, 3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    lw      x\n, (\n*4)(sp)
    .endr
    addi    sp, sp, 128
    mret
