/*
 * sv32: M-mode sets up PMP and Sv32 page tables, delegates U ecalls and
 * page faults to S, and enters S with satp set. S enters U, which reads,
 * writes and faults on purpose (see sv32.S); S reports scause/stval, fixes
 * the mapping or skips the instruction, and prints PTE A/D bits (QEMU sets
 * them in hardware). Back in S: superpage, SUM and MXR checks, then an
 * ecall to M powers off. Exit code 0.
 */
#include "rt.h"
#include "csr.h"

#define PTE_V (1u << 0)
#define PTE_R (1u << 1)
#define PTE_W (1u << 2)
#define PTE_X (1u << 3)
#define PTE_U (1u << 4)
#define PTE_G (1u << 5)
#define PTE_A (1u << 6)
#define PTE_D (1u << 7)

#define U_CODE   0x00400000u
#define U_DATA   0x00401000u
#define U_RO     0x00402000u
#define U_XONLY  0x00403000u
#define U_STACK  0x00404000u
#define U_FIX    0x00405000u
#define U_SUPER  0x40000000u
#define SUPER_PA 0x80400000u

struct sframe { uint32_t r[32]; uint32_t sepc; uint32_t pad[3]; };

extern char __user_start[], __user_end[];
extern void user_entry(void);
extern void s_trap_entry(void);
extern void enter_user(uint32_t entry, uint32_t usp, uint32_t kstack_top) __attribute__((noreturn));
extern void enter_supervisor(void (*fn)(void), uint32_t sp) __attribute__((noreturn));
extern uint32_t probe_lw(uint32_t addr);
extern void probe_exec(uint32_t addr);

#define PAGE __attribute__((aligned(4096)))
static uint32_t root[1024] PAGE;
static uint32_t l2[1024] PAGE;
static uint32_t data_page[1024] PAGE;
static uint32_t ro_page[1024] PAGE;
static uint32_t xonly_page[1024] PAGE;
static uint32_t ustack_page[1024] PAGE;
static uint32_t fix_page[1024] PAGE;
static uint8_t kstack[8192] __attribute__((aligned(16)));
static uint8_t sstack[8192] __attribute__((aligned(16)));
static uint8_t sstack2[8192] __attribute__((aligned(16)));

static volatile uint32_t s_faults;

static uint32_t pte_leaf(uint32_t pa, uint32_t flags) { return ((pa >> 12) << 10) | flags | PTE_V; }

static void sfence(void) { __asm__ volatile("sfence.vma" ::: "memory"); }

static __attribute__((noreturn)) void s_exit(uint32_t code)
{
    register uint32_t a0 __asm__("a0") = code;
    register uint32_t a7 __asm__("a7") = 93;
    __asm__ volatile("ecall" :: "r"(a0), "r"(a7) : "memory");
    for (;;)
        ;
}

static uint32_t *pte_of(uint32_t va, int *level)
{
    uint32_t *e = &root[va >> 22];
    *level = 1;
    if ((*e & PTE_V) && !(*e & (PTE_R | PTE_W | PTE_X))) {
        uint32_t *t = (uint32_t *)((*e >> 10) << 12);
        e = &t[(va >> 12) & 0x3ff];
        *level = 0;
    }
    return e;
}

static void report_pte(uint32_t va)
{
    int level;
    uint32_t p = *pte_of(va, &level);
    printf("S: pte for 0x%08x (%s): %c%c%c%c%c A=%u D=%u\n", va,
           level ? "4 MiB superpage" : "4 KiB page",
           p & PTE_V ? 'V' : '-', p & PTE_R ? 'R' : '-', p & PTE_W ? 'W' : '-',
           p & PTE_X ? 'X' : '-', p & PTE_U ? 'U' : '-',
           (p >> 6) & 1, (p >> 7) & 1);
}

static const char *cause_name(uint32_t c)
{
    switch (c) {
    case 8: return "ecall from U";
    case 12: return "instruction page fault";
    case 13: return "load page fault";
    case 15: return "store page fault";
    default: return "unexpected";
    }
}

static uint32_t insn_len_at(uint32_t pc)
{
    csr_set(sstatus, MSTATUS_SUM);
    uint16_t h = *(volatile uint16_t *)pc;
    csr_clear(sstatus, MSTATUS_SUM);
    return (h & 3) == 3 ? 4 : 2;
}

static void s_after_user(void);

void s_trap(struct sframe *f)
{
    uint32_t cause = csr_read(scause), tval = csr_read(stval);
    int from_u = !(csr_read(sstatus) & MSTATUS_SPP);

    if (cause == 8) {
        uint32_t a0 = f->r[10];
        f->sepc += 4;
        switch (f->r[17]) {
        case 1:
            csr_set(sstatus, MSTATUS_SUM);
            puts((const char *)a0);
            csr_clear(sstatus, MSTATUS_SUM);
            return;
        case 2: printf("U: value 0x%08x\n", a0); return;
        case 4: report_pte(a0); return;
        case 5: csr_set(sstatus, MSTATUS_MXR); printf("S: sstatus.MXR = 1\n"); return;
        case 6: csr_clear(sstatus, MSTATUS_MXR); printf("S: sstatus.MXR = 0\n"); return;
        case 3:
            printf("S: U-mode exited with ecall\n");
            f->sepc = (uint32_t)s_after_user;
            f->r[2] = (uint32_t)(sstack2 + sizeof sstack2);
            csr_set(sstatus, MSTATUS_SPP);
            return;
        default:
            printf("S: unknown syscall %u\n", f->r[17]);
            return;
        }
    }

    s_faults++;
    printf("S: trap scause=%u (%s) stval=0x%08x from %s\n", cause, cause_name(cause),
           tval, from_u ? "U" : "S");
    if (cause == 13 && from_u && (tval & ~0xfffu) == U_FIX) {
        int level;
        uint32_t *e = pte_of(U_FIX, &level);
        fix_page[2] = 0x5EED0002;
        *e = pte_leaf((uint32_t)fix_page, PTE_R | PTE_W | PTE_U);
        sfence();
        printf("S: mapped 0x%08x, retrying the load\n", U_FIX);
    } else if (cause == 13 || cause == 15) {
        uint32_t len = insn_len_at(f->sepc);
        f->sepc += len;
        printf("S: skipping the %u-byte instruction\n", len);
    } else if (cause == 12) {
        printf("S: sepc=0x%08x, resuming at ra=0x%08x\n", f->sepc, f->r[1]);
        f->sepc = f->r[1];
    } else {
        printf("S: unexpected trap, sepc=0x%08x\n", f->sepc);
        s_exit(2);
    }
}

static void s_after_user(void)
{
    printf("S: back in S-mode\n");
    printf("S: word at 0x%08x through the kernel mapping: 0x%08x\n",
           SUPER_PA + 0x1234, *(volatile uint32_t *)(SUPER_PA + 0x1234));

    printf("S: SUM=0, load from user page 0x00401004\n");
    csr_clear(sstatus, MSTATUS_SUM);
    uint32_t before = s_faults;
    uint32_t v = probe_lw(U_DATA + 4);
    printf("S: got 0x%08x, faults %u\n", v, s_faults - before);

    printf("S: SUM=1, same load\n");
    csr_set(sstatus, MSTATUS_SUM);
    before = s_faults;
    v = probe_lw(U_DATA + 4);
    printf("S: got 0x%08x, faults %u\n", v, s_faults - before);

    printf("S: SUM=1, execute user page 0x00400000 (never allowed in S)\n");
    before = s_faults;
    probe_exec(U_CODE);
    printf("S: returned, faults %u\n", s_faults - before);

    printf("S: SUM=1 MXR=0, load from execute-only user page\n");
    before = s_faults;
    v = probe_lw(U_XONLY);
    printf("S: got 0x%08x, faults %u\n", v, s_faults - before);
    /* Not tested: the same load with MXR=1. The spec allows it, but QEMU 7.2
       still raises a load page fault for an S-mode (SUM=1) load from an
       execute-only U page, so the two machines would differ. */
    csr_clear(sstatus, MSTATUS_MXR | MSTATUS_SUM);

    printf("S: total page faults handled in S: %u\n", s_faults);
    printf("sv32: pass\n");
    s_exit(0);
}

static void s_main(void)
{
    csr_write(stvec, (uint32_t)s_trap_entry);
    csr_write(sscratch, 0);
    sfence();
    printf("S: running with satp.MODE=%u, sstatus.SPP=%u\n", csr_read(satp) >> 31,
           (csr_read(sstatus) >> 8) & 1);
    report_pte(U_CODE);
    report_pte(U_DATA);
    report_pte(U_SUPER);
    printf("S: entering U-mode at 0x%08x\n", U_CODE);
    enter_user(U_CODE, U_STACK + 4096, (uint32_t)(kstack + sizeof kstack));
}

void trap_handler(struct trap_frame *f)
{
    uint32_t cause = csr_read(mcause);
    if (cause == 9) {
        printf("M: ecall from S, exit code %u\n", f->r[10]);
        exit((int)f->r[10]);
    }
    printf("\n*** crash: mcause=0x%08x mepc=0x%08x mtval=0x%08x\n",
           cause, f->r[0], csr_read(mtval));
    exit(3);
}

int main(void)
{
    printf("sv32: M-mode setup\n");
    /* PMP entry 0: NAPOT over the whole address space, RWX. */
    csr_write(pmpaddr0, 0xffffffffu);
    csr_write(pmpcfg0, 0x1f);

    uint32_t kflags = PTE_R | PTE_W | PTE_X | PTE_A | PTE_D;
    root[0x80000000u >> 22] = pte_leaf(0x80000000u, kflags);
    root[SUPER_PA >> 22] = pte_leaf(SUPER_PA, PTE_R | PTE_W | PTE_A | PTE_D);
    root[UART_BASE >> 22] = pte_leaf(UART_BASE, PTE_R | PTE_W | PTE_A | PTE_D);
    root[U_SUPER >> 22] = pte_leaf(SUPER_PA, PTE_R | PTE_W | PTE_U);
    root[U_CODE >> 22] = (((uint32_t)l2 >> 12) << 10) | PTE_V;

    l2[(U_CODE >> 12) & 0x3ff] = pte_leaf((uint32_t)__user_start, PTE_R | PTE_X | PTE_U);
    l2[(U_DATA >> 12) & 0x3ff] = pte_leaf((uint32_t)data_page, PTE_R | PTE_W | PTE_U);
    l2[(U_RO >> 12) & 0x3ff] = pte_leaf((uint32_t)ro_page, PTE_R | PTE_U);
    l2[(U_XONLY >> 12) & 0x3ff] = pte_leaf((uint32_t)xonly_page, PTE_X | PTE_U);
    l2[(U_STACK >> 12) & 0x3ff] = pte_leaf((uint32_t)ustack_page, PTE_R | PTE_W | PTE_U | PTE_A | PTE_D);

    data_page[0] = 0xDA7A0001;
    ro_page[0] = 0x0F0F0F0F;
    xonly_page[0] = 0x00000013;  /* a nop, readable only with MXR */
    *(volatile uint32_t *)(SUPER_PA + 0x3ff000) = 0x5A5A0003;
    printf("M: user code is %u bytes\n", (uint32_t)(__user_end - __user_start));

    /* U ecalls and page faults go to S. */
    csr_write(medeleg, (1u << 8) | (1u << 12) | (1u << 13) | (1u << 15));
    csr_write(mideleg, 0);
    csr_write(satp, (1u << 31) | ((uint32_t)root >> 12));
    __asm__ volatile("sfence.vma" ::: "memory");
    csr_clear(mstatus, MSTATUS_MPP | MSTATUS_MPRV | MSTATUS_SUM | MSTATUS_MXR);
    csr_set(mstatus, MSTATUS_MPP_S);
    printf("M: satp set, entering S-mode\n");
    enter_supervisor(s_main, (uint32_t)(sstack + sizeof sstack));
}
