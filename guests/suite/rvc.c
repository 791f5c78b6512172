/* rvc: compressed-instruction-dense code: the hand-written loops of rvc.S plus C built with -Os
   (a hash table with linear probing, a linked list, an insertion sort). */
#include "suite.h"

uint32_t rvc_kernel(uint32_t *buf, uint32_t nwords, uint32_t seed);
struct cell { struct cell *next; uint32_t a, b; };
uint32_t rvc_list(struct cell *c);

static uint32_t buf[2049];
static struct cell cells[512];
static uint32_t table[1024];
static uint16_t sortbuf[160];

static uint32_t hash_insert(uint32_t key)
{
    uint32_t i = (key * 2654435761u) >> 22, probes = 0;
    while (table[i] && table[i] != key) { i = (i + 1) & 1023; probes++; }
    table[i] = key;
    return probes;
}

static void isort(uint16_t *a, int n)
{
    for (int i = 1; i < n; i++) {
        uint16_t v = a[i];
        int j = i - 1;
        while (j >= 0 && a[j] > v) { a[j + 1] = a[j]; j--; }
        a[j + 1] = v;
    }
}

int main(void)
{
    uint32_t n = read_count(), check = 0;
    for (uint32_t i = 0; i < 2049; i++) buf[i] = i * 0x9e3779b9u;
    for (uint32_t k = 0; k < 512; k++) {   /* one chain through the cells in a shuffled order */
        uint32_t i = (k * 37) % 512, j = ((k + 1) * 37) % 512;
        cells[i].next = k + 1 < 512 ? &cells[j] : 0;
        cells[i].a = i * 3;
        cells[i].b = i ^ 0x55;
    }
    for (uint32_t it = 0; it < n; it++) {
        check = mix32(check, rvc_kernel(buf, 2048, check + it));
        check = mix32(check, rvc_kernel(buf, 2048, check));
        for (uint32_t k = 0; k < 8; k++) check = mix32(check, rvc_list(&cells[(it + k) & 255]) );
        for (uint32_t i = 0; i < 1024; i++) table[i] = 0;
        for (uint32_t i = 0; i < 600; i++) check += hash_insert(buf[i] | 1);
        for (uint32_t i = 0; i < 160; i++) sortbuf[i] = (uint16_t)(buf[(i * 7 + it) & 2047] >> 5);
        isort(sortbuf, 160);
        check = mix32(check, sortbuf[0] + sortbuf[80] + sortbuf[159]);
    }
    report("rvc", n, check);
    return 0;
}
