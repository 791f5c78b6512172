/* stream: sequential passes over a 32 MiB buffer (two halves of 16 MiB). An iteration takes the
   next 256 KiB slice of the source half: a read-modify-write of every word, a prefix sum over it
   (carried from slice to slice), a copy into the other half, and a sum of the copy. A pass is
   64 iterations; it writes the whole buffer, then the halves swap roles (the copy goes the
   other way). For the cost of recording (issue #13) when memory is rewritten front to back.
   RAM: the buffer starts past the stack (__heap_start, link.ld), so crt0 does not clear it; it
   reads zeros there at first, as RAM is zero at reset on QEMU and on Rewind. It needs the default
   64 MiB of RAM. */
#include "suite.h"

#define HALF (4u << 20)              /* words: 16 MiB */
#define SLICE (1u << 16)             /* words: 256 KiB, an iteration */
#define RAM_END 0x83e00000u          /* 64 MiB RAM, less the 2 MiB the device tree is in */
extern uint32_t __heap_start[];

__attribute__((noinline)) static void rmw(uint32_t *p, uint32_t n, uint32_t key)
{
    for (uint32_t i = 0; i < n; i++) {
        uint32_t w = p[i];
        p[i] = (w * 0x9e3779b1u + key) ^ (w >> 16);
        key += 0x6d2b79f5u;
    }
}

__attribute__((noinline)) static uint32_t prefix(uint32_t *p, uint32_t n, uint32_t run)
{
    for (uint32_t i = 0; i < n; i++) {
        run += p[i];
        p[i] = run;
    }
    return run;
}

__attribute__((noinline)) static void copy(uint32_t *restrict d, const uint32_t *restrict s, uint32_t n)
{
    for (uint32_t i = 0; i < n; i += 8) {
        uint32_t a = s[i], b = s[i + 1], c = s[i + 2], e = s[i + 3];
        d[i] = a; d[i + 1] = b; d[i + 2] = c; d[i + 3] = e;
        a = s[i + 4]; b = s[i + 5]; c = s[i + 6]; e = s[i + 7];
        d[i + 4] = a; d[i + 5] = b; d[i + 6] = c; d[i + 7] = e;
    }
}

__attribute__((noinline)) static uint32_t sum(const uint32_t *p, uint32_t n)
{
    uint32_t a = 0, b = 0;
    for (uint32_t i = 0; i < n; i += 4) {
        a += p[i] ^ p[i + 1];
        b = (b ^ p[i + 2]) + p[i + 3];
    }
    return a ^ (b << 1);
}

int main(void)
{
    uint32_t n = read_count(), check = 0, run = 0;
    uint32_t *a = __heap_start, *b = a + HALF;
    if ((uintptr_t)(b + HALF) > RAM_END) {
        printf("stream: the buffer does not fit in RAM\n");
        exit(1);
    }
    for (uint32_t it = 0; it < n; it++) {
        uint32_t pass = it / (HALF / SLICE), at = it % (HALF / SLICE) * SLICE;
        uint32_t *src = (pass & 1) ? b : a, *dst = (pass & 1) ? a : b;
        if (at == 0) run = pass;
        rmw(src + at, SLICE, it * 0x01000193u);
        run = prefix(src + at, SLICE, run);
        copy(dst + at, src + at, SLICE);
        check = mix32(mix32(check, run), sum(dst + at, SLICE));
    }
    report("stream", n, check);
    return 0;
}
