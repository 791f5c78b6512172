/*
 * Shared by the benchmark suite's guests (guests/suite/): each reads its
 * iteration count as a decimal line from the console, runs its workload that
 * many times, prints a checksum and powers off with pass. An iteration is
 * 0.2 to 3.4 million instructions; bench/jit.mjs keeps the count per
 * iteration of each, to run each for 10^8 or 10^9 instructions.
 */
#ifndef REWIND_SUITE_H
#define REWIND_SUITE_H
#include "rt.h"

static inline uint32_t read_count(void)
{
    uint32_t n = 0;
    int c;
    while ((c = uart_getc()) != '\n' && c != '\r' && c != 0x04)
        if (c >= '0' && c <= '9')
            n = n * 10 + (uint32_t)(c - '0');
    return n;
}

static inline uint32_t mix32(uint32_t h, uint32_t v)
{
    h ^= v;
    h *= 0x01000193u;
    return h ^ (h >> 15);
}

static inline void report(const char *name, uint32_t n, uint32_t check)
{
    printf("%s: iterations=%u checksum=0x%08x\n", name, n, check);
}
#endif
