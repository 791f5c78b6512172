/*
 * The frames ping and pong exchange: Ethernet frames of the local
 * experimental type 0x88b5 carrying
 *   "RWND", kind (1 ping, 2 pong, 3 bye), 0, seq (u32 LE), len (u16 LE),
 *   len bytes of data, and a checksum of the data (u32 LE).
 * A pong carries its ping's data with every byte xor 0x5a.
 */
#ifndef REWIND_NET_PROTO_H
#define REWIND_NET_PROTO_H
#include <stdint.h>
#include "rt.h"
#include "vnet.h"

#define KIND_PING 1
#define KIND_PONG 2
#define KIND_BYE  3
#define ETHERTYPE_HI 0x88
#define ETHERTYPE_LO 0xb5
#define DATA_AT 26
/* Giving up on a silent peer after this much of the machine's time (10 MHz ticks): 30 s. */
#define PATIENCE 300000000ull

struct msg { const uint8_t *src; uint32_t kind, seq, len; const uint8_t *data; uint32_t sum; int sum_ok; };

static inline uint32_t checksum(const uint8_t *data, uint32_t len)
{
    uint32_t h = 2166136261u;
    for (uint32_t i = 0; i < len; i++)
        h = (h ^ data[i]) * 16777619u;
    return h;
}

static inline void put16(uint8_t *p, uint32_t v) { p[0] = v; p[1] = v >> 8; }
static inline void put32(uint8_t *p, uint32_t v) { p[0] = v; p[1] = v >> 8; p[2] = v >> 16; p[3] = v >> 24; }
static inline uint32_t get16(const uint8_t *p) { return p[0] | p[1] << 8; }
static inline uint32_t get32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

/* Builds a frame into f and returns its length. */
static inline uint32_t build(uint8_t *f, const uint8_t dst[6], const uint8_t src[6], uint32_t kind, uint32_t seq,
                             const uint8_t *data, uint32_t len)
{
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    f[12] = ETHERTYPE_HI;
    f[13] = ETHERTYPE_LO;
    memcpy(f + 14, "RWND", 4);
    f[18] = kind;
    f[19] = 0;
    put32(f + 20, seq);
    put16(f + 24, len);
    memcpy(f + DATA_AT, data, len);
    put32(f + DATA_AT + len, checksum(data, len));
    return DATA_AT + len + 4;
}

/* Parses a frame of ours; 0 when it is not one. */
static inline int parse(const uint8_t *f, int n, struct msg *m)
{
    if (n < DATA_AT + 4 || f[12] != ETHERTYPE_HI || f[13] != ETHERTYPE_LO || memcmp(f + 14, "RWND", 4) != 0)
        return 0;
    m->src = f + 6;
    m->kind = f[18];
    m->seq = get32(f + 20);
    m->len = get16(f + 24);
    if (DATA_AT + m->len + 4 > (uint32_t)n)
        return 0;
    m->data = f + DATA_AT;
    m->sum = get32(f + DATA_AT + m->len);
    m->sum_ok = m->sum == checksum(m->data, m->len);
    return 1;
}

static inline void print_mac(const uint8_t *mac)
{
    for (int i = 0; i < 6; i++)
        printf(i ? ":%02x" : "%02x", mac[i]);
}

/* Waits for the next frame of ours; 0 when none came within PATIENCE. */
static inline int wait_msg(uint8_t *f, struct msg *m)
{
    uint64_t until = clint_mtime() + PATIENCE;
    for (uint32_t polls = 0;; polls++) {
        int n = net_recv(f);
        if (n >= 0 && parse(f, n, m))
            return 1;
        /* The clock is read now and then: a device access costs far more than a look at RAM. */
        if ((polls & 0xfff) == 0 && clint_mtime() > until)
            return 0;
    }
}
#endif
