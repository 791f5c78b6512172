/*
 * The screen devices' driver (see vscreen.h). Each device has its own
 * split virtqueue of QSIZE entries. The GPU's control queue carries one
 * request at a time and is polled until the device returns it; an input
 * device's event queue is kept full of 8-byte buffers, each given back to
 * the device once its event has been read.
 */
#include "rt.h"
#include "virtio-mmio.h"
#include "vscreen.h"

#define QSIZE 16

struct avail { uint16_t flags, idx, ring[QSIZE], used_event; };
struct used { uint16_t flags, idx; struct used_elem ring[QSIZE]; uint16_t avail_event; };

struct queue {
    uint32_t base;
    struct desc desc[QSIZE] __attribute__((aligned(16)));
    struct avail avail __attribute__((aligned(4)));
    struct used used __attribute__((aligned(4)));
    uint16_t used_seen;
};

static struct queue gpu_q, input_q[2];
static struct input_event events[2][QSIZE];

#define VREG(q, off) REG32((q)->base + (off))
#define FENCE() __asm__ volatile("fence rw, rw" ::: "memory")

/* Finds a slot with device `id` (the n-th such slot); 0 when none. */
static uint32_t find(uint32_t id, int n)
{
    for (uint32_t i = 0; i < VIRTIO_SLOTS; i++) {
        uint32_t b = VIRTIO_SLOT0 + 0x1000u * i;
        if (REG32(b + R_MAGIC) == VIRTIO_MAGIC && REG32(b + R_DEVICE_ID) == id && n-- == 0)
            return b;
    }
    return 0;
}

/* The initialisation of 3.1.1 with VERSION_1 only, and queue 0. */
static int start(struct queue *q, uint32_t base)
{
    q->base = base;
    VREG(q, R_STATUS) = 0;
    VREG(q, R_STATUS) = ST_ACK;
    VREG(q, R_STATUS) = ST_ACK | ST_DRIVER;
    VREG(q, R_DEV_FEAT_SEL) = 1;
    if (!(VREG(q, R_DEV_FEAT) & 1))
        return 0;
    VREG(q, R_DRV_FEAT_SEL) = 0;
    VREG(q, R_DRV_FEAT) = 0;
    VREG(q, R_DRV_FEAT_SEL) = 1;
    VREG(q, R_DRV_FEAT) = 1;
    VREG(q, R_STATUS) = ST_ACK | ST_DRIVER | ST_FEATURES_OK;
    if (!(VREG(q, R_STATUS) & ST_FEATURES_OK))
        return 0;
    VREG(q, R_QUEUE_SEL) = 0;
    if (VREG(q, R_QUEUE_MAX) < QSIZE)
        return 0;
    VREG(q, R_QUEUE_NUM) = QSIZE;
    VREG(q, R_DESC_LO) = (uint32_t)q->desc;
    VREG(q, R_DESC_HI) = 0;
    VREG(q, R_AVAIL_LO) = (uint32_t)&q->avail;
    VREG(q, R_AVAIL_HI) = 0;
    VREG(q, R_USED_LO) = (uint32_t)&q->used;
    VREG(q, R_USED_HI) = 0;
    VREG(q, R_QUEUE_READY) = 1;
    VREG(q, R_STATUS) = ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK;
    return 1;
}

static void make_available(struct queue *q, uint16_t head)
{
    q->avail.ring[q->avail.idx % QSIZE] = head;
    FENCE();
    q->avail.idx++;
    FENCE();
    VREG(q, R_QUEUE_NOTIFY) = 0;
}

int gpu_init(void)
{
    uint32_t base = find(16, 0);
    return base && start(&gpu_q, base);
}

static uint8_t response[512] __attribute__((aligned(8)));

/* Sends a request and waits for the device to return it; the response is in `response`. */
static uint32_t request(const void *req, uint32_t len, uint32_t resp_len)
{
    struct queue *q = &gpu_q;
    q->desc[0] = (struct desc){ (uint32_t)req, 0, len, DESC_F_NEXT, 1 };
    q->desc[1] = (struct desc){ (uint32_t)response, 0, resp_len, DESC_F_WRITE, 0 };
    make_available(q, 0);
    while (*(volatile uint16_t *)&q->used.idx == q->used_seen)
        ;
    FENCE();
    q->used_seen++;
    VREG(q, R_INT_ACK) = VREG(q, R_INT_STATUS);
    return *(uint32_t *)response;
}

struct hdr { uint32_t type, flags; uint32_t fence_lo, fence_hi; uint32_t ctx_id, ring_idx; };

uint32_t gpu_raw(const void *req, uint32_t len)
{
    return request(req, len, sizeof(struct hdr));
}

uint32_t gpu_display_info(uint32_t *width, uint32_t *height)
{
    struct hdr h = { GPU_CMD_GET_DISPLAY_INFO, 0, 0, 0, 0, 0 };
    uint32_t type = request(&h, sizeof h, 24 + 16 * 24);
    uint32_t *one = (uint32_t *)(response + 24);
    *width = one[2];
    *height = one[3];
    return type;
}

uint32_t gpu_create(uint32_t id, uint32_t format, uint32_t width, uint32_t height)
{
    struct { struct hdr h; uint32_t id, format, width, height; } r = {
        { GPU_CMD_RESOURCE_CREATE_2D, 0, 0, 0, 0, 0 }, id, format, width, height };
    return request(&r, sizeof r, sizeof(struct hdr));
}

uint32_t gpu_attach(uint32_t id, void *pixels, uint32_t bytes)
{
    struct { struct hdr h; uint32_t id, count; uint32_t addr_lo, addr_hi, length, padding; } r = {
        { GPU_CMD_ATTACH_BACKING, 0, 0, 0, 0, 0 }, id, 1, (uint32_t)pixels, 0, bytes, 0 };
    return request(&r, sizeof r, sizeof(struct hdr));
}

uint32_t gpu_detach(uint32_t id)
{
    struct { struct hdr h; uint32_t id, padding; } r = { { GPU_CMD_DETACH_BACKING, 0, 0, 0, 0, 0 }, id, 0 };
    return request(&r, sizeof r, sizeof(struct hdr));
}

uint32_t gpu_unref(uint32_t id)
{
    struct { struct hdr h; uint32_t id, padding; } r = { { GPU_CMD_RESOURCE_UNREF, 0, 0, 0, 0, 0 }, id, 0 };
    return request(&r, sizeof r, sizeof(struct hdr));
}

uint32_t gpu_scanout(uint32_t scanout, uint32_t id, struct gpu_rect rect)
{
    struct { struct hdr h; struct gpu_rect r; uint32_t scanout, id; } r = {
        { GPU_CMD_SET_SCANOUT, 0, 0, 0, 0, 0 }, rect, scanout, id };
    return request(&r, sizeof r, sizeof(struct hdr));
}

uint32_t gpu_transfer(uint32_t id, struct gpu_rect rect, uint32_t offset)
{
    struct { struct hdr h; struct gpu_rect r; uint32_t offset_lo, offset_hi, id, padding; } r = {
        { GPU_CMD_TRANSFER_TO_HOST_2D, 0, 0, 0, 0, 0 }, rect, offset, 0, id, 0 };
    return request(&r, sizeof r, sizeof(struct hdr));
}

uint32_t gpu_flush(uint32_t id, struct gpu_rect rect)
{
    struct { struct hdr h; struct gpu_rect r; uint32_t id, padding; } r = {
        { GPU_CMD_RESOURCE_FLUSH, 0, 0, 0, 0, 0 }, rect, id, 0 };
    return request(&r, sizeof r, sizeof(struct hdr));
}

/*
 * The keyboard and the tablet are both device 18: the tablet is the one
 * whose name says "Tablet" (QEMU counts the name's NUL in its size, Rewind
 * does not, so the word is looked for anywhere).
 */
static int is_tablet(uint32_t base)
{
    static const char word[] = "Tablet";
    REG8(base + R_CONFIG) = 1; /* VIRTIO_INPUT_CFG_ID_NAME */
    REG8(base + R_CONFIG + 1) = 0;
    uint32_t size = REG8(base + R_CONFIG + 2);
    for (uint32_t at = 0; at + 6 <= size; at++) {
        uint32_t k = 0;
        while (k < 6 && REG8(base + R_CONFIG + 8 + at + k) == (uint8_t)word[k])
            k++;
        if (k == 6)
            return 1;
    }
    return 0;
}

int input_init(int which)
{
    uint32_t base = 0;
    for (int n = 0; n < 2; n++) {
        uint32_t b = find(18, n);
        if (b && is_tablet(b) == which)
            base = b;
    }
    struct queue *q = &input_q[which];
    if (!base || !start(q, base))
        return 0;
    for (uint16_t i = 0; i < QSIZE; i++) {
        q->desc[i] = (struct desc){ (uint32_t)&events[which][i], 0, sizeof(struct input_event), DESC_F_WRITE, 0 };
        q->avail.ring[i] = i;
    }
    FENCE();
    q->avail.idx = QSIZE;
    FENCE();
    VREG(q, R_QUEUE_NOTIFY) = 0;
    return 1;
}

void input_ack(int which)
{
    struct queue *q = &input_q[which];
    if (q->base)
        VREG(q, R_INT_ACK) = VREG(q, R_INT_STATUS);
}

int input_poll(int which, struct input_event *e)
{
    struct queue *q = &input_q[which];
    if (!q->base || *(volatile uint16_t *)&q->used.idx == q->used_seen)
        return 0;
    FENCE();
    uint16_t id = (uint16_t)q->used.ring[q->used_seen % QSIZE].id;
    q->used_seen++;
    *e = events[which][id];
    VREG(q, R_INT_ACK) = VREG(q, R_INT_STATUS);
    make_available(q, id);
    return 1;
}
