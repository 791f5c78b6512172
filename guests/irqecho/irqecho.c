/*
 * irqecho: interrupt-driven console. Enables the UART receive interrupt
 * through the PLIC (M-mode context 0), sleeps in wfi, and echoes each
 * received byte uppercased from the external-interrupt handler.
 * 'q' or Ctrl-D (0x04) ends the program with exit code 0.
 */
#include "rt.h"
#include "csr.h"

#define UART_IRQ 10
#define PLIC_PRIORITY(irq)  (PLIC_BASE + 4u * (irq))
#define PLIC_ENABLE_CTX0    (PLIC_BASE + 0x2000u)
#define PLIC_THRESHOLD_CTX0 (PLIC_BASE + 0x200000u)
#define PLIC_CLAIM_CTX0     (PLIC_BASE + 0x200004u)

static volatile int done;
static volatile uint32_t irq_count, byte_count;

void trap_handler(struct trap_frame *f)
{
    uint32_t cause = csr_read(mcause);
    if (cause != (MCAUSE_INT | 11)) {
        printf("\n*** crash: mcause=0x%08x mepc=0x%08x mtval=0x%08x\n",
               cause, f->r[0], csr_read(mtval));
        exit(3);
    }
    uint32_t irq = REG32(PLIC_CLAIM_CTX0);
    if (irq == UART_IRQ) {
        irq_count++;
        while (uart_rx_ready()) {
            int c = REG8(UART_BASE);
            byte_count++;
            if (c == 'q' || c == 0x04) {
                done = 1;
                break;
            }
            if (c >= 'a' && c <= 'z')
                c -= 'a' - 'A';
            if (c == '\n')
                putchar('\n');
            else if (c != '\r')
                uart_putc(c);
        }
    } else if (irq != 0) {
        printf("\nunexpected PLIC irq %u\n", irq);
    }
    if (irq)
        REG32(PLIC_CLAIM_CTX0) = irq;  /* complete */
}

int main(void)
{
    printf("irqecho: type text, it comes back in capitals. 'q' quits.\n");
    REG32(PLIC_PRIORITY(UART_IRQ)) = 1;
    REG32(PLIC_ENABLE_CTX0) = 1u << UART_IRQ;
    REG32(PLIC_THRESHOLD_CTX0) = 0;
    REG8(UART_BASE + 1) = 0x01;          /* IER: received data available */
    csr_set(mie, MIP_MEIP);
    while (!done)
        idle_take_interrupts();
    REG8(UART_BASE + 1) = 0;
    printf("\nirqecho: end of input, bye (interrupts seen: %s)\n",
           irq_count > 0 ? "yes" : "no");
    return 0;
}
