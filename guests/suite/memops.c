/* memops: memcpy/memset/memmove of pseudo-random sizes (1 byte to 4 KiB) and alignments, with
   word-at-a-time copies when aligned and byte loops otherwise, and the runtime's byte copies. */
#include "suite.h"

#define BUF 65536
static uint8_t src[BUF], dst[BUF];

__attribute__((noinline)) static void copy(void *d, const void *s, uint32_t n)
{
    uint8_t *dp = d;
    const uint8_t *sp = s;
    if ((((uintptr_t)dp ^ (uintptr_t)sp) & 3) == 0) {
        while (n && ((uintptr_t)dp & 3)) { *dp++ = *sp++; n--; }
        uint32_t *dw = (uint32_t *)dp;
        const uint32_t *sw = (const uint32_t *)sp;
        while (n >= 16) { dw[0] = sw[0]; dw[1] = sw[1]; dw[2] = sw[2]; dw[3] = sw[3]; dw += 4; sw += 4; n -= 16; }
        while (n >= 4) { *dw++ = *sw++; n -= 4; }
        dp = (uint8_t *)dw;
        sp = (const uint8_t *)sw;
    }
    while (n--) *dp++ = *sp++;
}

__attribute__((noinline)) static void fill(void *d, uint8_t c, uint32_t n)
{
    uint8_t *dp = d;
    while (n && ((uintptr_t)dp & 3)) { *dp++ = c; n--; }
    uint32_t w = c * 0x01010101u, *dw = (uint32_t *)dp;
    while (n >= 4) { *dw++ = w; n -= 4; }
    dp = (uint8_t *)dw;
    while (n--) *dp++ = c;
}

__attribute__((noinline)) static uint32_t sum_words(const uint8_t *p, uint32_t n)
{
    uint32_t h = 0;
    for (uint32_t i = 0; i + 4 <= n; i += 64) h = h * 33 + *(const uint32_t *)(p + i);
    return h;
}

int main(void)
{
    uint32_t n = read_count(), check = 0, r = 12345;
    for (uint32_t i = 0; i < BUF; i++) src[i] = (uint8_t)(i * 7 + (i >> 8));
    for (uint32_t it = 0; it < n; it++) {
        for (uint32_t k = 0; k < 96; k++) {
            r = r * 1103515245u + 12345u;
            uint32_t size = (r >> 8) & 4095, so = (r >> 3) & 0x7fff, d = (r >> 17) & 0x7fff;
            if (k & 1) size &= 63;                       /* many small copies too */
            switch (k & 3) {
            case 0: copy(dst + d, src + so, size); break;
            case 1: fill(dst + d, (uint8_t)r, size); break;
            case 2: memcpy(dst + d, src + so, size & 255); break;  /* the runtime's byte loop */
            default: memmove(dst + (d & ~3u), dst + (so & ~3u), size); break;
            }
            check = mix32(check, dst[(d + size / 2) & (BUF - 1)]);
        }
        memset(dst + (r & 0x7000), 0, 512);
        check = mix32(check, sum_words(dst, BUF));
    }
    report("memops", n, check);
    return 0;
}
