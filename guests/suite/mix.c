/* mix: the shape of a typical CPU benchmark: a sieve over 1 MiB, table-driven crc32, a recursive
   quicksort and a 48x48 matrix multiply (each iteration runs one of them in turn). */
#include "suite.h"

#define SIEVE (1 << 20)
#define SORT 4096
#define MAT 48
static uint8_t sieve_buf[SIEVE];
static uint32_t crc_table[256], sortv[SORT];
static int32_t ma[MAT][MAT], mb[MAT][MAT], mc[MAT][MAT];
static uint8_t bytes[32768];

__attribute__((noinline)) static uint32_t sieve(uint32_t lim)
{
    for (uint32_t i = 0; i < lim; i++) sieve_buf[i] = 1;
    uint32_t count = 0;
    for (uint32_t i = 2; i < lim; i++)
        if (sieve_buf[i]) {
            count++;
            for (uint32_t j = i * 2; j < lim; j += i) sieve_buf[j] = 0;
        }
    return count;
}

__attribute__((noinline)) static uint32_t crc32(const uint8_t *p, uint32_t n, uint32_t crc)
{
    crc = ~crc;
    while (n--) crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

__attribute__((noinline)) static void qsort_r(uint32_t *a, int lo, int hi)
{
    while (lo < hi) {
        uint32_t pivot = a[(lo + hi) >> 1];
        int i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot) i++;
            while (a[j] > pivot) j--;
            if (i <= j) { uint32_t t = a[i]; a[i] = a[j]; a[j] = t; i++; j--; }
        }
        if (j - lo < hi - i) { qsort_r(a, lo, j); lo = i; }
        else { qsort_r(a, i, hi); hi = j; }
    }
}

__attribute__((noinline)) static uint32_t matmul(uint32_t seed)
{
    for (int i = 0; i < MAT; i++)
        for (int j = 0; j < MAT; j++) {
            ma[i][j] = (int32_t)((seed + i * 7 + j * 3) % 19) - 9;
            mb[i][j] = (int32_t)((seed * 3 + i * 5 + j * 11) % 23) - 11;
        }
    for (int i = 0; i < MAT; i++)
        for (int j = 0; j < MAT; j++) {
            int32_t s = 0;
            for (int k = 0; k < MAT; k++) s += ma[i][k] * mb[k][j];
            mc[i][j] = s;
        }
    uint32_t sum = 0;
    for (int i = 0; i < MAT; i++)
        for (int j = 0; j < MAT; j++) sum = sum * 33 + (uint32_t)mc[i][j];
    return sum;
}

int main(void)
{
    uint32_t n = read_count(), check = 0;
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & -(c & 1));
        crc_table[i] = c;
    }
    for (uint32_t i = 0; i < sizeof bytes; i++) bytes[i] = (uint8_t)(i * 131 + (i >> 7));
    for (uint32_t it = 0; it < n; it++) {
        switch (it & 3) {
        case 0: check = mix32(check, sieve(it & 4 ? SIEVE : SIEVE / 8)); break;
        case 1: check = mix32(check, crc32(bytes, sizeof bytes, check)); break;
        case 2: {
            uint32_t r = check | 1;
            for (uint32_t i = 0; i < SORT; i++) { r = r * 1664525u + 1013904223u; sortv[i] = r >> 4; }
            qsort_r(sortv, 0, SORT - 1);
            check = mix32(check, sortv[0] ^ sortv[SORT / 2] ^ sortv[SORT - 1]);
            break;
        }
        default: check = mix32(check, matmul(it)); break;
        }
    }
    report("mix", n, check);
    return 0;
}
