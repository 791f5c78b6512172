/*
 * virtio: modern (version 2) virtio-mmio block driver. Scans the slots
 * 0x10001000..0x10008000 for a block device, negotiates VERSION_1, sets up
 * one split virtqueue, reads sector 0 and prints it, writes a pattern to
 * sector 2, reads it back and verifies, and prints the capacity. Completion
 * is found by polling the used ring; the PLIC claim is then checked against
 * the slot's irq (slot i -> irq i+1). Exit code 0, or 1 on any failure.
 */
#include "rt.h"
#include "virtio-mmio.h"

#define BLK_T_IN       0
#define BLK_T_OUT      1

#define QSIZE 8

struct avail { uint16_t flags, idx, ring[QSIZE], used_event; };
struct used  { uint16_t flags, idx; struct used_elem ring[QSIZE]; uint16_t avail_event; };
struct blk_req { uint32_t type, reserved; uint32_t sector_lo, sector_hi; };

static struct desc  descs[QSIZE] __attribute__((aligned(16)));
static struct avail avail_ring   __attribute__((aligned(4)));
static struct used  used_ring    __attribute__((aligned(4)));
static struct blk_req req;
static volatile uint8_t req_status;
static uint8_t sector_buf[512] __attribute__((aligned(16)));
static uint16_t used_seen;
static uint32_t base, irq;

#define VREG(off) REG32(base + (off))
#define PLIC_PRIORITY(i) (PLIC_BASE + 4u * (i))
#define PLIC_ENABLE_CTX0 (PLIC_BASE + 0x2000u)
#define PLIC_CLAIM_CTX0  (PLIC_BASE + 0x200004u)

static void fail(const char *why)
{
    printf("virtio: FAIL: %s\n", why);
    exit(1);
}

static int blk_io(uint32_t type, uint32_t sector, uint8_t *buf)
{
    req.type = type;
    req.reserved = 0;
    req.sector_lo = sector;
    req.sector_hi = 0;
    req_status = 0xff;

    descs[0] = (struct desc){ (uint32_t)&req, 0, sizeof req, DESC_F_NEXT, 1 };
    descs[1] = (struct desc){ (uint32_t)buf, 0, 512,
                              (uint16_t)(DESC_F_NEXT | (type == BLK_T_IN ? DESC_F_WRITE : 0)), 2 };
    descs[2] = (struct desc){ (uint32_t)&req_status, 0, 1, DESC_F_WRITE, 0 };

    avail_ring.ring[avail_ring.idx % QSIZE] = 0;
    __asm__ volatile("fence rw, rw" ::: "memory");
    avail_ring.idx++;
    __asm__ volatile("fence rw, rw" ::: "memory");
    VREG(R_QUEUE_NOTIFY) = 0;

    while (*(volatile uint16_t *)&used_ring.idx == used_seen)
        ;
    __asm__ volatile("fence rw, rw" ::: "memory");
    struct used_elem e = used_ring.ring[used_seen % QSIZE];
    used_seen++;

    /* On QEMU the device thread may publish the used entry a moment before
       it raises the interrupt, so give the ISR and the PLIC a bounded wait
       (the spin counts are never printed). */
    uint32_t isr = 0, claimed = 0;
    for (uint32_t spins = 0; spins < 1000000 && !(isr & 1); spins++)
        isr = VREG(R_INT_STATUS);
    VREG(R_INT_ACK) = isr;
    for (uint32_t spins = 0; spins < 1000000 && !claimed; spins++)
        claimed = REG32(PLIC_CLAIM_CTX0);
    if (claimed)
        REG32(PLIC_CLAIM_CTX0) = claimed;
    printf("  %s sector %u: status=%u used.id=%u used.len=%u isr=%u plic-claim-ok=%s\n",
           type == BLK_T_IN ? "read " : "write", sector, req_status, e.id, e.len,
           isr, claimed == irq ? "yes" : "no");
    return req_status;
}

static void dump(const uint8_t *p, uint32_t n)
{
    for (uint32_t off = 0; off < n; off += 16) {
        printf("  %04x: ", off);
        for (uint32_t i = 0; i < 16; i++)
            printf("%02x ", p[off + i]);
        puts(" |");
        for (uint32_t i = 0; i < 16; i++) {
            uint8_t c = p[off + i];
            putchar(c >= 0x20 && c < 0x7f ? c : '.');
        }
        puts("|\n");
    }
}

int main(void)
{
    printf("virtio: scanning %u virtio-mmio slots\n", VIRTIO_SLOTS);
    for (uint32_t i = 0; i < VIRTIO_SLOTS; i++) {
        uint32_t b = VIRTIO_SLOT0 + 0x1000u * i;
        if (REG32(b + R_MAGIC) == VIRTIO_MAGIC && REG32(b + R_DEVICE_ID) == 2) {
            base = b;
            irq = i + 1;
            break;
        }
    }
    if (!base)
        fail("no virtio block device found");
    printf("virtio: found block device, version %u\n", VREG(R_VERSION));
    if (VREG(R_VERSION) != 2)
        fail("need a modern (version 2) device");

    VREG(R_STATUS) = 0;
    VREG(R_STATUS) = ST_ACK;
    VREG(R_STATUS) = ST_ACK | ST_DRIVER;
    VREG(R_DEV_FEAT_SEL) = 1;
    uint32_t feat_hi = VREG(R_DEV_FEAT);
    if (!(feat_hi & 1))
        fail("device does not offer VIRTIO_F_VERSION_1");
    printf("virtio: device offers VERSION_1: yes\n");
    VREG(R_DRV_FEAT_SEL) = 0;
    VREG(R_DRV_FEAT) = 0;
    VREG(R_DRV_FEAT_SEL) = 1;
    VREG(R_DRV_FEAT) = 1;           /* VIRTIO_F_VERSION_1 (bit 32) */
    VREG(R_STATUS) = ST_ACK | ST_DRIVER | ST_FEATURES_OK;
    if (!(VREG(R_STATUS) & ST_FEATURES_OK))
        fail("FEATURES_OK not accepted");
    printf("virtio: features accepted\n");

    VREG(R_QUEUE_SEL) = 0;
    if (VREG(R_QUEUE_READY) != 0)
        fail("queue 0 already ready");
    uint32_t qmax = VREG(R_QUEUE_MAX);
    if (qmax < QSIZE)
        fail("queue too small");
    VREG(R_QUEUE_NUM) = QSIZE;
    VREG(R_DESC_LO) = (uint32_t)descs;   VREG(R_DESC_HI) = 0;
    VREG(R_AVAIL_LO) = (uint32_t)&avail_ring; VREG(R_AVAIL_HI) = 0;
    VREG(R_USED_LO) = (uint32_t)&used_ring;  VREG(R_USED_HI) = 0;
    VREG(R_QUEUE_READY) = 1;
    VREG(R_STATUS) = ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK;
    printf("virtio: queue 0 ready with %u entries (max >= %u: yes)\n", QSIZE, QSIZE);

    /* Route the device's interrupt to M context 0 (not taken: mie is 0),
       so each completion can be checked by a PLIC claim. */
    REG32(PLIC_PRIORITY(irq)) = 1;
    REG32(PLIC_ENABLE_CTX0) = 1u << irq;
    REG32(PLIC_BASE + 0x200000u) = 0;

    uint32_t cap_lo = VREG(R_CONFIG), cap_hi = VREG(R_CONFIG + 4);
    printf("virtio: capacity %u sectors (%u KiB)%s\n", cap_lo, cap_lo / 2,
           cap_hi ? " (+high bits)" : "");

    if (blk_io(BLK_T_IN, 0, sector_buf) != 0)
        fail("read of sector 0");
    printf("sector 0, first 64 bytes:\n");
    dump(sector_buf, 64);

    for (uint32_t i = 0; i < 512; i++)
        sector_buf[i] = (uint8_t)(i * 7 + 3);
    memcpy(sector_buf, "REWIND WROTE THIS", 17);
    if (blk_io(BLK_T_OUT, 2, sector_buf) != 0)
        fail("write of sector 2");
    memset(sector_buf, 0, sizeof sector_buf);
    if (blk_io(BLK_T_IN, 2, sector_buf) != 0)
        fail("read back of sector 2");
    uint32_t bad = 0;
    for (uint32_t i = 17; i < 512; i++)
        if (sector_buf[i] != (uint8_t)(i * 7 + 3))
            bad++;
    if (memcmp(sector_buf, "REWIND WROTE THIS", 17) != 0)
        bad++;
    printf("sector 2 read back: %s (%u bad bytes)\n", bad ? "MISMATCH" : "matches", bad);
    if (bad)
        fail("verify");

    if (blk_io(BLK_T_IN, 1, sector_buf) != 0)
        fail("read of sector 1");
    printf("sector 1 starts with: %c%c%c%c%c%c%c%c\n", sector_buf[0], sector_buf[1],
           sector_buf[2], sector_buf[3], sector_buf[4], sector_buf[5], sector_buf[6], sector_buf[7]);
    printf("virtio: pass\n");
    return 0;
}
