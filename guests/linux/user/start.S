/* Process entry for our freestanding programs: the kernel leaves argc, argv[] and envp[] on the stack. */
	.section .text._start
	.globl _start
_start:
	.option push
	.option norelax
	la	gp, __global_pointer$
	.option pop
	lw	a0, 0(sp)		/* argc */
	addi	a1, sp, 4		/* argv */
	slli	a2, a0, 2
	add	a2, a2, a1
	addi	a2, a2, 4		/* envp = argv + argc + 1 */
	andi	sp, sp, -16
	call	main
	call	exit
