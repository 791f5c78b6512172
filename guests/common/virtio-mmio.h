/*
 * virtio-mmio, version 2 (virtio 1.x, section 4.2.2): the transport's
 * registers, the device status bits and the split virtqueue's descriptor,
 * shared by the guests' drivers (block, screen, network). The machine has
 * eight slots 0x1000 apart from SLOT0; slot i raises PLIC irq i + 1.
 */
#ifndef VIRTIO_MMIO_H
#define VIRTIO_MMIO_H

#include <stdint.h>

#define VIRTIO_SLOT0   0x10001000u
#define VIRTIO_SLOTS   8
#define VIRTIO_MAGIC   0x74726976u   /* "virt" */

#define R_MAGIC        0x000
#define R_VERSION      0x004
#define R_DEVICE_ID    0x008
#define R_DEV_FEAT     0x010
#define R_DEV_FEAT_SEL 0x014
#define R_DRV_FEAT     0x020
#define R_DRV_FEAT_SEL 0x024
#define R_QUEUE_SEL    0x030
#define R_QUEUE_MAX    0x034
#define R_QUEUE_NUM    0x038
#define R_QUEUE_READY  0x044
#define R_QUEUE_NOTIFY 0x050
#define R_INT_STATUS   0x060
#define R_INT_ACK      0x064
#define R_STATUS       0x070
#define R_DESC_LO      0x080
#define R_DESC_HI      0x084
#define R_AVAIL_LO     0x090
#define R_AVAIL_HI     0x094
#define R_USED_LO      0x0a0
#define R_USED_HI      0x0a4
#define R_CONFIG       0x100

#define ST_ACK         1
#define ST_DRIVER      2
#define ST_DRIVER_OK   4
#define ST_FEATURES_OK 8

#define DESC_F_NEXT    1
#define DESC_F_WRITE   2

struct desc { uint32_t addr_lo, addr_hi, len; uint16_t flags, next; };
struct used_elem { uint32_t id, len; };

#endif
