/*
 * bench: CPU-bound benchmark (sieve, hash loop, matrix multiply, recursive
 * calls, mul/div). Prints only a checksum; exit code 0. BENCH_ITERS sets
 * the repeat count: 290 gives 503.7 M instructions, 7 gives 17.0 M
 * (measured on QEMU with -icount shift=0; the count per iteration varies
 * a little because the hash loop branches on its data).
 */
#include "rt.h"

#ifndef BENCH_ITERS
#define BENCH_ITERS 290
#endif

#define SIEVE_N 65536
#define MAT_N   24
#define HASH_N  8192

static uint8_t sieve_buf[SIEVE_N];
static int32_t ma[MAT_N][MAT_N], mb[MAT_N][MAT_N], mc[MAT_N][MAT_N];
static uint32_t words[HASH_N];

static uint32_t sieve(void)
{
    memset(sieve_buf, 1, sizeof sieve_buf);
    sieve_buf[0] = sieve_buf[1] = 0;
    for (uint32_t i = 2; i * i < SIEVE_N; i++)
        if (sieve_buf[i])
            for (uint32_t j = i * i; j < SIEVE_N; j += i)
                sieve_buf[j] = 0;
    uint32_t count = 0, sum = 0;
    for (uint32_t i = 0; i < SIEVE_N; i++)
        if (sieve_buf[i]) {
            count++;
            sum += i;
        }
    return count * 31 + sum;
}

static uint32_t hash_loop(uint32_t seed)
{
    uint32_t h = 2166136261u ^ seed;
    for (uint32_t i = 0; i < HASH_N; i++) {
        words[i] = words[i] * 1103515245u + 12345u + i;
        uint32_t w = words[i];
        for (int k = 0; k < 4; k++) {
            h ^= (w >> (8 * k)) & 0xff;
            h *= 16777619u;
        }
        if (h & 1)
            h = (h >> 1) | (h << 31);
        else
            h += w / ((i & 15) + 1) + w % 7;
    }
    return h;
}

static uint32_t matmul(uint32_t seed)
{
    for (int i = 0; i < MAT_N; i++)
        for (int j = 0; j < MAT_N; j++) {
            ma[i][j] = (int32_t)((seed + i * 7 + j * 3) % 19) - 9;
            mb[i][j] = (int32_t)((seed * 3 + i * 5 + j * 11) % 23) - 11;
        }
    for (int i = 0; i < MAT_N; i++)
        for (int j = 0; j < MAT_N; j++) {
            int32_t s = 0;
            for (int k = 0; k < MAT_N; k++)
                s += ma[i][k] * mb[k][j];
            mc[i][j] = s;
        }
    uint32_t sum = 0;
    for (int i = 0; i < MAT_N; i++)
        for (int j = 0; j < MAT_N; j++)
            sum = sum * 33 + (uint32_t)mc[i][j];
    return sum;
}

__attribute__((noinline)) static uint32_t fib(uint32_t n)
{
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

static uint32_t divmix(uint32_t seed)
{
    uint32_t acc = seed | 1;
    int32_t s = -(int32_t)seed;
    for (uint32_t i = 1; i < 4000; i++) {
        acc += (acc * 2654435761u) / i;
        s = s / 3 + (int32_t)(acc % 1000) - (s % 5);
        acc ^= (uint32_t)s;
    }
    return acc;
}

int main(void)
{
    uint32_t check = 0;
    for (uint32_t it = 0; it < BENCH_ITERS; it++) {
        check = check * 31 + sieve();
        check = check * 31 + hash_loop(check);
        check = check * 31 + matmul(it);
        check = check * 31 + fib(20);
        check = check * 31 + divmix(check);
    }
    printf("bench: iterations=%u checksum=0x%08x\n", (uint32_t)BENCH_ITERS, check);
    return 0;
}
