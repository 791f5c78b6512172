/* divmul: integer division and multiplication: gcd, 32- and 64-bit modular exponentiation
   (libgcc's 64-bit division), integer square roots, decimal conversion, mulh/mulhu. */
#include "suite.h"

__attribute__((noinline)) static uint32_t gcd(uint32_t a, uint32_t b)
{
    while (b) { uint32_t t = a % b; a = b; b = t; }
    return a;
}

__attribute__((noinline)) static uint32_t modpow(uint32_t b, uint32_t e, uint32_t m)
{
    uint64_t r = 1, x = b % m;
    while (e) {
        if (e & 1) r = (r * x) % m;
        x = (x * x) % m;
        e >>= 1;
    }
    return (uint32_t)r;
}

__attribute__((noinline)) static uint32_t isqrt(uint32_t v)
{
    if (v < 2) return v;
    uint32_t x = v / 2 + 1, y = (x + v / x) / 2;
    while (y < x) { x = y; y = (x + v / x) / 2; }
    return x;
}

__attribute__((noinline)) static uint32_t digits(int32_t v)
{
    uint32_t s = 0;
    while (v) { s += (uint32_t)(v % 10 < 0 ? -(v % 10) : v % 10); v /= 10; }
    return s;
}

__attribute__((noinline)) static uint32_t mulhi_mix(uint32_t a, uint32_t k)
{
    int64_t acc = 0;
    for (uint32_t i = 0; i < k; i++) {
        uint64_t p = (uint64_t)a * (a ^ i);
        acc += (int64_t)(int32_t)a * (int32_t)(i - 77);
        a = (uint32_t)(p >> 32) + (uint32_t)p * 3 + 1;
    }
    return a ^ (uint32_t)acc ^ (uint32_t)(acc >> 32);
}

int main(void)
{
    uint32_t n = read_count(), check = 0;
    for (uint32_t it = 0; it < n; it++) {
        uint32_t s = it * 2654435761u + 1;
        for (uint32_t i = 1; i < 600; i++) check += gcd(s * i, i * 7919u + 13);
        for (uint32_t i = 0; i < 40; i++) check = mix32(check, modpow(s + i, 65537 + i, 1000000007u - it));
        for (uint32_t i = 0; i < 400; i++) check += isqrt(s * i + i);
        for (uint32_t i = 0; i < 400; i++) check += digits((int32_t)(s ^ (i * 40503u)));
        check = mix32(check, mulhi_mix(s, 1500));
        for (uint32_t i = 1; i < 300; i++) {
            check += (s / i) ^ ((int32_t)s / -(int32_t)i) ^ (s % (i + 3));
            uint64_t q = ((uint64_t)s << 20 | i) / (i * 3 + 1);
            check ^= (uint32_t)q ^ (uint32_t)(q >> 32);
        }
    }
    report("divmul", n, check);
    return 0;
}
