/*
 * timer: M-mode timer interrupts. Arms mtimecmp, enables MTIE, sleeps in
 * wfi and prints "tick 1".."tick 10" from the handler, which re-arms
 * mtimecmp relative to mtime. Then tests a machine software interrupt
 * (msip), ecall and ebreak from M-mode. Exit code 0.
 */
#include "rt.h"
#include "csr.h"

#define TICKS    10
#define INTERVAL 100000u   /* 10 ms at QEMU's 10 MHz timebase */

static volatile uint32_t ticks, soft_irqs, ecalls, ebreaks;

void trap_handler(struct trap_frame *f)
{
    uint32_t cause = csr_read(mcause);
    if (cause == (MCAUSE_INT | 7)) {
        ticks++;
        printf("tick %u\n", ticks);
        if (ticks < TICKS) {
            clint_set_mtimecmp(clint_mtime() + INTERVAL);
        } else {
            csr_clear(mie, MIP_MTIP);
            clint_set_mtimecmp(~0ull);
        }
    } else if (cause == (MCAUSE_INT | 3)) {
        soft_irqs++;
        REG32(CLINT_MSIP) = 0;
        printf("software interrupt taken, mip.MSIP now %u\n",
               (csr_read(mip) >> 3) & 1);
    } else if (cause == 11) {
        ecalls++;
        printf("ecall from M-mode: a7=%u a0=0x%x\n", f->r[17], f->r[10]);
        f->r[10] = f->r[10] + 1;
        f->r[0] += 4;
    } else if (cause == 3) {
        ebreaks++;
        uint16_t insn = *(uint16_t *)f->r[0];
        uint32_t len = (insn & 3) == 3 ? 4 : 2;
        printf("breakpoint: instruction length %u, mtval %s mepc\n", len,
               csr_read(mtval) == f->r[0] ? "==" : (csr_read(mtval) == 0 ? "is 0, not" : "!="));
        f->r[0] += len;
    } else {
        printf("\n*** crash: mcause=0x%08x mepc=0x%08x mtval=0x%08x\n",
               cause, f->r[0], csr_read(mtval));
        exit(3);
    }
}

int main(void)
{
    printf("timer: waiting for %u timer interrupts\n", TICKS);
    clint_set_mtimecmp(clint_mtime() + INTERVAL);
    csr_set(mie, MIP_MTIP);
    while (ticks < TICKS)
        idle_take_interrupts();
    printf("mtimecmp disarmed after %u ticks\n", ticks);

    /* Machine software interrupt through the CLINT. */
    csr_set(mie, MIP_MSIP);
    REG32(CLINT_MSIP) = 1;
    while (soft_irqs == 0)
        idle_take_interrupts();
    csr_clear(mie, MIP_MSIP);

    register uint32_t a0 __asm__("a0") = 0x41;
    register uint32_t a7 __asm__("a7") = 93;
    __asm__ volatile("ecall" : "+r"(a0) : "r"(a7) : "memory");
    printf("ecall returned a0=0x%x\n", a0);
    __asm__ volatile(".option push\n.option norvc\nebreak\n.option pop" ::: "memory");
    __asm__ volatile(".option push\n.option rvc\nc.ebreak\n.option pop" ::: "memory");
    printf("ticks=%u soft=%u ecalls=%u ebreaks=%u\n", ticks, soft_irqs, ecalls, ebreaks);
    printf("timer: pass\n");
    return 0;
}
