/* primes [N]: the primes below N (default 100), by a sieve; shows user-mode computation and timing. */
#include "lib.h"

static unsigned char composite[100001];

int main(int argc, char **argv, char **envp) {
  int n = argc > 1 ? atoi(argv[1]) : 100;
  if (n > 100000) n = 100000;
  int64_t t0 = now_ms();
  int count = 0;
  for (int i = 2; i < n; i++) {
    if (composite[i]) continue;
    count++;
    if (n <= 1000) printf("%d ", i);
    for (int j = i * 2; j < n; j += i) composite[j] = 1;
  }
  printf("%s%d primes below %d (%d ms)\n", n <= 1000 ? "\n" : "", count, n, (int)(now_ms() - t0));
  return 0;
}
