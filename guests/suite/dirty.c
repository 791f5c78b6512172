/* dirty: the page-dirtying guest. Stores pseudo-random words at pseudo-random word addresses all
   over a 48 MiB buffer (xorshift32 for the address and value, the old word read back and mixed
   in, a few operations between stores): 65,536 stores an iteration, about 5 for each of the
   buffer's 12,288 pages, so nearly every page is written again in every iteration (~1 M
   instructions) and every page between two checkpoints (10 M). For the cost of recording (issue
   #13) when all of a large memory changes all the time.
   RAM: the buffer starts past the stack (__heap_start, link.ld), so crt0 does not spend ~37 M
   instructions clearing it; it reads zeros there at first, as RAM is zero at reset on QEMU and
   on Rewind. It needs the default 64 MiB of RAM (the device tree sits in the last 2 MiB). */
#include "suite.h"

#define WORDS (12u << 20)            /* 48 MiB */
#define STORES 65536                 /* an iteration */
#define RAM_END 0x83e00000u          /* 64 MiB RAM, less the 2 MiB the device tree is in */
extern uint32_t __heap_start[];

__attribute__((noinline)) static uint32_t scatter(uint32_t *buf, uint32_t *state, uint32_t n)
{
    uint32_t x = *state, sum = 0;
    for (uint32_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        uint32_t *p = buf + (uint32_t)(((uint64_t)x * WORDS) >> 32);
        uint32_t old = *p;
        *p = (x * 0x9e3779b1u) ^ (old >> 3) ^ i;
        sum = (sum << 1 | sum >> 31) + old;
    }
    *state = x;
    return sum;
}

int main(void)
{
    uint32_t n = read_count(), check = 0, x = 2463534242u;
    uint32_t *buf = __heap_start;
    if ((uintptr_t)(buf + WORDS) > RAM_END) {
        printf("dirty: the buffer does not fit in RAM\n");
        exit(1);
    }
    for (uint32_t it = 0; it < n; it++) check = mix32(check, scatter(buf, &x, STORES));
    for (uint32_t i = 0; i < WORDS; i += 4093) check = mix32(check, buf[i]);
    report("dirty", n, check);
    return 0;
}
