#include "lib.h"

long syscall6(long n, long a, long b, long c, long d, long e, long f) {
  register long a0 __asm__("a0") = a;
  register long a1 __asm__("a1") = b;
  register long a2 __asm__("a2") = c;
  register long a3 __asm__("a3") = d;
  register long a4 __asm__("a4") = e;
  register long a5 __asm__("a5") = f;
  register long a7 __asm__("a7") = n;
  __asm__ volatile("ecall" : "+r"(a0) : "r"(a1), "r"(a2), "r"(a3), "r"(a4), "r"(a5), "r"(a7) : "memory");
  return a0;
}

void exit(int code) {
  for (;;) sys1(SYS_exit_group, code);
}
long write(int fd, const void *buf, size_t n) { return sys3(SYS_write, fd, buf, n); }
long read(int fd, void *buf, size_t n) { return sys3(SYS_read, fd, buf, n); }
int open(const char *path, int flags, int mode) { return sys4(SYS_openat, AT_FDCWD, path, flags, mode); }
int close(int fd) { return sys1(SYS_close, fd); }
int dup2(int from, int to) { return from == to ? to : sys3(SYS_dup3, from, to, 0); }
int fork(void) { return sys5(SYS_clone, SIGCHLD, 0, 0, 0, 0); }
int execve(const char *path, char *const argv[], char *const envp[]) { return sys3(SYS_execve, path, argv, envp); }
int getpid(void) { return sys0(SYS_getpid); }
int mount(const char *src, const char *target, const char *type, unsigned long flags, const void *data) {
  return sys5(SYS_mount, src, target, type, flags, data);
}

int wait_child(int pid, int *how, int *status) {
  struct siginfo_chld info;
  memset(&info, 0, sizeof info);
  long r = sys5(SYS_waitid, pid > 0 ? P_PID : P_ALL, pid > 0 ? pid : 0, &info, WEXITED, 0);
  if (r < 0) return r;
  if (how) *how = info.code;
  if (status) *status = info.status;
  return info.pid;
}

int sleep_ms(long ms) {
  struct timespec64 ts = { ms / 1000, (int64_t)(ms % 1000) * 1000000 };
  return sys4(SYS_clock_nanosleep_time64, 1 /* CLOCK_MONOTONIC */, 0, &ts, 0);
}

int64_t now_ms(void) {
  struct timespec64 ts;
  sys2(SYS_clock_gettime64, 1, &ts);
  return ts.sec * 1000 + (int32_t)ts.nsec / 1000000;
}

int64_t now_us(void) {
  struct timespec64 ts;
  sys2(SYS_clock_gettime64, 1, &ts);
  return ts.sec * 1000000 + (int32_t)ts.nsec / 1000;
}

int socket(int domain, int type, int protocol) { return sys3(SYS_socket, domain, type, protocol); }

int poll_ms(struct pollfd *fds, int n, long ms) {
  struct timespec64 ts = { ms / 1000, (int64_t)(ms % 1000) * 1000000 };
  return sys5(SYS_ppoll_time64, fds, n, ms < 0 ? 0 : &ts, 0, 8);
}

int parse_ipv4(const char *s, uint32_t *addr) {
  uint8_t *out = (uint8_t *)addr;
  for (int i = 0; i < 4; i++) {
    int v = 0, digits = 0;
    while (*s >= '0' && *s <= '9' && digits < 3) v = v * 10 + (*s++ - '0'), digits++;
    if (digits == 0 || v > 255 || *s != (i < 3 ? '.' : 0)) return 0;
    out[i] = (uint8_t)v;
    s++;
  }
  return 1;
}

char *format_ipv4(char *buf, uint32_t addr) {
  const uint8_t *b = (const uint8_t *)&addr;
  format(buf, 16, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
  return buf;
}

uint16_t byteswap16(uint16_t v) { return (uint16_t)(v << 8 | v >> 8); }

struct kernel_sigaction { long handler; unsigned long flags; long restorer; unsigned long mask[2]; };
int set_signal(int sig, long handler) {
  struct kernel_sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.handler = handler;
  return sys4(SYS_rt_sigaction, sig, &sa, 0, 8);
}

size_t strlen(const char *s) { size_t n = 0; while (s[n]) n++; return n; }
int strcmp(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return (unsigned char)*a - (unsigned char)*b;
}
int strncmp(const char *a, const char *b, size_t n) {
  for (; n > 0; n--, a++, b++) {
    if (*a != *b) return (unsigned char)*a - (unsigned char)*b;
    if (!*a) return 0;
  }
  return 0;
}
char *strcpy(char *d, const char *s) { char *r = d; while ((*d++ = *s++)) {} return r; }
void *memset(void *d, int c, size_t n) { unsigned char *p = d; while (n--) *p++ = (unsigned char)c; return d; }
void *memcpy(void *d, const void *s, size_t n) {
  unsigned char *p = d; const unsigned char *q = s; while (n--) *p++ = *q++; return d;
}
int atoi(const char *s) {
  int sign = 1, v = 0;
  if (*s == '-') sign = -1, s++;
  while (*s >= '0' && *s <= '9') v = v * 10 + (*s++ - '0');
  return sign * v;
}
int is_digits(const char *s) {
  if (!*s) return 0;
  for (; *s; s++) if (*s < '0' || *s > '9') return 0;
  return 1;
}

/* printf subset: %s %c %d %u %x %ld %lu %lld %llu %%, with width, '-' and '0'. */
int vformat(char *buf, size_t size, const char *fmt, va_list ap) {
  size_t n = 0;
#define PUT(ch) do { if (n + 1 < size) buf[n] = (ch); n++; } while (0)
  for (; *fmt; fmt++) {
    if (*fmt != '%') { PUT(*fmt); continue; }
    fmt++;
    int left = 0, zero = 0, width = 0, longs = 0;
    if (*fmt == '-') left = 1, fmt++;
    if (*fmt == '0') zero = 1, fmt++;
    while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
    while (*fmt == 'l') longs++, fmt++;
    char tmp[24];
    const char *s = tmp;
    int len = 0;
    switch (*fmt) {
      case 's': s = va_arg(ap, const char *); if (!s) s = "(null)"; len = strlen(s); break;
      case 'c': tmp[0] = (char)va_arg(ap, int); len = 1; break;
      case 'd': case 'u': case 'x': {
        uint64_t v; int neg = 0;
        if (longs == 2) v = va_arg(ap, uint64_t);
        else v = *fmt == 'd' ? (uint64_t)(int64_t)va_arg(ap, long) : (uint64_t)va_arg(ap, unsigned long);
        if (*fmt == 'd' && (int64_t)v < 0) neg = 1, v = -(int64_t)v;
        unsigned base = *fmt == 'x' ? 16 : 10;
        char rev[24]; int r = 0;
        do { rev[r++] = "0123456789abcdef"[v % base]; v /= base; } while (v);
        if (neg) tmp[len++] = '-';
        while (r) tmp[len++] = rev[--r];
        break;
      }
      case '%': tmp[0] = '%'; len = 1; break;
      default: tmp[0] = '?'; len = 1; break;
    }
    if (!left) for (int i = len; i < width; i++) PUT(zero ? '0' : ' ');
    for (int i = 0; i < len; i++) PUT(s[i]);
    if (left) for (int i = len; i < width; i++) PUT(' ');
  }
  if (size) buf[n < size ? n : size - 1] = 0;
  return n;
#undef PUT
}

int format(char *buf, size_t size, const char *fmt, ...) {
  va_list ap; va_start(ap, fmt);
  int n = vformat(buf, size, fmt, ap);
  va_end(ap);
  return n;
}

int fdprintf(int fd, const char *fmt, ...) {
  char buf[512];
  va_list ap; va_start(ap, fmt);
  int n = vformat(buf, sizeof buf, fmt, ap);
  va_end(ap);
  write(fd, buf, n < (int)sizeof buf ? (size_t)n : sizeof buf - 1);
  return n;
}

int printf(const char *fmt, ...) {
  char buf[512];
  va_list ap; va_start(ap, fmt);
  int n = vformat(buf, sizeof buf, fmt, ap);
  va_end(ap);
  write(1, buf, n < (int)sizeof buf ? (size_t)n : sizeof buf - 1);
  return n;
}

void puts_fd(int fd, const char *s) { write(fd, s, strlen(s)); }

long read_file(const char *path, char *buf, size_t size) {
  int fd = open(path, O_RDONLY, 0);
  if (fd < 0) return fd;
  size_t n = 0;
  while (n + 1 < size) {
    long r = read(fd, buf + n, size - 1 - n);
    if (r <= 0) break;
    n += r;
  }
  close(fd);
  buf[n] = 0;
  return n;
}

const char *strerror_lite(long err) {
  switch (-err) {
    case 1: return "Operation not permitted";
    case 2: return "No such file or directory";
    case 5: return "I/O error";
    case 6: return "No such device or address";
    case 12: return "Out of memory";
    case 13: return "Permission denied";
    case 16: return "Device or resource busy";
    case 17: return "File exists";
    case 19: return "No such device";
    case 20: return "Not a directory";
    case 21: return "Is a directory";
    case 22: return "Invalid argument";
    case 28: return "No space left on device";
    case 30: return "Read-only file system";
    case 98: return "Address already in use";
    case 99: return "Cannot assign requested address";
    case 101: return "Network is unreachable";
    case 113: return "No route to host";
    default: return "error";
  }
}
