/*
 * A small polled driver for the virtio network device of QEMU's virt
 * machine (modern virtio-mmio, `-device virtio-net-device`): MAC and
 * VERSION_1 only, so every buffer is the 12-byte header and one frame.
 */
#ifndef REWIND_VNET_H
#define REWIND_VNET_H
#include <stdint.h>

/* Largest frame sent or received: 1500 bytes of payload, the Ethernet header and a VLAN tag. */
#define NET_FRAME_MAX 1518

/* Finds the network device by its id (1) in any virtio-mmio slot and starts it; 0 when there is none. */
int net_init(void);
/* The device's MAC, from its configuration space. */
void net_mac(uint8_t mac[6]);
/* Sends one frame (14 to NET_FRAME_MAX bytes) and waits until the device has taken it. */
void net_send(const void *frame, uint32_t len);
/* Copies the next received frame into buf (NET_FRAME_MAX bytes) and returns its length, or -1 when none is waiting. */
int net_recv(void *buf);
#endif
