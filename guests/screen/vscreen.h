/*
 * A small driver for the screen devices of QEMU's virt machine (modern
 * virtio-mmio): the virtio GPU in 2D mode and the virtio keyboard and
 * tablet. Polled, one request at a time: enough for bare-metal guests that
 * draw into a framebuffer in RAM and copy it to the screen.
 */
#ifndef REWIND_VSCREEN_H
#define REWIND_VSCREEN_H
#include <stdint.h>

/* Control commands and responses (virtio 1.x, 5.7.6.7). */
#define GPU_CMD_GET_DISPLAY_INFO   0x0100
#define GPU_CMD_RESOURCE_CREATE_2D 0x0101
#define GPU_CMD_RESOURCE_UNREF     0x0102
#define GPU_CMD_SET_SCANOUT        0x0103
#define GPU_CMD_RESOURCE_FLUSH     0x0104
#define GPU_CMD_TRANSFER_TO_HOST_2D 0x0105
#define GPU_CMD_ATTACH_BACKING     0x0106
#define GPU_CMD_DETACH_BACKING     0x0107
#define GPU_RESP_OK_NODATA         0x1100
#define GPU_RESP_OK_DISPLAY_INFO   0x1101

#define GPU_FORMAT_B8G8R8X8 2
#define GPU_FORMAT_R8G8B8A8 67

struct gpu_rect { uint32_t x, y, width, height; };

/* Finds and starts the GPU; returns 0 when there is none. */
int gpu_init(void);
/* The first scanout's size from GET_DISPLAY_INFO; returns the response type. */
uint32_t gpu_display_info(uint32_t *width, uint32_t *height);
/* Each returns the response type (GPU_RESP_OK_NODATA on success). */
uint32_t gpu_create(uint32_t id, uint32_t format, uint32_t width, uint32_t height);
uint32_t gpu_attach(uint32_t id, void *pixels, uint32_t bytes);
uint32_t gpu_detach(uint32_t id);
uint32_t gpu_unref(uint32_t id);
uint32_t gpu_scanout(uint32_t scanout, uint32_t id, struct gpu_rect r);
uint32_t gpu_transfer(uint32_t id, struct gpu_rect r, uint32_t offset);
uint32_t gpu_flush(uint32_t id, struct gpu_rect r);
/* A request of `len` bytes, as given (for testing error answers). */
uint32_t gpu_raw(const void *req, uint32_t len);

/* Linux input events (linux/input-event-codes.h). */
#define EV_SYN 0x00
#define EV_KEY 0x01
#define EV_ABS 0x03
#define ABS_X 0
#define ABS_Y 1
#define BTN_LEFT 0x110

struct input_event { uint16_t type, code; uint32_t value; };

/* Finds and starts the keyboard (0) or the tablet (1); returns 0 when there is none. */
int input_init(int which);
/* Takes the next event of the keyboard (0) or the tablet (1); returns 0 when none is waiting. */
int input_poll(int which, struct input_event *e);
/* Clears the device's interrupt status, so that its line into the PLIC goes low. */
void input_ack(int which);
#endif
