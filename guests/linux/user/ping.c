/* ping: ICMP echo (RFC 792) through a raw socket.
 *   ping [-c COUNT] HOST    COUNT requests (default 4), one a second
 * Prints a line for each reply (its sequence number, TTL and round trip)
 * and a summary; exits 0 when any reply came, 1 when none did. */
#include "lib.h"

#define ICMP_ECHOREPLY 0
#define ICMP_ECHO 8
#define DATA 56
#define INTERVAL_US 1000000

struct icmp_echo { uint8_t type, code; uint16_t checksum, id, seq; uint8_t data[DATA]; };

/* RFC 792: the 16-bit ones' complement of the ones' complement sum of the message, checksum field as 0. */
static uint16_t checksum(const void *msg, size_t n) {
  const uint8_t *b = msg;
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < n; i += 2) sum += (uint32_t)(b[i] << 8 | b[i + 1]);
  if (n & 1) sum += (uint32_t)b[n - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return htons((uint16_t)~sum);
}

static struct { int sent, received; int64_t min, max, total; } stats;

/* Reads one datagram (an IPv4 header, then ICMP); prints it if it is a reply to us. Returns its sequence number or -1. */
static int take_reply(int fd, uint32_t host, uint16_t id) {
  uint8_t packet[20 + 60 + sizeof(struct icmp_echo)];
  struct sockaddr_in from;
  int fromlen = sizeof from;
  long n = sys6(SYS_recvfrom, fd, packet, sizeof packet, 0, &from, &fromlen);
  int64_t now = now_us();
  if (n < 20) return -1;
  int ihl = (packet[0] & 15) * 4;
  if (n < ihl + 8 + 8 || from.addr != host) return -1;
  struct icmp_echo reply;
  memcpy(&reply, packet + ihl, n - ihl < (long)sizeof reply ? (size_t)(n - ihl) : sizeof reply);
  if (reply.type != ICMP_ECHOREPLY || ntohs(reply.id) != id) return -1;
  int64_t sent;
  memcpy(&sent, reply.data, sizeof sent);
  int64_t rtt = now - sent;
  int seq = ntohs(reply.seq);
  char a[16];
  printf("%ld bytes from %s: icmp_seq=%d ttl=%d time=%d.%03d ms\n", n - ihl, format_ipv4(a, host), seq, packet[8],
         (int)(rtt / 1000), (int)(rtt % 1000));
  if (stats.received == 0 || rtt < stats.min) stats.min = rtt;
  if (rtt > stats.max) stats.max = rtt;
  stats.total += rtt;
  stats.received++;
  return seq;
}

static void print_ms(const char *before, int64_t us) { printf("%s%d.%03d", before, (int)(us / 1000), (int)(us % 1000)); }

int main(int argc, char **argv, char **envp) {
  int count = 4;
  if (argc > 2 && strcmp(argv[1], "-c") == 0) {
    count = atoi(argv[2]);
    argc -= 2, argv += 2;
  }
  uint32_t host;
  if (argc != 2 || count < 1 || !parse_ipv4(argv[1], &host)) {
    puts_fd(2, "usage: ping [-c COUNT] HOST   e.g. ping -c 3 10.0.0.2\n");
    return 2;
  }
  int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  if (fd < 0) { fdprintf(2, "ping: socket: %s\n", strerror_lite(fd)); return 1; }
  uint16_t id = (uint16_t)getpid();
  struct sockaddr_in to = { AF_INET, 0, host, { 0 } };
  printf("PING %s: %d data bytes\n", argv[1], DATA);
  for (int seq = 1; seq <= count; seq++) {
    struct icmp_echo echo;
    memset(&echo, 0, sizeof echo);
    echo.type = ICMP_ECHO;
    echo.id = htons(id);
    echo.seq = htons((uint16_t)seq);
    for (int i = 8; i < DATA; i++) echo.data[i] = (uint8_t)i;
    int64_t start = now_us();
    memcpy(echo.data, &start, sizeof start);
    echo.checksum = checksum(&echo, sizeof echo);
    long r = sys6(SYS_sendto, fd, &echo, sizeof echo, 0, &to, sizeof to);
    if (r < 0) { fdprintf(2, "ping: sendto: %s\n", strerror_lite(r)); break; }
    stats.sent++;
    /* Wait for this reply, then for the rest of the interval (a late reply to an earlier request is printed too). */
    int answered = 0;
    for (;;) {
      int64_t left = start + INTERVAL_US - now_us();
      if (left <= 0 || (answered && seq == count)) break;
      struct pollfd p = { fd, POLLIN, 0 };
      if (poll_ms(&p, 1, (long)((left + 999) / 1000)) > 0 && take_reply(fd, host, id) == seq) answered = 1;
    }
  }
  printf("--- %s ping statistics ---\n", argv[1]);
  printf("%d packets transmitted, %d received, %d%% packet loss\n", stats.sent, stats.received,
         stats.sent ? (stats.sent - stats.received) * 100 / stats.sent : 0);
  if (stats.received > 0) {
    print_ms("rtt min/avg/max = ", stats.min);
    print_ms("/", stats.total / stats.received);
    print_ms("/", stats.max);
    puts_fd(1, " ms\n");
  }
  return stats.received > 0 ? 0 : 1;
}
