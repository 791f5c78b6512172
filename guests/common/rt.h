/* Tiny C runtime for Rewind guests: UART, printf-lite, strings, syscon. */
#ifndef REWIND_RT_H
#define REWIND_RT_H
#include <stdint.h>
#include <stddef.h>
#include <stdarg.h>

#define UART_BASE    0x10000000u
#define SYSCON_BASE  0x00100000u
#define CLINT_BASE   0x02000000u
#define CLINT_MSIP     (CLINT_BASE + 0x0000u)
#define CLINT_MTIMECMP (CLINT_BASE + 0x4000u)
#define CLINT_MTIME    (CLINT_BASE + 0xBFF8u)
#define PLIC_BASE    0x0C000000u

#define REG32(a) (*(volatile uint32_t *)(uintptr_t)(a))
#define REG8(a)  (*(volatile uint8_t *)(uintptr_t)(a))

/* Saved by trap_entry in crt0.S: r[0] = mepc, r[i] = x_i. */
struct trap_frame { uint32_t r[32]; };

void uart_putc(int c);          /* raw byte */
int  uart_getc(void);           /* blocking, polls LSR */
int  uart_rx_ready(void);
void putchar_(int c);           /* '\n' becomes "\r\n" */
void puts_(const char *s);      /* no newline added */
int  printf_(const char *fmt, ...);
int  vprintf_(const char *fmt, va_list ap);
#define printf printf_
#define puts   puts_
#define putchar putchar_

void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
int   memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int   strcmp(const char *a, const char *b);
int   strncmp(const char *a, const char *b, size_t n);
char *strcpy(char *d, const char *s);
int   atoi_(const char *s);

__attribute__((noreturn)) void exit(int code);  /* 0 = pass, else fail(code) */
void trap_handler(struct trap_frame *f);         /* weak default in rt.c */

uint64_t clint_mtime(void);
void clint_set_mtimecmp(uint64_t v);


/*
 * Race-free idle step for code running with mstatus.MIE = 0: wfi wakes on
 * any interrupt enabled in mie even while MIE is 0, then the pending
 * interrupt is taken in the short MIE=1 window. Loop on a condition:
 *   while (!cond) idle_take_interrupts();
 */
static inline void idle_take_interrupts(void)
{
    __asm__ volatile("wfi\n\tcsrsi mstatus, 8\n\tcsrci mstatus, 8" ::: "memory");
}
#endif
