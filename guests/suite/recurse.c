/* recurse: deep call/return recursion (fib, Ackermann, a binary tree built, summed and
   searched recursively, mutual recursion, a recursive permutation generator). */
#include "suite.h"

__attribute__((noinline)) static uint32_t fib(uint32_t n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

__attribute__((noinline)) static uint32_t ack(uint32_t m, uint32_t n)
{
    if (m == 0) return n + 1;
    if (n == 0) return ack(m - 1, 1);
    return ack(m - 1, ack(m, n - 1));
}

struct node { struct node *l, *r; uint32_t v; };
static struct node pool[1 << 12];
static uint32_t used;

__attribute__((noinline)) static struct node *build(uint32_t depth, uint32_t seed)
{
    if (depth == 0) return 0;
    struct node *n = &pool[used++];
    n->v = seed * 2654435761u;
    n->l = build(depth - 1, seed * 2 + 1);
    n->r = build(depth - 1, seed * 2 + 2);
    return n;
}

__attribute__((noinline)) static uint32_t tsum(const struct node *n)
{
    if (!n) return 0;
    return (n->v >> 7) + tsum(n->l) * 3 + tsum(n->r);
}

__attribute__((noinline)) static uint32_t tdepth_max(const struct node *n, uint32_t key)
{
    if (!n) return 0;
    if ((n->v & 0xff) == key) return 1;
    uint32_t a = tdepth_max(n->l, key), b = tdepth_max(n->r, key);
    return a > b ? a + 1 : b + 1;
}

__attribute__((noinline)) static int is_odd(uint32_t n);
__attribute__((noinline)) static int is_even(uint32_t n) { return n == 0 ? 1 : is_odd(n - 1); }
__attribute__((noinline)) static int is_odd(uint32_t n) { return n == 0 ? 0 : is_even(n - 1); }

static uint8_t perm[8];
__attribute__((noinline)) static uint32_t permute(uint32_t k, uint32_t n, uint32_t h)
{
    if (k == n) {
        for (uint32_t i = 0; i < n; i++) h = h * 31 + perm[i];
        return h;
    }
    for (uint32_t i = k; i < n; i++) {
        uint8_t t = perm[k]; perm[k] = perm[i]; perm[i] = t;
        h = permute(k + 1, n, h);
        t = perm[k]; perm[k] = perm[i]; perm[i] = t;
    }
    return h;
}

int main(void)
{
    uint32_t n = read_count(), check = 0;
    for (uint32_t it = 0; it < n; it++) {
        check = mix32(check, fib(17 + (it & 1)));
        check = mix32(check, ack(2, 40 + (it & 7)));
        used = 0;
        struct node *root = build(10, it);
        check = mix32(check, tsum(root));
        check = mix32(check, tdepth_max(root, it & 0xff));
        check = mix32(check, (uint32_t)is_even(2000 + it % 3));
        for (uint32_t i = 0; i < 6; i++) perm[i] = (uint8_t)(i + it);
        check = mix32(check, permute(0, 6, check));
    }
    report("recurse", n, check);
    return 0;
}
