/*
 * pong: answers each ping it receives with a pong to the sender's MAC,
 * carrying the ping's data xor 0x5a, until a bye; prints what it got.
 * The other half of ping.c (docs/network.md).
 */
#include "proto.h"

static uint8_t in[NET_FRAME_MAX], out[NET_FRAME_MAX], data[NET_FRAME_MAX];

int main(void)
{
    uint8_t mac[6];
    if (!net_init()) {
        printf("pong: no network device\n");
        exit(1);
    }
    net_mac(mac);
    printf("pong: mac ");
    print_mac(mac);
    printf("\npong: ready\n");
    uint32_t pings = 0, bad = 0;
    struct msg m;
    for (;;) {
        if (!wait_msg(in, &m)) {
            printf("pong: no ping came\n");
            exit(2);
        }
        if (m.kind == KIND_BYE) {
            printf("pong: bye after %u pings, %u bad\n", pings, bad);
            exit(bad ? 3 : 0);
        }
        if (m.kind != KIND_PING)
            continue;
        pings++;
        bad += !m.sum_ok;
        printf("pong: ping %u from ", m.seq);
        print_mac(m.src);
        printf(", %u bytes, checksum %08x %s\n", m.len, m.sum, m.sum_ok ? "ok" : "BAD");
        for (uint32_t i = 0; i < m.len; i++)
            data[i] = m.data[i] ^ 0x5a;
        uint8_t to[6];
        memcpy(to, m.src, 6);
        net_send(out, build(out, to, mac, KIND_PONG, m.seq, data, m.len));
    }
}
