/*
 * A tiny M-mode SBI for running our Linux on QEMU (Debian ships no 32-bit
 * OpenSBI): `qemu-system-riscv32 -machine virt -bios sbi-shim.bin -kernel Image`.
 * QEMU enters here at 0x80000000 with a0 = hart id, a1 = device tree. We set
 * up the hart (shim.c: setup) and mret to the kernel at 0x80400000 in S-mode.
 * Traps from S/U land in trap_entry, which saves the registers on our own
 * stack (mscratch holds its top while S-mode runs) and calls shim.c: trap.
 */
	.section .text.start
	.globl _start
_start:
	csrw	mie, zero
	la	sp, stack_top
	csrw	mscratch, sp
	la	t0, trap_entry
	csrw	mtvec, t0
	mv	s0, a0
	mv	s1, a1
	call	setup			/* setup(hartid, dtb) */
	mv	a0, s0
	mv	a1, s1
	li	t0, 0x80400000
	csrw	mepc, t0
	mret

	.align 2
trap_entry:
	csrrw	sp, mscratch, sp
	addi	sp, sp, -128
	sw	ra, 4(sp)
	sw	gp, 12(sp)
	sw	tp, 16(sp)
	sw	t0, 20(sp)
	sw	t1, 24(sp)
	sw	t2, 28(sp)
	sw	s0, 32(sp)
	sw	s1, 36(sp)
	sw	a0, 40(sp)
	sw	a1, 44(sp)
	sw	a2, 48(sp)
	sw	a3, 52(sp)
	sw	a4, 56(sp)
	sw	a5, 60(sp)
	sw	a6, 64(sp)
	sw	a7, 68(sp)
	sw	s2, 72(sp)
	sw	s3, 76(sp)
	sw	s4, 80(sp)
	sw	s5, 84(sp)
	sw	s6, 88(sp)
	sw	s7, 92(sp)
	sw	s8, 96(sp)
	sw	s9, 100(sp)
	sw	s10, 104(sp)
	sw	s11, 108(sp)
	sw	t3, 112(sp)
	sw	t4, 116(sp)
	sw	t5, 120(sp)
	sw	t6, 124(sp)
	mv	a0, sp			/* regs[i] at 4*i; regs[2] (sp) unused */
	call	trap
	lw	ra, 4(sp)
	lw	gp, 12(sp)
	lw	tp, 16(sp)
	lw	t0, 20(sp)
	lw	t1, 24(sp)
	lw	t2, 28(sp)
	lw	s0, 32(sp)
	lw	s1, 36(sp)
	lw	a0, 40(sp)
	lw	a1, 44(sp)
	lw	a2, 48(sp)
	lw	a3, 52(sp)
	lw	a4, 56(sp)
	lw	a5, 60(sp)
	lw	a6, 64(sp)
	lw	a7, 68(sp)
	lw	s2, 72(sp)
	lw	s3, 76(sp)
	lw	s4, 80(sp)
	lw	s5, 84(sp)
	lw	s6, 88(sp)
	lw	s7, 92(sp)
	lw	s8, 96(sp)
	lw	s9, 100(sp)
	lw	s10, 104(sp)
	lw	s11, 108(sp)
	lw	t3, 112(sp)
	lw	t4, 116(sp)
	lw	t5, 120(sp)
	lw	t6, 124(sp)
	addi	sp, sp, 128
	csrrw	sp, mscratch, sp
	mret

	.section .bss
	.align 4
	.space 4096
stack_top:
