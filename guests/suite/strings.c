/* strings: byte-wise text processing: tokenising, case mapping, word hashing, substring search,
   number parsing and formatting, string reversal and comparison. */
#include "suite.h"

#define TEXT 8192
static char text[TEXT + 1], work[TEXT + 1];
static const char *const dict[] = { "alpha", "rewind", "the", "quick", "brown", "fox", "jumps", "over",
                                    "lazy", "dog", "risc", "vector", "42", "1337", "seek", "step", "hart",
                                    "interrupt", "page", "tlb" };

static uint32_t make_text(uint32_t seed)
{
    uint32_t p = 0;
    while (p < TEXT - 16) {
        seed = seed * 1664525u + 1013904223u;
        const char *w = dict[(seed >> 16) % 20];
        while (*w) text[p++] = *w++;
        text[p++] = (seed & 0x700) == 0 ? '\n' : ((seed & 0x30) == 0 ? ',' : ' ');
    }
    text[p] = 0;
    return p;
}

__attribute__((noinline)) static uint32_t words_hash(const char *s, uint32_t *count)
{
    uint32_t h = 0, n = 0;
    while (*s) {
        while (*s == ' ' || *s == ',' || *s == '\n') s++;
        if (!*s) break;
        uint32_t wh = 2166136261u;
        while (*s && *s != ' ' && *s != ',' && *s != '\n') wh = (wh ^ (uint8_t)*s++) * 16777619u;
        h += wh;
        n++;
    }
    *count = n;
    return h;
}

__attribute__((noinline)) static void upper(char *d, const char *s)
{
    while ((*d = *s++)) {
        if (*d >= 'a' && *d <= 'z') *d -= 32;
        d++;
    }
}

__attribute__((noinline)) static uint32_t count_sub(const char *s, const char *pat)
{
    uint32_t n = 0;
    for (; *s; s++) {
        const char *a = s, *b = pat;
        while (*b && *a == *b) a++, b++;
        if (!*b) n++;
    }
    return n;
}

__attribute__((noinline)) static uint32_t parse_numbers(const char *s)
{
    uint32_t sum = 0;
    while (*s) {
        if (*s >= '0' && *s <= '9') {
            sum += (uint32_t)atoi_(s);
            while (*s >= '0' && *s <= '9') s++;
        } else
            s++;
    }
    return sum;
}

__attribute__((noinline)) static void reverse_lines(char *s)
{
    while (*s) {
        char *e = s;
        while (*e && *e != '\n') e++;
        for (char *a = s, *b = e - 1; a < b; a++, b--) { char t = *a; *a = *b; *b = t; }
        s = *e ? e + 1 : e;
    }
}

__attribute__((noinline)) static uint32_t utoa_sum(uint32_t v, uint32_t k)
{
    char buf[16];
    uint32_t h = 0;
    for (uint32_t i = 0; i < k; i++, v = v * 3 + 7) {
        int p = 15;
        buf[p] = 0;
        uint32_t x = v;
        do buf[--p] = (char)('0' + x % 10); while (x /= 10);
        h += strlen(buf + p) * 131 + (uint32_t)strcmp(buf + p, "5000");
    }
    return h;
}

int main(void)
{
    uint32_t n = read_count(), check = 0;
    for (uint32_t it = 0; it < n; it++) {
        uint32_t len = make_text(it), words;
        check = mix32(check, len);
        check = mix32(check, words_hash(text, &words));
        check = mix32(check, words);
        upper(work, text);
        check = mix32(check, count_sub(work, "REWIND"));
        check = mix32(check, parse_numbers(text));
        strcpy(work, text);
        reverse_lines(work);
        check = mix32(check, (uint32_t)strcmp(work, text) + (uint32_t)memcmp(work + 100, text + 100, 64));
        check = mix32(check, utoa_sum(it, 200));
    }
    report("strings", n, check);
    return 0;
}
