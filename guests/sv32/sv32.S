/*
 * sv32: S-mode trap entry, mode-switch helpers, fault probes, and the
 * U-mode program (section .user, mapped at virtual 0x00400000).
 */
    .file   "sv32.S"
#define SFRAME 144          /* r[0..31], sepc at 128; 16-byte multiple */

    .text
    .align  2
    .globl  s_trap_entry
/*
 * sscratch holds the kernel trap-stack top while U runs and 0 while S runs,
 * so a trap from S (e.g. a SUM probe) nests on the current stack.
 */
s_trap_entry:
    csrrw   sp, sscratch, sp
    bnez    sp, 1f
    csrrw   sp, sscratch, sp        /* from S: take sp back, sscratch = 0 */
1:  addi    sp, sp, -SFRAME
    sw      x1, 4(sp)
    .irp n, 3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    sw      x\n, (\n*4)(sp)
    .endr
    csrr    t0, sscratch            /* user sp, or 0 when the trap came from S */
    bnez    t0, 2f
    addi    t0, sp, SFRAME
2:  sw      t0, 8(sp)
    csrw    sscratch, zero
    csrr    t0, sepc
    sw      t0, 128(sp)
    mv      a0, sp
    call    s_trap
    lw      t0, 128(sp)
    csrw    sepc, t0
    csrr    t0, sstatus
    andi    t0, t0, 0x100           /* SPP */
    bnez    t0, 3f
    addi    t0, sp, SFRAME          /* returning to U: arm sscratch */
    csrw    sscratch, t0
3:  lw      x1, 4(sp)
    .irp n, 3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    lw      x\n, (\n*4)(sp)
    .endr
    lw      sp, 8(sp)
    sret

/* void enter_user(uint32_t entry, uint32_t user_sp, uint32_t kstack_top) */
    .globl  enter_user
enter_user:
    csrw    sepc, a0
    csrw    sscratch, a2
    li      t0, 0x100
    csrc    sstatus, t0             /* SPP = U */
    mv      sp, a1
    sret

/* enter S-mode at a0 (M-mode helper; satp already set) */
    .globl  enter_supervisor
enter_supervisor:
    csrw    mepc, a0
    mv      sp, a1
    mret

/* uint32_t probe_lw(uint32_t addr): the word, or 0x0BADBAD0 if the load
   faulted and the handler skipped it. */
    .globl  probe_lw
probe_lw:
    mv      t0, a0
    li      a0, 0x0BADBAD0
    lw      a0, 0(t0)
    ret

/* void probe_exec(uint32_t addr): calls addr; a fetch fault handler
   resumes at ra. */
    .globl  probe_exec
probe_exec:
    addi    sp, sp, -16
    sw      ra, 12(sp)
    jalr    a0
    lw      ra, 12(sp)
    addi    sp, sp, 16
    ret

/* ---------------- U-mode program (runs at VA 0x00400000) ---------------- */
#define U_DATA   0x00401000
#define U_RO     0x00402000
#define U_XONLY  0x00403000
#define U_FIX    0x00405000
#define U_SKIP   0x00406000
#define U_NOPAGE 0x00407000
#define U_SUPER  0x40000000

#define SYS_PUTS 1
#define SYS_HEX  2
#define SYS_EXIT 3
#define SYS_PTE  4
#define SYS_MXR_ON 5
#define SYS_MXR_OFF 6

.macro SAY msg
    la      a0, \msg
    li      a7, SYS_PUTS
    ecall
.endm
.macro SHOW reg
    mv      a0, \reg
    li      a7, SYS_HEX
    ecall
.endm
.macro PTE va
    li      a0, \va
    li      a7, SYS_PTE
    ecall
.endm

    .section .user, "ax"
    .option push
    .option norelax                 /* no gp-relative addressing in here */
    .globl  user_entry
user_entry:
    SAY     m_hello
    PTE     0x00400000

    SAY     m_load
    li      s1, U_DATA
    lw      s2, 0(s1)
    SHOW    s2
    PTE     U_DATA

    SAY     m_store
    li      t1, 0x12345678
    sw      t1, 4(s1)
    lw      s2, 4(s1)
    SHOW    s2
    PTE     U_DATA

    SAY     m_ro
    li      s1, U_RO
    lw      s2, 0(s1)
    SHOW    s2
    sw      t1, 0(s1)               /* store page fault: skipped */
    lw      s2, 0(s1)
    SHOW    s2
    PTE     U_RO

    SAY     m_fix
    li      s1, U_FIX
    lw      s2, 8(s1)               /* load page fault: S maps it, retries */
    SHOW    s2
    PTE     U_FIX

    SAY     m_skip
    li      t0, U_SKIP
    li      s2, 0x55
    sw      s2, 0(t0)               /* store page fault: skipped */
    SAY     m_skipped

    SAY     m_exec
    li      t0, U_NOPAGE
    jalr    t0                      /* fetch fault: S resumes at ra */
    SAY     m_back
    li      t0, U_DATA
    jalr    t0                      /* page not executable: fetch fault */
    SAY     m_back

    SAY     m_mxr
    li      s1, U_XONLY
    li      s2, 0x0BADBAD0
    lw      s2, 0(s1)               /* execute-only page: load fault, skipped */
    SHOW    s2
    li      a7, SYS_MXR_ON
    ecall
    lw      s2, 0(s1)               /* MXR=1: readable now */
    SHOW    s2
    li      a7, SYS_MXR_OFF
    ecall

    SAY     m_super
    PTE     U_SUPER
    li      s1, U_SUPER + 0x1234
    li      t1, 0xCAFEF00D
    sw      t1, 0(s1)
    lw      s2, 0(s1)
    SHOW    s2
    li      s1, U_SUPER + 0x3ff000
    lw      s2, 0(s1)
    SHOW    s2
    PTE     U_SUPER

    SAY     m_bye
    li      a7, SYS_EXIT
    ecall
1:  j       1b

m_hello:   .asciz "U: hello from U-mode at VA 0x00400000 (code page PTE:)\n"
m_load:    .asciz "U: load from data page 0x00401000\n"
m_store:   .asciz "U: store 0x12345678 to 0x00401004 and load it back\n"
m_ro:      .asciz "U: read-only page 0x00402000: load, store (faults), load\n"
m_fix:     .asciz "U: load from unmapped 0x00405008 (S maps it on the fault)\n"
m_skip:    .asciz "U: store to unmapped 0x00406000 (S skips it)\n"
m_skipped: .asciz "U: still running after the skipped store\n"
m_exec:    .asciz "U: jump to unmapped 0x00407000, then to non-executable 0x00401000\n"
m_back:    .asciz "U: back after the instruction page fault\n"
m_mxr:     .asciz "U: load from execute-only page 0x00403000 with MXR=0 then MXR=1\n"
m_super:   .asciz "U: write/read through the 4 MiB user superpage at 0x40000000\n"
m_bye:     .asciz "U: done, ecall exit\n"
    .option pop
