/* Tiny C runtime for Rewind guests. */
#include "rt.h"
#include "csr.h"

#define UART_RBR 0
#define UART_THR 0
#define UART_LSR 5
#define LSR_DR   0x01
#define LSR_THRE 0x20

void uart_putc(int c)
{
    while (!(REG8(UART_BASE + UART_LSR) & LSR_THRE))
        ;
    REG8(UART_BASE + UART_THR) = (uint8_t)c;
}

int uart_rx_ready(void)
{
    return REG8(UART_BASE + UART_LSR) & LSR_DR;
}

int uart_getc(void)
{
    while (!uart_rx_ready())
        ;
    return REG8(UART_BASE + UART_RBR);
}

void putchar_(int c)
{
    if (c == '\n')
        uart_putc('\r');
    uart_putc(c);
}

void puts_(const char *s)
{
    while (*s)
        putchar_(*s++);
}

static void put_num(uint32_t v, unsigned base, int neg, int width, int zero, int upper)
{
    char buf[12];
    int n = 0;
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    do {
        buf[n++] = digits[v % base];
        v /= base;
    } while (v);
    int len = n + (neg ? 1 : 0);
    if (neg && zero)
        putchar_('-');
    for (; len < width; len++)
        putchar_(zero ? '0' : ' ');
    if (neg && !zero)
        putchar_('-');
    while (n)
        putchar_(buf[--n]);
}

int vprintf_(const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            putchar_(*fmt);
            continue;
        }
        fmt++;
        int zero = 0, width = 0, left = 0;
        if (*fmt == '-') { left = 1; fmt++; }
        if (*fmt == '0') { zero = 1; fmt++; }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l')
            fmt++;
        switch (*fmt) {
        case 'd': {
            int32_t v = va_arg(ap, int32_t);
            put_num(v < 0 ? (uint32_t)-v : (uint32_t)v, 10, v < 0, width, zero, 0);
            break;
        }
        case 'u': put_num(va_arg(ap, uint32_t), 10, 0, width, zero, 0); break;
        case 'x': put_num(va_arg(ap, uint32_t), 16, 0, width, zero, 0); break;
        case 'X': put_num(va_arg(ap, uint32_t), 16, 0, width, zero, 1); break;
        case 'p': puts_("0x"); put_num(va_arg(ap, uint32_t), 16, 0, 8, 1, 0); break;
        case 'c': putchar_(va_arg(ap, int)); break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s) s = "(null)";
            int len = (int)strlen(s);
            if (!left) for (int i = len; i < width; i++) putchar_(' ');
            puts_(s);
            if (left) for (int i = len; i < width; i++) putchar_(' ');
            break;
        }
        case '%': putchar_('%'); break;
        case 0: return 0;
        default: putchar_('%'); putchar_(*fmt); break;
        }
    }
    return 0;
}

int printf_(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf_(fmt, ap);
    va_end(ap);
    return 0;
}

void *memcpy(void *d, const void *s, size_t n)
{
    uint8_t *dp = d;
    const uint8_t *sp = s;
    while (n--)
        *dp++ = *sp++;
    return d;
}

void *memmove(void *d, const void *s, size_t n)
{
    uint8_t *dp = d;
    const uint8_t *sp = s;
    if (dp < sp) {
        while (n--) *dp++ = *sp++;
    } else {
        while (n--) dp[n] = sp[n];
    }
    return d;
}

void *memset(void *d, int c, size_t n)
{
    uint8_t *dp = d;
    while (n--)
        *dp++ = (uint8_t)c;
    return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x - *y;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b) { a++; b++; }
    return (uint8_t)*a - (uint8_t)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b) return (uint8_t)*a - (uint8_t)*b;
        if (!*a) return 0;
    }
    return 0;
}

char *strcpy(char *d, const char *s)
{
    char *r = d;
    while ((*d++ = *s++))
        ;
    return r;
}

int atoi_(const char *s)
{
    int neg = 0, v = 0;
    if (*s == '-') { neg = 1; s++; }
    while (*s >= '0' && *s <= '9')
        v = v * 10 + (*s++ - '0');
    return neg ? -v : v;
}

void exit(int code)
{
    uint32_t v = code == 0 ? 0x5555u : (0x3333u | ((uint32_t)code << 16));
    for (;;)
        REG32(SYSCON_BASE) = v;
}

/* Default M-mode trap handler: report and fail with exit code 3. */
__attribute__((weak)) void trap_handler(struct trap_frame *f)
{
    printf("\n*** crash: mcause=0x%08x mepc=0x%08x mtval=0x%08x\n",
           csr_read(mcause), f->r[0], csr_read(mtval));
    exit(3);
}

uint64_t clint_mtime(void)
{
    uint32_t hi, lo;
    do {
        hi = REG32(CLINT_MTIME + 4);
        lo = REG32(CLINT_MTIME);
    } while (hi != REG32(CLINT_MTIME + 4));
    return ((uint64_t)hi << 32) | lo;
}

void clint_set_mtimecmp(uint64_t v)
{
    REG32(CLINT_MTIMECMP + 4) = 0xffffffffu;
    REG32(CLINT_MTIMECMP) = (uint32_t)v;
    REG32(CLINT_MTIMECMP + 4) = (uint32_t)(v >> 32);
}
