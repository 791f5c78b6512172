/* Our own tiny libc for rv32 Linux: raw syscalls (asm-generic numbers, the
 * 64-bit-time variants rv32 has) and a few string and output helpers. */
#ifndef REWIND_LIB_H
#define REWIND_LIB_H
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define SYS_getcwd 17
#define SYS_dup3 24
#define SYS_ioctl 29
#define SYS_mkdirat 34
#define SYS_unlinkat 35
#define SYS_umount2 39
#define SYS_mount 40
#define SYS_chdir 49
#define SYS_openat 56
#define SYS_close 57
#define SYS_getdents64 61
#define SYS_read 63
#define SYS_write 64
#define SYS_sync 81
#define SYS_exit 93
#define SYS_exit_group 94
#define SYS_waitid 95
#define SYS_kill 129
#define SYS_rt_sigaction 134
#define SYS_reboot 142
#define SYS_setpgid 154
#define SYS_setsid 157
#define SYS_uname 160
#define SYS_getpid 172
#define SYS_getppid 173
#define SYS_brk 214
#define SYS_munmap 215
#define SYS_socket 198
#define SYS_bind 200
#define SYS_sendto 206
#define SYS_recvfrom 207
#define SYS_clone 220
#define SYS_execve 221
#define SYS_mmap2 222
#define SYS_statx 291
#define SYS_clock_gettime64 403
#define SYS_clock_nanosleep_time64 407
#define SYS_ppoll_time64 414

#define AT_FDCWD (-100)
#define O_RDONLY 0
#define O_WRONLY 1
#define O_RDWR 2
#define O_CREAT 0100
#define O_TRUNC 01000
#define O_APPEND 02000
#define O_DIRECTORY 0200000
#define SIGINT 2
#define SIGKILL 9
#define SIGSEGV 11
#define SIGCHLD 17
#define SIG_DFL ((long)0)
#define SIG_IGN ((long)1)
#define P_ALL 0
#define P_PID 1
#define WEXITED 4
#define CLD_EXITED 1
#define CLD_KILLED 2
#define CLD_DUMPED 3

long syscall6(long n, long a, long b, long c, long d, long e, long f);
#define sys0(n) syscall6(n, 0, 0, 0, 0, 0, 0)
#define sys1(n, a) syscall6(n, (long)(a), 0, 0, 0, 0, 0)
#define sys2(n, a, b) syscall6(n, (long)(a), (long)(b), 0, 0, 0, 0)
#define sys3(n, a, b, c) syscall6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define sys4(n, a, b, c, d) syscall6(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define sys5(n, a, b, c, d, e) syscall6(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)
#define sys6(n, a, b, c, d, e, f) syscall6(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

/* Sockets (include/uapi/linux/socket.h, in.h): IPv4 only. Addresses and ports are in network byte order. */
#define AF_INET 2
#define SOCK_DGRAM 2
#define SOCK_RAW 3
#define IPPROTO_ICMP 1
#define IPPROTO_UDP 17
#define POLLIN 1
struct sockaddr_in { uint16_t family, port; uint32_t addr; uint8_t zero[8]; };
struct pollfd { int fd; short events, revents; };

struct siginfo_chld { int signo, err, code, pid, uid, status; int pad[26]; };
struct timespec64 { int64_t sec; int64_t nsec; };
struct dirent64 { uint64_t ino; int64_t off; uint16_t reclen; uint8_t type; char name[]; };
struct statx_lite {
  uint32_t mask, blksize; uint64_t attributes; uint32_t nlink, uid, gid; uint16_t mode, pad1;
  uint64_t ino, size, blocks, attributes_mask; uint8_t rest[256 - 64];
};

__attribute__((noreturn)) void exit(int code);
long write(int fd, const void *buf, size_t n);
long read(int fd, void *buf, size_t n);
int open(const char *path, int flags, int mode);
int close(int fd);
int dup2(int from, int to);
int fork(void);
int execve(const char *path, char *const argv[], char *const envp[]);
/* Waits for a child (pid, or any when pid <= 0); returns its pid and sets how and status. */
int wait_child(int pid, int *how, int *status);
int mount(const char *src, const char *target, const char *type, unsigned long flags, const void *data);
int sleep_ms(long ms);
int64_t now_ms(void);
int64_t now_us(void);
int set_signal(int sig, long handler);
int getpid(void);

int socket(int domain, int type, int protocol);
/* Waits until one of fds is readable or ms pass (ms < 0: no limit); returns how many are, 0 on timeout, or -errno. */
int poll_ms(struct pollfd *fds, int n, long ms);
/* Parses a dotted quad ("10.0.0.2") into network byte order; returns 0 when it is not one. */
int parse_ipv4(const char *s, uint32_t *addr);
/* Writes a network-byte-order address as a dotted quad into buf (16 bytes). */
char *format_ipv4(char *buf, uint32_t addr);
uint16_t byteswap16(uint16_t v);
#define htons(v) byteswap16(v)
#define ntohs(v) byteswap16(v)

size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strcpy(char *d, const char *s);
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int atoi(const char *s);
int is_digits(const char *s);

int vformat(char *buf, size_t size, const char *fmt, va_list ap);
int format(char *buf, size_t size, const char *fmt, ...);
int fdprintf(int fd, const char *fmt, ...);
int printf(const char *fmt, ...);
void puts_fd(int fd, const char *s);
/* Reads a whole (small) file into buf, NUL-terminated; returns its length or -errno. */
long read_file(const char *path, char *buf, size_t size);
const char *strerror_lite(long err);

#endif
