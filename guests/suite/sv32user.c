/*
 * sv32user: user-space code under Sv32 with the MMU on. A small M-mode kernel maps the
 * program's first 4 MiB with 4 KiB user pages (identity, A and D preset), plus a window page
 * it remaps on request (sfence.vma), and runs main's workload in U-mode: table lookups over
 * 1 MiB of data (256 pages, more than the TLB holds at once), a hash loop, and system calls
 * (ecall to M: a "getpid", a remap of the window, the final report).
 */
#include "suite.h"
#include "csr.h"

#define PTE_V 1u
#define PTE_R 2u
#define PTE_W 4u
#define PTE_X 8u
#define PTE_U 16u
#define PTE_A 64u
#define PTE_D 128u
#define WINDOW 0x90000000u

#define PAGE __attribute__((aligned(4096)))
static uint32_t root[1024] PAGE, l2[1024] PAGE, l2win[1024] PAGE;
static uint32_t data[1 << 18] PAGE;          /* 1 MiB */
static uint8_t ustack[16384] __attribute__((aligned(16)));
static uint32_t count;

static uint32_t sys(uint32_t n, uint32_t a)
{
    register uint32_t a0 __asm__("a0") = a;
    register uint32_t a7 __asm__("a7") = n;
    __asm__ volatile("ecall" : "+r"(a0) : "r"(a7) : "memory");
    return a0;
}

static uint32_t calls;

void trap_handler(struct trap_frame *f)
{
    uint32_t cause = csr_read(mcause);
    if (cause != 8) {
        printf("*** unexpected trap mcause=0x%08x mepc=0x%08x mtval=0x%08x\n", cause, f->r[0], csr_read(mtval));
        exit(3);
    }
    f->r[0] += 4;
    calls++;
    switch (f->r[17]) {
    case 1: f->r[10] = f->r[10] * 7 + calls; return;                /* getpid-like */
    case 2:                                                          /* map the window onto data page a0 */
        l2win[0] = (((uint32_t)&data[(f->r[10] & 255) * 1024] >> 12) << 10) | PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D;
        __asm__ volatile("sfence.vma" ::: "memory");
        return;
    case 3: report("sv32user", count, f->r[10]); exit(0);
    default: exit(4);
    }
}

__attribute__((noinline)) static void user_main(void)
{
    uint32_t check = 0, r = 1;
    for (uint32_t i = 0; i < (1 << 18); i += 1024) data[i] = i;
    for (uint32_t it = 0; it < count; it++) {
        for (uint32_t k = 0; k < 8; k++) {
            sys(2, it * 8 + k);
            volatile uint32_t *w = (volatile uint32_t *)WINDOW;
            uint32_t s = 0;
            for (uint32_t j = 0; j < 1024; j += 8) s += w[j] ^ j;
            w[(it + k) & 1023] = s;
            check = mix32(check, s);
        }
        for (uint32_t k = 0; k < 12000; k++) {                       /* scattered over 256 pages */
            r = r * 1103515245u + 12345u;
            uint32_t *p = &data[(r >> 8) & ((1 << 18) - 1)];
            *p = *p * 3 + k;
            check += *p;
        }
        for (uint32_t k = 0; k < 16; k++) check = mix32(check, sys(1, check));
    }
    sys(3, check);
}

int main(void)
{
    count = read_count();
    /* Identity map 0x80000000..0x803fffff with user pages, and the window. */
    for (uint32_t i = 0; i < 1024; i++)
        l2[i] = (((0x80000000u >> 12) + i) << 10) | PTE_V | PTE_R | PTE_W | PTE_X | PTE_U | PTE_A | PTE_D;
    root[0x80000000u >> 22] = (((uint32_t)l2 >> 12) << 10) | PTE_V;
    root[WINDOW >> 22] = (((uint32_t)l2win >> 12) << 10) | PTE_V;
    /* PMP: everything for U. */
    csr_write(pmpaddr0, 0xffffffffu);
    csr_write(pmpcfg0, 0x1f);
    csr_write(satp, (1u << 31) | ((uint32_t)root >> 12));
    __asm__ volatile("sfence.vma" ::: "memory");
    csr_write(mepc, (uint32_t)user_main);
    csr_clear(mstatus, MSTATUS_MPP);                                 /* MPP = U */
    __asm__ volatile("mv sp, %0\n\tmret" :: "r"(ustack + sizeof ustack) : "memory");
    for (;;)
        ;
}
