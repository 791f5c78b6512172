/*
 * The network device's driver (see vnet.h). Queue 0 (receive) is kept full
 * of buffers, each given back to the device once its frame has been copied
 * out; queue 1 (transmit) carries one frame at a time and is polled until
 * the device returns it.
 */
#include "rt.h"
#include "virtio-mmio.h"
#include "vnet.h"

#define NET_DEVICE_ID  1
#define F_MAC          (1u << 5)

#define QSIZE 16
#define HDR 12
#define BUF (HDR + NET_FRAME_MAX)

struct avail { uint16_t flags, idx, ring[QSIZE], used_event; };
struct used { uint16_t flags, idx; struct used_elem ring[QSIZE]; uint16_t avail_event; };

struct queue {
    struct desc desc[QSIZE] __attribute__((aligned(16)));
    struct avail avail __attribute__((aligned(4)));
    struct used used __attribute__((aligned(4)));
    uint16_t used_seen;
};

static uint32_t base;
static struct queue rxq, txq;
static uint8_t rx_buf[QSIZE][BUF] __attribute__((aligned(4)));
static uint8_t tx_buf[BUF] __attribute__((aligned(4)));

#define VREG(off) REG32(base + (off))
#define FENCE() __asm__ volatile("fence rw, rw" ::: "memory")

static int setup_queue(uint32_t index, struct queue *q)
{
    VREG(R_QUEUE_SEL) = index;
    if (VREG(R_QUEUE_MAX) < QSIZE)
        return 0;
    VREG(R_QUEUE_NUM) = QSIZE;
    VREG(R_DESC_LO) = (uint32_t)q->desc;
    VREG(R_DESC_HI) = 0;
    VREG(R_AVAIL_LO) = (uint32_t)&q->avail;
    VREG(R_AVAIL_HI) = 0;
    VREG(R_USED_LO) = (uint32_t)&q->used;
    VREG(R_USED_HI) = 0;
    VREG(R_QUEUE_READY) = 1;
    return 1;
}

static void make_available(struct queue *q, uint32_t index, uint16_t head)
{
    q->avail.ring[q->avail.idx % QSIZE] = head;
    FENCE();
    q->avail.idx++;
    FENCE();
    VREG(R_QUEUE_NOTIFY) = index;
}

/* The initialisation of 3.1.1, with MAC and VERSION_1 and the two queues. */
int net_init(void)
{
    for (uint32_t i = 0; i < VIRTIO_SLOTS && !base; i++) {
        uint32_t b = VIRTIO_SLOT0 + 0x1000u * i;
        if (REG32(b + R_MAGIC) == VIRTIO_MAGIC && REG32(b + R_VERSION) == 2 && REG32(b + R_DEVICE_ID) == NET_DEVICE_ID)
            base = b;
    }
    if (!base)
        return 0;
    VREG(R_STATUS) = 0;
    VREG(R_STATUS) = ST_ACK;
    VREG(R_STATUS) = ST_ACK | ST_DRIVER;
    VREG(R_DEV_FEAT_SEL) = 0;
    uint32_t low = VREG(R_DEV_FEAT);
    VREG(R_DEV_FEAT_SEL) = 1;
    if (!(low & F_MAC) || !(VREG(R_DEV_FEAT) & 1))
        return 0;
    VREG(R_DRV_FEAT_SEL) = 0;
    VREG(R_DRV_FEAT) = F_MAC;
    VREG(R_DRV_FEAT_SEL) = 1;
    VREG(R_DRV_FEAT) = 1;
    VREG(R_STATUS) = ST_ACK | ST_DRIVER | ST_FEATURES_OK;
    if (!(VREG(R_STATUS) & ST_FEATURES_OK))
        return 0;
    if (!setup_queue(0, &rxq) || !setup_queue(1, &txq))
        return 0;
    for (uint16_t i = 0; i < QSIZE; i++) {
        rxq.desc[i] = (struct desc){ (uint32_t)rx_buf[i], 0, BUF, DESC_F_WRITE, 0 };
        rxq.avail.ring[i] = i;
    }
    FENCE();
    rxq.avail.idx = QSIZE;
    VREG(R_STATUS) = ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK;
    VREG(R_QUEUE_NOTIFY) = 0;
    return 1;
}

void net_mac(uint8_t mac[6])
{
    for (int i = 0; i < 6; i++)
        mac[i] = REG8(base + R_CONFIG + i);
}

void net_send(const void *frame, uint32_t len)
{
    memset(tx_buf, 0, HDR);
    memcpy(tx_buf + HDR, frame, len);
    txq.desc[0] = (struct desc){ (uint32_t)tx_buf, 0, HDR + len, 0, 0 };
    make_available(&txq, 1, 0);
    while (*(volatile uint16_t *)&txq.used.idx == txq.used_seen)
        ;
    FENCE();
    txq.used_seen++;
    VREG(R_INT_ACK) = VREG(R_INT_STATUS);
}

int net_recv(void *buf)
{
    if (*(volatile uint16_t *)&rxq.used.idx == rxq.used_seen)
        return -1;
    FENCE();
    struct used_elem e = rxq.used.ring[rxq.used_seen % QSIZE];
    rxq.used_seen++;
    int len = (int)e.len - HDR;
    if (e.id >= QSIZE || len < 0 || len > NET_FRAME_MAX)
        len = 0;
    else
        memcpy(buf, rx_buf[e.id] + HDR, len);
    VREG(R_INT_ACK) = VREG(R_INT_STATUS);
    make_available(&rxq, 0, (uint16_t)(e.id % QSIZE));
    return len;
}
