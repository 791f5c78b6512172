/* alloc: allocates and frees through its own allocator over a 16 MiB heap: boundary tags (a
   header and a footer word per block), free lists in size classes (16-byte classes up to 512 B,
   then four per power of two), first fit in the class and the first block of a larger one,
   splitting, and coalescing with both neighbours on free. Each iteration: 128 random operations
   on 512 slots (a free of a full slot, checking its words, or an allocation of 16 B to 64 KiB,
   log-uniform, every word of it written); a sorted linked list of 200 nodes built, walked, half
   freed and destroyed; a binary search tree of 400 keys built, walked, half its keys deleted
   and the rest freed. The slots' blocks live on from one iteration to the next, so the heap is
   fragmented as a long-running program's is. For the cost of recording (issue #13) when memory
   is allocated and written in scattered runs.
   RAM: the heap starts past the stack (__heap_start, link.ld); the allocator writes every word
   it reads. It needs the default 64 MiB of RAM (less would do: 17 MiB plus the program). */
#include "suite.h"

#define HEAP (16u << 20)
#define RAM_END 0x83e00000u          /* 64 MiB RAM, less the 2 MiB the device tree is in */
#define USED 1u
#define MINBLK 16u                   /* header, next, prev, footer */
#define NBINS 96
#define SLOTS 512
extern uint8_t __heap_start[];

/* A block: a header word (size in bytes, a multiple of 16, | USED), the payload, and a footer
   word equal to the header. A free block keeps its list links after the header. */
typedef struct fb { uint32_t hdr; struct fb *next, *prev; } fb;

static fb *bins[NBINS];
static uint8_t *heap;

static inline uint32_t bin_of(uint32_t size)
{
    if (size <= 512) return (size >> 4) - 1;                /* 0..31: 16, 32, ... 512 */
    uint32_t lg = 31 - __builtin_clz(size);                /* 9..23 */
    return 32 + (lg - 9) * 4 + ((size >> (lg - 2)) & 3);   /* 32..95 */
}

static inline void set_block(fb *b, uint32_t size, uint32_t used)
{
    b->hdr = size | used;
    ((uint32_t *)((uint8_t *)b + size))[-1] = size | used;
}

static inline void bin_insert(fb *b, uint32_t size)
{
    fb **h = &bins[bin_of(size)];
    b->next = *h;
    b->prev = 0;
    if (*h) (*h)->prev = b;
    *h = b;
}

static inline void bin_remove(fb *b, uint32_t size)
{
    if (b->prev) b->prev->next = b->next;
    else bins[bin_of(size)] = b->next;
    if (b->next) b->next->prev = b->prev;
}

__attribute__((noinline)) static void *alloc(uint32_t n)
{
    uint32_t need = (n + 8 + 15) & ~15u, bi = bin_of(need);
    fb *b = 0;
    for (fb *c = bins[bi]; c; c = c->next)
        if (c->hdr >= need) { b = c; break; }
    for (uint32_t i = bi + 1; !b && i < NBINS; i++) b = bins[i];
    if (!b) return 0;
    uint32_t size = b->hdr;
    bin_remove(b, size);
    if (size - need >= MINBLK) {
        fb *rest = (fb *)((uint8_t *)b + need);
        set_block(rest, size - need, 0);
        bin_insert(rest, size - need);
        size = need;
    }
    set_block(b, size, USED);
    return (uint32_t *)b + 1;
}

__attribute__((noinline)) static void release(void *p)
{
    fb *b = (fb *)((uint32_t *)p - 1);
    uint32_t size = b->hdr & ~USED;
    fb *next = (fb *)((uint8_t *)b + size);
    if (!(next->hdr & USED)) {
        bin_remove(next, next->hdr);
        size += next->hdr;
    }
    uint32_t before = ((uint32_t *)b)[-1];
    if (!(before & USED)) {
        b = (fb *)((uint8_t *)b - before);
        bin_remove(b, before);
        size += before;
    }
    set_block(b, size, 0);
    bin_insert(b, size);
}

static void heap_init(void)
{
    heap = (uint8_t *)(((uintptr_t)__heap_start + 15) & ~15u);
    ((uint32_t *)heap)[3] = USED;                /* a used footer before the first block */
    fb *first = (fb *)(heap + 16);
    uint32_t size = HEAP - 32;
    set_block(first, size, 0);
    *(uint32_t *)((uint8_t *)first + size) = USED; /* a used header of size 0 after the last */
    bin_insert(first, size);
}

static uint32_t rng = 88172645u;
static inline uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static void corrupt(const char *what)
{
    printf("alloc: %s corrupted\n", what);
    exit(1);
}

/* Writes every word of a block: tag, tag + K, tag + 2K... */
__attribute__((noinline)) static void touch(uint32_t *p, uint32_t words, uint32_t tag)
{
    const uint32_t k = 0x9e3779b9u;
    uint32_t i = 0;
    for (; i + 4 <= words; i += 4) {
        p[i] = tag;
        p[i + 1] = tag + k;
        p[i + 2] = tag + 2 * k;
        p[i + 3] = tag + 3 * k;
        tag += 4 * k;
    }
    for (; i < words; i++, tag += k) p[i] = tag;
}

static uint32_t verify(const uint32_t *p, uint32_t words, uint32_t tag)
{
    const uint32_t k = 0x9e3779b9u;
    uint32_t mid = words / 2, last = words - 1;
    if (p[0] != tag || p[mid] != tag + mid * k || p[last] != tag + last * k) corrupt("block");
    return p[mid] ^ p[last];
}

static uint32_t *slot[SLOTS], slot_words[SLOTS];
static uint32_t failures;

static uint32_t churn(uint32_t ops)
{
    uint32_t h = 0;
    for (uint32_t k = 0; k < ops; k++) {
        uint32_t r = rnd(), s = r & (SLOTS - 1);
        if (slot[s]) {
            h = mix32(h, verify(slot[s], slot_words[s], s * 0x01000193u));
            release(slot[s]);
            slot[s] = 0;
            continue;
        }
        uint32_t size = 16u << ((r >> 9) % 13);                    /* 16 B .. 64 KiB */
        size += (r >> 13) & (size - 1) & ~3u;
        if (size > 65536) size = 65536;
        uint32_t *p = alloc(size);
        if (!p) { failures++; continue; }
        touch(p, size / 4, s * 0x01000193u);
        slot[s] = p;
        slot_words[s] = size / 4;
        h = mix32(h, (uint32_t)((uint8_t *)p - heap));
    }
    return h;
}

struct node { struct node *next; uint32_t key, extra[]; };

static uint32_t list(uint32_t count)
{
    struct node *head = 0;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t r = rnd(), extra = r & 7;
        struct node *n = alloc(sizeof *n + extra * 4);
        if (!n) { failures++; continue; }
        n->key = r >> 12;
        for (uint32_t j = 0; j < extra; j++) n->extra[j] = n->key + j;
        struct node **pp = &head;
        while (*pp && (*pp)->key < n->key) pp = &(*pp)->next;
        n->next = *pp;
        *pp = n;
    }
    uint32_t h = 0, prev = 0;
    for (struct node *n = head; n; n = n->next) {
        if (n->key < prev) corrupt("list");
        prev = n->key;
        h = h * 31 + n->key;
    }
    for (struct node **pp = &head; *pp;) {
        struct node *n = *pp;
        if (n->key & 1) { *pp = n->next; release(n); }
        else pp = &n->next;
    }
    for (struct node *n = head; n; n = n->next) h = mix32(h, n->key);
    while (head) {
        struct node *n = head;
        head = n->next;
        release(n);
    }
    return h;
}

struct tnode { struct tnode *l, *r; uint32_t key, extra[]; };

static uint32_t walk(const struct tnode *t, uint32_t h, uint32_t depth, uint32_t *height)
{
    if (!t) return h;
    if (depth > *height) *height = depth;
    h = walk(t->l, h, depth + 1, height);
    h = h * 33 + t->key;
    return walk(t->r, h, depth + 1, height);
}

static void destroy(struct tnode *t)
{
    while (t) {
        destroy(t->l);
        struct tnode *r = t->r;
        release(t);
        t = r;
    }
}

static int remove_key(struct tnode **pp, uint32_t key)
{
    while (*pp && (*pp)->key != key) pp = key < (*pp)->key ? &(*pp)->l : &(*pp)->r;
    struct tnode *t = *pp;
    if (!t) return 0;
    if (!t->l) *pp = t->r;
    else if (!t->r) *pp = t->l;
    else {
        struct tnode **sp = &t->r;
        while ((*sp)->l) sp = &(*sp)->l;
        struct tnode *s = *sp;
        *sp = s->r;
        s->l = t->l;
        s->r = t->r;
        *pp = s;
    }
    release(t);
    return 1;
}

static uint32_t tree(uint32_t count)
{
    static uint32_t keys[400];
    struct tnode *root = 0;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t r = rnd(), extra = r & 3;
        struct tnode *t = alloc(sizeof *t + extra * 4);
        if (!t) { failures++; keys[i] = ~0u; continue; }
        t->l = t->r = 0;
        t->key = keys[i] = (r >> 8) & 0xffff;
        for (uint32_t j = 0; j < extra; j++) t->extra[j] = r;
        struct tnode **pp = &root;
        while (*pp) pp = t->key < (*pp)->key ? &(*pp)->l : &(*pp)->r;
        *pp = t;
    }
    uint32_t height = 0, h = walk(root, 0, 1, &height), removed = 0;
    for (uint32_t i = 0; i < count; i += 2) removed += remove_key(&root, keys[i]);
    uint32_t height2 = 0;
    h = mix32(mix32(h, walk(root, 0, 1, &height2)), height << 16 | height2);
    destroy(root);
    return mix32(h, removed);
}

int main(void)
{
    uint32_t n = read_count(), check = 0;
    if ((uintptr_t)__heap_start + HEAP + 16 > RAM_END) {
        printf("alloc: the heap does not fit in RAM\n");
        exit(1);
    }
    heap_init();
    for (uint32_t it = 0; it < n; it++) {
        check = mix32(check, churn(128));
        check = mix32(check, list(200));
        check = mix32(check, tree(400));
    }
    for (uint32_t s = 0; s < SLOTS; s++)
        if (slot[s]) check = mix32(check, verify(slot[s], slot_words[s], s * 0x01000193u));
    report("alloc", n, mix32(check, failures));
    return 0;
}
