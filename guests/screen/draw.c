/*
 * draw: a bare-metal guest that draws on the virtio GPU, for comparing
 * Rewind's screen with QEMU's pixel for pixel. It asks for the display's
 * size, tries a few commands that must fail (and prints the answers), then
 * draws a picture in two resources of two pixel formats, switching the
 * scanout between them and showing a rectangle of the larger one. It prints
 * "drawn" and waits for a byte on the console: q powers off (exit 0).
 */
#include "rt.h"
#include "vscreen.h"

#define W 320
#define H 240
#define SMALL 64

static uint32_t fb[W * H] __attribute__((aligned(4096)));
static uint32_t small[SMALL * SMALL] __attribute__((aligned(4096)));

static void check(const char *what, uint32_t got, uint32_t want)
{
    printf("%s: 0x%x%s\n", what, got, got == want ? "" : " (unexpected)");
}

/* B8G8R8X8 in a little-endian word: 0x00RRGGBB. */
static uint32_t xrgb(uint32_t r, uint32_t g, uint32_t b) { return (r << 16) | (g << 8) | b; }

static void fill(uint32_t x0, uint32_t y0, uint32_t w, uint32_t h, uint32_t c)
{
    for (uint32_t y = y0; y < y0 + h; y++)
        for (uint32_t x = x0; x < x0 + w; x++)
            fb[y * W + x] = c;
}

int main(void)
{
    if (!gpu_init()) {
        printf("draw: no virtio GPU\n");
        exit(1);
    }
    uint32_t dw = 0, dh = 0;
    check("display info", gpu_display_info(&dw, &dh), GPU_RESP_OK_DISPLAY_INFO);
    printf("display %ux%u\n", dw, dh);

    /* Answers to commands that must fail. */
    check("create with format 99", gpu_create(1, 99, W, H), 0x1205);
    check("create resource 0", gpu_create(0, GPU_FORMAT_B8G8R8X8, W, H), 0x1203);
    check("scanout of resource 42", gpu_scanout(0, 42, (struct gpu_rect){ 0, 0, 16, 16 }), 0x1203);
    check("create 1", gpu_create(1, GPU_FORMAT_B8G8R8X8, W, H), GPU_RESP_OK_NODATA);
    check("create 1 again", gpu_create(1, GPU_FORMAT_B8G8R8X8, W, H), 0x1203);
    check("transfer without backing", gpu_transfer(1, (struct gpu_rect){ 0, 0, W, H }, 0), 0x1200);
    check("scanout without backing", gpu_scanout(0, 1, (struct gpu_rect){ 0, 0, W, H }), 0x1200);
    check("attach", gpu_attach(1, fb, sizeof fb), GPU_RESP_OK_NODATA);
    check("attach twice", gpu_attach(1, fb, sizeof fb), 0x1200);
    check("transfer outside", gpu_transfer(1, (struct gpu_rect){ 10, 0, W, H }, 0), 0x1205);
    check("scanout 1", gpu_scanout(1, 1, (struct gpu_rect){ 0, 0, W, H }), 0x1202);
    check("scanout too small", gpu_scanout(0, 1, (struct gpu_rect){ 0, 0, 8, 8 }), 0x1205);
    check("flush outside", gpu_flush(1, (struct gpu_rect){ 0, 0, W + 1, H }), 0x1205);
    check("unref 7", gpu_unref(7), 0x1203);
    uint32_t unknown[6] = { 0x0999, 0, 0, 0, 0, 0 };
    check("unknown command", gpu_raw(unknown, sizeof unknown), 0x1200);

    /* A gradient with a different value in each channel, a checkerboard band, and a frame. */
    for (uint32_t y = 0; y < H; y++)
        for (uint32_t x = 0; x < W; x++)
            fb[y * W + x] = xrgb(x * 255 / (W - 1), y * 255 / (H - 1), (x ^ y) & 0xff);
    for (uint32_t y = 100; y < 140; y++)
        for (uint32_t x = 0; x < W; x++)
            if (((x >> 3) ^ (y >> 3)) & 1)
                fb[y * W + x] = xrgb(0x20, 0x20, 0x20);
    fill(0, 0, W, 2, xrgb(255, 255, 255));
    fill(0, H - 2, W, 2, xrgb(255, 255, 255));
    fill(0, 0, 2, H, xrgb(255, 255, 255));
    fill(W - 2, 0, 2, H, xrgb(255, 255, 255));
    check("transfer", gpu_transfer(1, (struct gpu_rect){ 0, 0, W, H }, 0), GPU_RESP_OK_NODATA);

    /* The small resource, R8G8B8A8 (bytes red, green, blue, alpha): shown, then destroyed, which turns the scanout off. */
    for (uint32_t y = 0; y < SMALL; y++)
        for (uint32_t x = 0; x < SMALL; x++)
            small[y * SMALL + x] = (x * 4) | ((y * 4) << 8) | (0x80u << 16) | (0xffu << 24);
    check("create 2", gpu_create(2, GPU_FORMAT_R8G8B8A8, SMALL, SMALL), GPU_RESP_OK_NODATA);
    check("attach 2", gpu_attach(2, small, sizeof small), GPU_RESP_OK_NODATA);
    check("transfer 2", gpu_transfer(2, (struct gpu_rect){ 0, 0, SMALL, SMALL }, 0), GPU_RESP_OK_NODATA);
    check("scanout 2", gpu_scanout(0, 2, (struct gpu_rect){ 0, 0, SMALL, SMALL }), GPU_RESP_OK_NODATA);
    check("flush 2", gpu_flush(2, (struct gpu_rect){ 0, 0, SMALL, SMALL }), GPU_RESP_OK_NODATA);

    /* Resource 1 in its place, showing a rectangle of it. */
    struct gpu_rect shown = { 8, 4, W - 16, H - 24 };
    check("scanout rectangle", gpu_scanout(0, 1, shown), GPU_RESP_OK_NODATA);
    check("flush", gpu_flush(1, shown), GPU_RESP_OK_NODATA);
    check("detach 2", gpu_detach(2), GPU_RESP_OK_NODATA);
    check("unref 2", gpu_unref(2), GPU_RESP_OK_NODATA);

    /* A later change copied as a rectangle only: row h comes from offset + h * stride. */
    fill(40, 30, 64, 48, xrgb(0xff, 0x40, 0x00));
    fill(200, 150, 50, 50, xrgb(0x00, 0x80, 0xff));
    fill(60, 50, 30, 10, xrgb(1, 2, 3));
    check("transfer rect", gpu_transfer(1, (struct gpu_rect){ 40, 30, 64, 48 }, (30 * W + 40) * 4), GPU_RESP_OK_NODATA);
    check("flush rect", gpu_flush(1, (struct gpu_rect){ 40, 30, 64, 48 }), GPU_RESP_OK_NODATA);
    /* The blue square is drawn but never transferred: it must not appear. */
    printf("drawn\n");
    for (;;) {
        int c = uart_getc();
        if (c == 'q' || c == 4)
            exit(0);
    }
}
