/*
 * irq: interrupt-heavy code: a machine timer interrupt every INTERVAL ticks of mtime (on
 * Rewind mtime counts instructions, so every few thousand instructions; on QEMU it runs at
 * 10 MHz of host time) while a CPU-bound loop runs with interrupts on. The handler (irq.S)
 * saves what it uses, re-arms mtimecmp and counts. The checksum does not depend on the
 * interrupts; only "ticks seen" is printed about them.
 */
#include "suite.h"
#include "csr.h"

extern void irq_entry(void);
volatile uint32_t irq_ticks;
static uint32_t words[4096];

__attribute__((noinline)) static uint32_t work(uint32_t seed)
{
    uint32_t h = seed;
    for (uint32_t i = 0; i < 4096; i++) {
        words[i] = words[i] * 1103515245u + 12345u + i;
        uint32_t w = words[i];
        h = (h ^ (w & 0xff)) * 16777619u;
        h = (h ^ (w >> 24)) * 16777619u;
        if (h & 1) h = (h >> 1) | (h << 31);
        else h += w % 7;
    }
    return h;
}

int main(void)
{
    uint32_t n = read_count(), check = 0;
    csr_write(mtvec, (uint32_t)irq_entry);
    clint_set_mtimecmp(clint_mtime() + 3000);
    csr_set(mie, MIP_MTIP);
    csr_set(mstatus, MSTATUS_MIE);
    for (uint32_t it = 0; it < n; it++)
        for (uint32_t k = 0; k < 20; k++) check = mix32(check, work(check + k));
    csr_clear(mstatus, MSTATUS_MIE);
    csr_clear(mie, MIP_MTIP);
    printf("irq: ticks seen: %s\n", irq_ticks > 0 || n == 0 ? "yes" : "no");
    report("irq", n, check);
    return 0;
}
