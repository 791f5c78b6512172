/* chat: lines over UDP.
 *   chat HOST PORT                 sends each line typed to HOST:PORT and prints each line that
 *                                  comes to PORT, until ^D
 *   chat listen PORT [COUNT]       prints the lines that come to PORT (COUNT of them, else until ^C)
 *   chat send HOST PORT WORDS...   sends one line
 * A line received is printed after its sender's address: "<10.0.0.1> hello". */
#include "lib.h"

#define LINE 512

static int parse_port(const char *s) {
  int port = is_digits(s) ? atoi(s) : 0;
  return port >= 1 && port <= 65535 ? port : 0;
}

static int usage(void) {
  puts_fd(2, "usage: chat HOST PORT | chat listen PORT [COUNT] | chat send HOST PORT WORDS...\n");
  return 2;
}

/* A UDP socket, bound to `port` on every address when port is not 0. */
static int udp_socket(int port) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) { fdprintf(2, "chat: socket: %s\n", strerror_lite(fd)); return fd; }
  if (port) {
    struct sockaddr_in any = { AF_INET, htons((uint16_t)port), 0, { 0 } };
    long r = sys3(SYS_bind, fd, &any, sizeof any);
    if (r < 0) { fdprintf(2, "chat: port %d: %s\n", port, strerror_lite(r)); return r; }
  }
  return fd;
}

static int send_line(int fd, const struct sockaddr_in *to, const char *text, size_t n) {
  long r = sys6(SYS_sendto, fd, text, n, 0, to, sizeof *to);
  if (r < 0) fdprintf(2, "chat: send: %s\n", strerror_lite(r));
  return r < 0 ? 1 : 0;
}

/* Prints one datagram waiting on fd, its sender first. */
static void print_line(int fd) {
  char text[LINE + 1];
  struct sockaddr_in from;
  int fromlen = sizeof from;
  long n = sys6(SYS_recvfrom, fd, text, LINE, 0, &from, &fromlen);
  if (n < 0) return;
  while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r')) n--;
  text[n] = 0;
  char a[16];
  printf("<%s> %s\n", format_ipv4(a, from.addr), text);
}

static int listen_lines(int port, int count) {
  int fd = udp_socket(port);
  if (fd < 0) return 1;
  for (int got = 0; count == 0 || got < count; got++) {
    struct pollfd p = { fd, POLLIN, 0 };
    if (poll_ms(&p, 1, -1) > 0) print_line(fd);
  }
  return 0;
}

static int send_words(const struct sockaddr_in *to, int argc, char **argv) {
  char line[LINE];
  size_t n = 0;
  for (int i = 0; i < argc; i++) n += format(line + n, sizeof line - n, i + 1 < argc ? "%s " : "%s\n", argv[i]);
  if (n >= sizeof line) n = sizeof line - 1;
  int fd = udp_socket(0);
  return fd < 0 ? 1 : send_line(fd, to, line, n);
}

static int converse(const struct sockaddr_in *to, int port) {
  int fd = udp_socket(port);
  if (fd < 0) return 1;
  for (;;) {
    struct pollfd p[2] = { { 0, POLLIN, 0 }, { fd, POLLIN, 0 } };
    if (poll_ms(p, 2, -1) <= 0) continue;
    if (p[1].revents) print_line(fd);
    if (p[0].revents) {
      char line[LINE];
      long n = read(0, line, sizeof line);
      if (n <= 0) return 0;
      send_line(fd, to, line, (size_t)n);
    }
  }
}

int main(int argc, char **argv, char **envp) {
  if (argc < 2) return usage();
  if (strcmp(argv[1], "listen") == 0) {
    int port = argc > 2 ? parse_port(argv[2]) : 0;
    if (!port || argc > 4 || (argc == 4 && !is_digits(argv[3]))) return usage();
    return listen_lines(port, argc == 4 ? atoi(argv[3]) : 0);
  }
  int sending = strcmp(argv[1], "send") == 0;
  if (sending) argc--, argv++;
  struct sockaddr_in to = { AF_INET, 0, 0, { 0 } };
  int port = argc > 2 ? parse_port(argv[2]) : 0;
  if (!port || !parse_ipv4(argv[1], &to.addr) || (sending ? argc < 4 : argc != 3)) return usage();
  to.port = htons((uint16_t)port);
  return sending ? send_words(&to, argc - 3, argv + 3) : converse(&to, port);
}
