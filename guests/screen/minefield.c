/*
 * minefield: the bundled graphical game, a minesweeper where rewinding is
 * the point. One wrong reveal ends the game; instead of starting over, go
 * back to just before it and take the other way (a fork keeps both).
 *
 * A 12×12 field with 20 mines (always the same field: no randomness, so a
 * replay is the same game). Played with the tablet (left button reveals,
 * right button flags), the keyboard (arrows move the cursor, space or enter
 * reveals, F flags) or the console (w a s d move, space reveals, f flags).
 * n starts again, q quits (exit 0), ? prints "ready". The screen shows the
 * field; the console gets the same field as text after each reveal or flag
 * (and the cursor's cell after a move), so it is playable in a terminal
 * too. The hart sleeps in wfi between inputs.
 */
#include "rt.h"
#include "csr.h"
#include "vscreen.h"

#define N 12
#define MINES 20
#define CELL 20
#define BAR 24
#define W (N * CELL)
#define H (BAR + N * CELL)

#define KEY_Q 16
#define KEY_ENTER 28
#define KEY_F 33
#define KEY_N 49
#define KEY_SPACE 57
#define KEY_UP 103
#define KEY_LEFT 105
#define KEY_RIGHT 106
#define KEY_DOWN 108
#define BTN_RIGHT 0x111
#define ABS_MAX 0x7fff

#define PLIC_PRIORITY(irq)  (PLIC_BASE + 4u * (irq))
#define PLIC_ENABLE_CTX0    (PLIC_BASE + 0x2000u)
#define PLIC_THRESHOLD_CTX0 (PLIC_BASE + 0x200000u)
#define PLIC_CLAIM_CTX0     (PLIC_BASE + 0x200004u)
#define UART_IRQ 10

static uint32_t fb[W * H] __attribute__((aligned(4096)));
static uint8_t mine[N][N], shown[N][N], flag[N][N];
static int cx, cy, state, revealed, flags, moves; /* state: 0 playing, 1 lost, 2 won */
static uint32_t px, py; /* pointer, in pixels */

static uint32_t rgb(uint32_t r, uint32_t g, uint32_t b) { return (r << 16) | (g << 8) | b; }

static void rect(int x0, int y0, int w, int h, uint32_t c)
{
    for (int y = y0; y < y0 + h; y++)
        for (int x = x0; x < x0 + w; x++)
            fb[y * W + x] = c;
}

/* Digits and a few letters, 3×5, one row per 3 bits. */
static const uint16_t glyphs[] = {
    075557, 026227, 071747, 071717, 055711, 074717, 074757, 071111, 075757, 075717,
};

static void glyph(int x0, int y0, int g, int scale, uint32_t c)
{
    for (int row = 0; row < 5; row++)
        for (int col = 0; col < 3; col++)
            if (glyphs[g] >> ((4 - row) * 3 + (2 - col)) & 1)
                rect(x0 + col * scale, y0 + row * scale, scale, scale, c);
}

static int neighbours(int x, int y)
{
    int n = 0;
    for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++) {
            int nx = x + dx, ny = y + dy;
            if (nx >= 0 && ny >= 0 && nx < N && ny < N)
                n += mine[ny][nx];
        }
    return n;
}

static void new_game(void)
{
    uint32_t seed = 20261204;
    memset(mine, 0, sizeof mine);
    memset(shown, 0, sizeof shown);
    memset(flag, 0, sizeof flag);
    for (int placed = 0; placed < MINES;) {
        seed = seed * 1664525u + 1013904223u;
        int at = (int)((seed >> 16) % (N * N));
        if (!mine[at / N][at % N]) {
            mine[at / N][at % N] = 1;
            placed++;
        }
    }
    cx = cy = 0;
    state = revealed = flags = moves = 0;
}

static const uint32_t number_colours[9] = {
    0, 0x0000ff, 0x008000, 0xff0000, 0x000080, 0x800000, 0x008080, 0x000000, 0x808080,
};

static void draw_cell(int x, int y)
{
    int x0 = x * CELL, y0 = BAR + y * CELL;
    if (shown[y][x] || (state == 1 && mine[y][x])) {
        rect(x0, y0, CELL, CELL, rgb(0x80, 0x80, 0x80));
        rect(x0 + 1, y0 + 1, CELL - 1, CELL - 1, mine[y][x] ? rgb(0xff, 0x30, 0x30) : rgb(0xc8, 0xc8, 0xc8));
        if (mine[y][x]) {
            rect(x0 + 6, y0 + 6, 8, 8, 0);
            rect(x0 + 4, y0 + 9, 12, 2, 0);
            rect(x0 + 9, y0 + 4, 2, 12, 0);
        } else {
            int n = neighbours(x, y);
            if (n)
                glyph(x0 + 6, y0 + 3, n, 3, number_colours[n]);
        }
    } else {
        rect(x0, y0, CELL, CELL, rgb(0xff, 0xff, 0xff));
        rect(x0 + 2, y0 + 2, CELL - 2, CELL - 2, rgb(0x70, 0x70, 0x70));
        rect(x0 + 2, y0 + 2, CELL - 4, CELL - 4, rgb(0xb0, 0xb0, 0xb0));
        if (flag[y][x]) {
            rect(x0 + 9, y0 + 4, 2, 12, 0);
            rect(x0 + 5, y0 + 4, 5, 5, rgb(0xe0, 0, 0));
            rect(x0 + 5, y0 + 15, 10, 2, 0);
        }
    }
    if (x == cx && y == cy && state == 0) {
        rect(x0, y0, CELL, 2, rgb(0xff, 0xd0, 0));
        rect(x0, y0 + CELL - 2, CELL, 2, rgb(0xff, 0xd0, 0));
        rect(x0, y0, 2, CELL, rgb(0xff, 0xd0, 0));
        rect(x0 + CELL - 2, y0, 2, CELL, rgb(0xff, 0xd0, 0));
    }
}

static void draw(void)
{
    static const uint32_t faces[3] = { 0xf0d000, 0xe02020, 0x20c040 };
    rect(0, 0, W, BAR, rgb(0x30, 0x30, 0x40));
    int left = MINES - flags;
    if (left < 0)
        left = 0;
    glyph(8, 4, left / 10, 3, rgb(0xff, 0x40, 0x40));
    glyph(20, 4, left % 10, 3, rgb(0xff, 0x40, 0x40));
    rect(W / 2 - 8, 4, 16, 16, faces[state]);
    int m = moves % 1000;
    glyph(W - 44, 4, m / 100, 3, rgb(0x40, 0xff, 0x40));
    glyph(W - 32, 4, m / 10 % 10, 3, rgb(0x40, 0xff, 0x40));
    glyph(W - 20, 4, m % 10, 3, rgb(0x40, 0xff, 0x40));
    for (int y = 0; y < N; y++)
        for (int x = 0; x < N; x++)
            draw_cell(x, y);
    struct gpu_rect all = { 0, 0, W, H };
    gpu_transfer(1, all, 0);
    gpu_flush(1, all);
}

static void print_field(void)
{
    static const char *words[3] = { "playing", "BOOM", "cleared" };
    printf("move %d: %d mines, %d flagged, %d revealed, %s\n", moves, MINES, flags, revealed, words[state]);
    for (int y = 0; y < N; y++) {
        for (int x = 0; x < N; x++) {
            char c = '#';
            if (shown[y][x] || (state == 1 && mine[y][x]))
                c = mine[y][x] ? '*' : (char)(neighbours(x, y) ? '0' + neighbours(x, y) : '.');
            else if (flag[y][x])
                c = 'F';
            putchar(x == cx && y == cy && state == 0 ? '[' : ' ');
            putchar(c);
        }
        putchar('\n');
    }
}

/* A new frame; on the console the field when it changed, else where the cursor is. */
static void show(int what)
{
    draw();
    if (what == 2)
        print_field();
    else
        printf("cursor %d,%d\n", cx, cy);
}

static void reveal(int x, int y)
{
    static uint8_t stack[N * N][2];
    int top = 0;
    if (state || shown[y][x] || flag[y][x])
        return;
    moves++;
    if (mine[y][x]) {
        shown[y][x] = 1;
        state = 1;
        return;
    }
    stack[top][0] = (uint8_t)x;
    stack[top++][1] = (uint8_t)y;
    shown[y][x] = 1;
    revealed++;
    while (top) {
        top--;
        int sx = stack[top][0], sy = stack[top][1];
        if (neighbours(sx, sy))
            continue;
        for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++) {
                int nx = sx + dx, ny = sy + dy;
                if (nx < 0 || ny < 0 || nx >= N || ny >= N || shown[ny][nx] || flag[ny][nx])
                    continue;
                shown[ny][nx] = 1;
                revealed++;
                stack[top][0] = (uint8_t)nx;
                stack[top++][1] = (uint8_t)ny;
            }
    }
    if (revealed == N * N - MINES)
        state = 2;
}

static void toggle_flag(int x, int y)
{
    if (state || shown[y][x])
        return;
    flag[y][x] ^= 1;
    flags += flag[y][x] ? 1 : -1;
    moves++;
}

static void move(int dx, int dy)
{
    cx = (cx + dx + N) % N;
    cy = (cy + dy + N) % N;
}

/* One command; returns 2 when the field changed, 1 when only the cursor moved. */
static int command(int c)
{
    switch (c) {
    case 'w': case KEY_UP + 256: move(0, -1); return 1;
    case 's': case KEY_DOWN + 256: move(0, 1); return 1;
    case 'a': case KEY_LEFT + 256: move(-1, 0); return 1;
    case 'd': case KEY_RIGHT + 256: move(1, 0); return 1;
    case ' ': case '\r': case '\n': case KEY_SPACE + 256: case KEY_ENTER + 256: reveal(cx, cy); return 2;
    case 'f': case KEY_F + 256: toggle_flag(cx, cy); return 2;
    case 'n': case KEY_N + 256: new_game(); return 2;
    case 'q': case 4: case KEY_Q + 256: exit(0);
    case '?': printf("ready\n"); return 0;
    default: return 0;
    }
}

/* A click at the pointer: the cell under it, if any; returns 2 when it hit one. */
static int click(int button)
{
    if (py < BAR || px >= W || py >= H)
        return 0;
    cx = (int)px / CELL;
    cy = ((int)py - BAR) / CELL;
    if (button == BTN_LEFT)
        reveal(cx, cy);
    else
        toggle_flag(cx, cy);
    return 2;
}

int main(void)
{
    if (!gpu_init() || gpu_create(1, GPU_FORMAT_B8G8R8X8, W, H) != GPU_RESP_OK_NODATA ||
        gpu_attach(1, fb, sizeof fb) != GPU_RESP_OK_NODATA) {
        printf("minefield: no virtio GPU (run with --screen)\n");
        exit(1);
    }
    int keyboard = input_init(0), tablet = input_init(1);
    printf("minefield: %s%s; console: w a s d, space, f, n, q\n", keyboard ? "keyboard" : "",
           tablet ? (keyboard ? " and tablet" : "tablet") : "");
    new_game();
    draw();
    gpu_scanout(0, 1, (struct gpu_rect){ 0, 0, W, H });
    print_field();


    /* Every source that can wake us: the UART's receive interrupt and the virtio slots (1..8). */
    for (uint32_t irq = 1; irq <= 10; irq++)
        REG32(PLIC_PRIORITY(irq)) = 1;
    REG32(PLIC_ENABLE_CTX0) = (1u << UART_IRQ) | 0x1feu;
    REG32(PLIC_THRESHOLD_CTX0) = 0;
    REG8(UART_BASE + 1) = 0x01;
    csr_set(mie, MIP_MEIP);
    for (;;) {
        /* Lower the lines, then claim and complete what is pending (mstatus.MIE stays 0: no handler runs). */
        input_ack(0);
        input_ack(1);
        for (int i = 0; i < 16; i++) {
            uint32_t irq = REG32(PLIC_CLAIM_CTX0);
            if (!irq)
                break;
            REG32(PLIC_CLAIM_CTX0) = irq;
        }
        /* A frame and the field on the console after each command that changed them, so that the output
           does not depend on how the input arrived in batches. */
        int what;
        while (uart_rx_ready())
            if ((what = command(REG8(UART_BASE))))
                show(what);
        struct input_event e;
        while (input_poll(0, &e))
            if (e.type == EV_KEY && e.value && (what = command(e.code + 256)))
                show(what);
        while (input_poll(1, &e)) {
            if (e.type == EV_ABS && e.code == ABS_X)
                px = e.value * W / (ABS_MAX + 1);
            else if (e.type == EV_ABS && e.code == ABS_Y)
                py = e.value * H / (ABS_MAX + 1);
            else if (e.type == EV_KEY && e.value && (e.code == BTN_LEFT || e.code == BTN_RIGHT) && (what = click(e.code)))
                show(what);
        }
        /* Sleeps until an enabled interrupt is pending (even with mstatus.MIE = 0). */
        __asm__ volatile("wfi");
    }
}
