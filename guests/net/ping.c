/*
 * ping: sends numbered pings of growing size to everyone (broadcast),
 * waits for each pong, checks its checksum and that it carries the ping's
 * data xor 0x5a, then says bye and prints a summary. The other half of
 * pong.c (docs/network.md).
 */
#include "proto.h"

#define PINGS 8

static uint8_t in[NET_FRAME_MAX], out[NET_FRAME_MAX], data[NET_FRAME_MAX];
static const uint8_t everyone[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

int main(void)
{
    uint8_t mac[6];
    if (!net_init()) {
        printf("ping: no network device\n");
        exit(1);
    }
    net_mac(mac);
    printf("ping: mac ");
    print_mac(mac);
    printf("\n");
    uint32_t good = 0;
    for (uint32_t seq = 1; seq <= PINGS; seq++) {
        /* From 34 bytes (a 64-byte frame) to 1468 (a full one). */
        uint32_t len = seq == PINGS ? NET_FRAME_MAX - 4 - DATA_AT - 4 - 16 : 34 + 200 * (seq - 1);
        for (uint32_t i = 0; i < len; i++)
            data[i] = (uint8_t)(seq * 7 + i * 13);
        net_send(out, build(out, everyone, mac, KIND_PING, seq, data, len));
        struct msg m;
        do {
            if (!wait_msg(in, &m)) {
                printf("ping: no pong for ping %u\n", seq);
                exit(2);
            }
        } while (m.kind != KIND_PONG || m.seq != seq);
        int same = m.len == len;
        for (uint32_t i = 0; same && i < len; i++)
            same = m.data[i] == (data[i] ^ 0x5a);
        good += m.sum_ok && same;
        printf("ping: pong %u from ", m.seq);
        print_mac(m.src);
        printf(", %u bytes, checksum %08x %s, data %s\n", m.len, m.sum, m.sum_ok ? "ok" : "BAD", same ? "ok" : "BAD");
    }
    net_send(out, build(out, everyone, mac, KIND_BYE, PINGS + 1, data, 34));
    printf("ping: %u of %u pongs good\n", good, PINGS);
    exit(good == PINGS ? 0 : 3);
}
