/* ifup: gives eth0 an IPv4 address and netmask and brings it up, through the
 * interface ioctls of include/uapi/linux/sockios.h on a datagram socket.
 *   ifup                 10.0.0.N/24, N from the MAC (below)
 *   ifup ADDR [NETMASK]  that address (netmask 255.255.255.0 unless given)
 * With no address, N is the MAC's last byte minus 0x55: QEMU's first NIC
 * (52:54:00:12:34:56), which is machine 0 of a Rewind group, is 10.0.0.1,
 * machine 1 is 10.0.0.2, and so on. The loopback device comes up too (127.0.0.1).
 * -q says nothing when there is no eth0. */
#include "lib.h"

#define SIOCGIFFLAGS 0x8913
#define SIOCSIFFLAGS 0x8914
#define SIOCSIFADDR 0x8916
#define SIOCSIFNETMASK 0x891c
#define SIOCGIFHWADDR 0x8927
#define IFF_UP 0x1
#define IFNAMSIZ 16

/* struct ifreq on a 32-bit kernel: the name, then a 16-byte union (an address, the flags, ...). */
struct ifreq {
  char name[IFNAMSIZ];
  union {
    struct sockaddr_in addr;
    struct { uint16_t family; uint8_t bytes[14]; } hwaddr;
    short flags;
  } u;
};

static int request(int fd, unsigned long op, struct ifreq *ifr) { return sys3(SYS_ioctl, fd, op, ifr); }

static void name(struct ifreq *ifr, const char *device) {
  memset(ifr, 0, sizeof *ifr);
  strcpy(ifr->name, device);
}

static int set_address(int fd, const char *device, unsigned long op, const char *addr) {
  struct ifreq ifr;
  name(&ifr, device);
  ifr.u.addr.family = AF_INET;
  parse_ipv4(addr, &ifr.u.addr.addr);
  return request(fd, op, &ifr);
}

/* Gives a device its address and netmask and sets it up; returns 0 or -errno. */
static long configure(int fd, const char *device, const char *addr, const char *mask) {
  long r;
  struct ifreq ifr;
  if ((r = set_address(fd, device, SIOCSIFADDR, addr)) < 0 || (r = set_address(fd, device, SIOCSIFNETMASK, mask)) < 0)
    return r;
  name(&ifr, device);
  if ((r = request(fd, SIOCGIFFLAGS, &ifr)) < 0) return r;
  ifr.u.flags |= IFF_UP;
  return request(fd, SIOCSIFFLAGS, &ifr);
}

int main(int argc, char **argv, char **envp) {
  int quiet = argc > 1 && strcmp(argv[1], "-q") == 0;
  if (quiet) argc--, argv++;
  uint32_t check;
  if ((argc > 1 && !parse_ipv4(argv[1], &check)) || (argc > 2 && !parse_ipv4(argv[2], &check)) || argc > 3) {
    puts_fd(2, "usage: ifup [-q] [ADDR [NETMASK]]   e.g. ifup 10.0.0.2\n");
    return 2;
  }
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) { fdprintf(2, "ifup: socket: %s\n", strerror_lite(fd)); return 1; }
  struct ifreq ifr;
  name(&ifr, "eth0");
  long r = request(fd, SIOCGIFHWADDR, &ifr);
  if (r < 0) {
    if (!quiet) fdprintf(2, "ifup: eth0: %s (does the machine have --net?)\n", strerror_lite(r));
    return 1;
  }
  uint8_t mac[6];
  memcpy(mac, ifr.u.hwaddr.bytes, sizeof mac);
  char addr[16];
  const char *mask = argc > 2 ? argv[2] : "255.255.255.0";
  if (argc > 1) {
    strcpy(addr, argv[1]);
  } else {
    int host = (mac[5] - 0x55) & 0xff;
    if (host == 0 || host == 255) { puts_fd(2, "ifup: no address from this MAC: give one\n"); return 1; }
    format(addr, sizeof addr, "10.0.0.%d", host);
  }
  /* The loopback device too: without it up, even a ping of one's own address goes nowhere. */
  if ((r = configure(fd, "lo", "127.0.0.1", "255.0.0.0")) < 0 || (r = configure(fd, "eth0", addr, mask)) < 0) {
    fdprintf(2, "ifup: %s\n", strerror_lite(r));
    return 1;
  }
  close(fd);
  printf("eth0: %s netmask %s, MAC %02x:%02x:%02x:%02x:%02x:%02x\n", addr, mask, mac[0], mac[1], mac[2], mac[3], mac[4],
         mac[5]);
  return 0;
}
