/* life [generations]: Conway's Game of Life on a torus, redrawn in place with ANSI escapes. */
#include "lib.h"

#define W 40
#define H 16
static unsigned char grid[H][W], next[H][W];

int main(int argc, char **argv, char **envp) {
  int gens = argc > 1 ? atoi(argv[1]) : 30;
  /* An R-pentomino, a glider and a blinker. */
  static const int cells[][2] = { {7, 20}, {7, 21}, {8, 19}, {8, 20}, {9, 20},
                                  {1, 2}, {2, 3}, {3, 1}, {3, 2}, {3, 3}, {12, 33}, {12, 34}, {12, 35} };
  for (unsigned i = 0; i < sizeof cells / sizeof cells[0]; i++) grid[cells[i][0]][cells[i][1]] = 1;
  puts_fd(1, "\x1b[2J");
  for (int g = 0; g <= gens; g++) {
    char out[(W + 2) * H + 64];
    int n = format(out, sizeof out, "\x1b[Hgeneration %d\n", g);
    int alive = 0;
    for (int y = 0; y < H; y++) {
      for (int x = 0; x < W; x++) out[n++] = grid[y][x] ? '#' : '.', alive += grid[y][x];
      out[n++] = '\n';
    }
    write(1, out, n);
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++) {
        int c = 0;
        for (int dy = -1; dy <= 1; dy++)
          for (int dx = -1; dx <= 1; dx++)
            if (dy || dx) c += grid[(y + dy + H) % H][(x + dx + W) % W];
        next[y][x] = c == 3 || (c == 2 && grid[y][x]);
      }
    memcpy(grid, next, sizeof grid);
    if (g < gens) sleep_ms(100);
    if (g == gens) printf("%d cells alive\n", alive);
  }
  return 0;
}
