/* crash: writes through a null pointer; the kernel kills it with SIGSEGV and the shell lives on. */
#include "lib.h"

int main(int argc, char **argv, char **envp) {
  printf("crash: about to write to address 0...\n");
  volatile int *p = (volatile int *)0;
  *p = 42;
  printf("crash: still alive?!\n");
  return 1;
}
