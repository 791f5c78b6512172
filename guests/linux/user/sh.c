/* sh: a small shell. Builtins for looking around the system, '>' and '>>' redirection,
 * and other programs run from /bin in a child process. */
#include "lib.h"

#define MAXARGS 16
static char cwd[256] = "/";
static char **environ;

static void err(const char *what, const char *arg, long e) { fdprintf(2, "%s: %s: %s\n", what, arg, strerror_lite(e)); }

static int cmd_echo(int argc, char **argv) {
  for (int i = 1; i < argc; i++) { puts_fd(1, argv[i]); if (i + 1 < argc) puts_fd(1, " "); }
  puts_fd(1, "\n");
  return 0;
}

static int cmd_cat(int argc, char **argv) {
  int rc = 0;
  for (int i = 1; i < argc; i++) {
    int fd = open(argv[i], O_RDONLY, 0);
    if (fd < 0) { err("cat", argv[i], fd); rc = 1; continue; }
    char buf[512];
    long n;
    while ((n = read(fd, buf, sizeof buf)) > 0) write(1, buf, n);
    if (n < 0) { err("cat", argv[i], n); rc = 1; }
    close(fd);
  }
  return rc;
}

static void join(char *out, size_t size, const char *dir, const char *name) {
  format(out, size, strcmp(dir, "/") == 0 ? "%s%s" : "%s/%s", dir, name);
}

static int ls_one(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY, 0);
  if (fd < 0) { err("ls", dir, fd); return 1; }
  char buf[1024];
  long n;
  while ((n = sys3(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
    for (long off = 0; off < n;) {
      struct dirent64 *d = (struct dirent64 *)(buf + off);
      off += d->reclen;
      if (d->name[0] == '.') continue;
      char path[256];
      join(path, sizeof path, dir, d->name);
      struct statx_lite st;
      memset(&st, 0, sizeof st);
      char kind = '?';
      if (sys5(SYS_statx, AT_FDCWD, path, 0x100 /* AT_SYMLINK_NOFOLLOW */, 0x7ff, &st) == 0) {
        switch (st.mode & 0170000) {
          case 0040000: kind = 'd'; break; case 0100000: kind = '-'; break; case 0120000: kind = 'l'; break;
          case 0020000: kind = 'c'; break; case 0060000: kind = 'b'; break; default: kind = '?';
        }
      }
      printf("%c%c%c%c %8llu  %s%s\n", kind, st.mode & 0400 ? 'r' : '-', st.mode & 0200 ? 'w' : '-',
             st.mode & 0100 ? 'x' : '-', (unsigned long long)st.size, d->name, kind == 'd' ? "/" : "");
    }
  }
  close(fd);
  return 0;
}

static int cmd_ls(int argc, char **argv) {
  if (argc < 2) return ls_one(".");
  int rc = 0;
  for (int i = 1; i < argc; i++) {
    if (argc > 2) printf("%s:\n", argv[i]);
    rc |= ls_one(argv[i]);
  }
  return rc;
}

static int cmd_ps(int argc, char **argv) {
  int fd = open("/proc", O_RDONLY | O_DIRECTORY, 0);
  if (fd < 0) { err("ps", "/proc", fd); return 1; }
  printf("  PID  PPID S COMMAND\n");
  char buf[1024];
  long n;
  while ((n = sys3(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
    for (long off = 0; off < n;) {
      struct dirent64 *d = (struct dirent64 *)(buf + off);
      off += d->reclen;
      if (!is_digits(d->name)) continue;
      char path[64], stat[512];
      format(path, sizeof path, "/proc/%s/stat", d->name);
      if (read_file(path, stat, sizeof stat) <= 0) continue;
      /* "pid (comm) S ppid ..." : comm may hold spaces, so split at the last ')'. */
      char *open_paren = stat, *close_paren = 0;
      while (*open_paren && *open_paren != '(') open_paren++;
      for (char *p = stat; *p; p++) if (*p == ')') close_paren = p;
      if (!*open_paren || !close_paren) continue;
      *close_paren = 0;
      char state = close_paren[2];
      int ppid = atoi(close_paren + 4);
      printf("%5s %5d %c %s\n", d->name, ppid, state, open_paren + 1);
    }
  }
  close(fd);
  return 0;
}

static int cmd_uptime(int argc, char **argv) {
  char up[64], load[64];
  if (read_file("/proc/uptime", up, sizeof up) <= 0) { puts_fd(2, "uptime: no /proc\n"); return 1; }
  read_file("/proc/loadavg", load, sizeof load);
  for (char *p = up; *p; p++) if (*p == ' ') { *p = 0; break; }
  for (int i = 0, sp = 0; load[i]; i++) if (load[i] == ' ' && ++sp == 3) { load[i] = 0; break; }
  printf("up %s seconds, load average %s\n", up, load);
  return 0;
}

static int cmd_free(int argc, char **argv) {
  char buf[1024];
  if (read_file("/proc/meminfo", buf, sizeof buf) <= 0) return 1;
  int lines = 0;
  for (char *p = buf; *p; p++) if (*p == '\n' && ++lines == 3) { p[1] = 0; break; }
  puts_fd(1, buf);
  return 0;
}

static int cmd_uname(int argc, char **argv) {
  char u[6][65];
  if (sys1(SYS_uname, u) < 0) return 1;
  if (argc > 1 && strcmp(argv[1], "-a") == 0) printf("%s %s %s %s %s\n", u[0], u[1], u[2], u[3], u[4]);
  else printf("%s\n", u[0]);
  return 0;
}

static int cmd_mount(int argc, char **argv) {
  if (argc < 2) return cmd_cat(2, (char *[]){ "cat", "/proc/mounts", 0 });
  const char *dev = argv[1];
  const char *dir = argc > 2 ? argv[2] : "/mnt";
  const char *type = argc > 3 ? argv[3] : "ext2";
  long r = mount(dev, dir, type, 0, 0);
  if (r < 0) { err("mount", dev, r); return 1; }
  printf("mounted %s on %s (%s)\n", dev, dir, type);
  return 0;
}

static int cmd_umount(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : "/mnt";
  long r = sys2(SYS_umount2, dir, 0);
  if (r < 0) { err("umount", dir, r); return 1; }
  return 0;
}

static int cmd_cd(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : "/";
  long r = sys1(SYS_chdir, dir);
  if (r < 0) { err("cd", dir, r); return 1; }
  sys2(SYS_getcwd, cwd, sizeof cwd);
  return 0;
}

static int cmd_pwd(int argc, char **argv) { printf("%s\n", cwd); return 0; }

static int cmd_sleep(int argc, char **argv) { sleep_ms(argc > 1 ? atoi(argv[1]) * 1000L : 1000); return 0; }

static int cmd_mkdir(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    long r = sys3(SYS_mkdirat, AT_FDCWD, argv[i], 0755);
    if (r < 0) { err("mkdir", argv[i], r); return 1; }
  }
  return 0;
}

static int cmd_rm(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    long r = sys3(SYS_unlinkat, AT_FDCWD, argv[i], 0);
    if (r < 0) { err("rm", argv[i], r); return 1; }
  }
  return 0;
}

static int cmd_sync(int argc, char **argv) { sys0(SYS_sync); return 0; }

static int power(int cmd) {
  sys0(SYS_sync);
  long r = sys4(SYS_reboot, 0xfee1dead, 672274793, cmd, 0);
  err("reboot", "", r);
  return 1;
}
static int cmd_poweroff(int argc, char **argv) { return power(0x4321fedc); }
static int cmd_reboot(int argc, char **argv) { return power(0x01234567); }
static int cmd_exit(int argc, char **argv) { exit(argc > 1 ? atoi(argv[1]) : 0); }
static int cmd_help(int argc, char **argv);

static const struct { const char *name; int (*fn)(int, char **); const char *help; } builtins[] = {
  { "help", cmd_help, "this list" },
  { "echo", cmd_echo, "echo WORDS...   (> FILE and >> FILE redirect any command)" },
  { "cat", cmd_cat, "cat FILE..." },
  { "ls", cmd_ls, "ls [DIR...]" },
  { "ps", cmd_ps, "the processes" },
  { "uptime", cmd_uptime, "time since boot, load" },
  { "free", cmd_free, "memory" },
  { "uname", cmd_uname, "uname [-a]" },
  { "mount", cmd_mount, "mount [DEV [DIR [TYPE]]]   e.g. mount /dev/vda /mnt" },
  { "umount", cmd_umount, "umount [DIR]" },
  { "cd", cmd_cd, "cd [DIR]" },
  { "pwd", cmd_pwd, "the current directory" },
  { "mkdir", cmd_mkdir, "mkdir DIR..." },
  { "rm", cmd_rm, "rm FILE..." },
  { "sync", cmd_sync, "write cached data to disk" },
  { "sleep", cmd_sleep, "sleep SECONDS" },
  { "poweroff", cmd_poweroff, "power the machine off" },
  { "reboot", cmd_reboot, "restart the machine" },
  { "exit", cmd_exit, "leave this shell (init starts another)" },
};
#define NBUILTINS (int)(sizeof builtins / sizeof builtins[0])

static int cmd_help(int argc, char **argv) {
  puts_fd(1, "Builtins:\n");
  for (int i = 0; i < NBUILTINS; i++) printf("  %-9s %s\n", builtins[i].name, builtins[i].help);
  puts_fd(1, "Programs in /bin: crash (dies of a segfault), life [N], primes [N]\n");
  puts_fd(1, "Network (--net): ifup [ADDR [NETMASK]], ping [-c N] HOST, chat HOST PORT,\n"
             "  chat listen PORT [COUNT], chat send HOST PORT WORDS...\n");
  return 0;
}

static int run_program(int argc, char **argv) {
  char path[128];
  if (argv[0][0] == '/' || argv[0][0] == '.') strcpy(path, argv[0]);
  else format(path, sizeof path, "/bin/%s", argv[0]);
  int pid = fork();
  if (pid < 0) { err("sh", "fork", pid); return 1; }
  if (pid == 0) {
    set_signal(SIGINT, SIG_DFL);
    long r = execve(path, argv, environ);
    err("sh", argv[0], r == -2 ? -2 : r);
    if (r == -2) puts_fd(2, "(type 'help' for the commands)\n");
    exit(127);
  }
  int how = 0, status = 0;
  while (wait_child(pid, &how, &status) != pid) {}
  if (how == CLD_EXITED) return status;
  if (status == SIGSEGV) puts_fd(2, "Segmentation fault\n");
  else if (status == SIGINT) puts_fd(2, "\n");
  else fdprintf(2, "Killed by signal %d\n", status);
  return 128 + status;
}

static int run(char *line) {
  char *argv[MAXARGS + 1];
  int argc = 0;
  const char *redirect = 0;
  int append = 0;
  for (char *p = line; *p;) {
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') *p++ = 0;
    if (!*p || *p == '#') { *p = 0; break; }
    if (*p == '>') {
      *p++ = 0;
      if (*p == '>') append = 1, *p++ = 0;
      while (*p == ' ') *p++ = 0;
      redirect = p;
    } else if (argc < MAXARGS) {
      argv[argc++] = p;
    }
    while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' && *p != '>') p++;
  }
  argv[argc] = 0;
  if (argc == 0) return 0;
  int saved = -1;
  if (redirect) {
    if (!*redirect) { puts_fd(2, "sh: no file after '>'\n"); return 1; }
    int fd = open(redirect, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0644);
    if (fd < 0) { err("sh", redirect, fd); return 1; }
    saved = sys3(SYS_dup3, 1, 10, 0);
    dup2(fd, 1);
    close(fd);
  }
  int rc = -1;
  for (int i = 0; i < NBUILTINS; i++)
    if (strcmp(argv[0], builtins[i].name) == 0) { rc = builtins[i].fn(argc, argv); break; }
  if (rc == -1) rc = run_program(argc, argv);
  if (saved >= 0) { dup2(saved, 1); close(saved); }
  return rc;
}

int main(int argc, char **argv, char **envp) {
  environ = envp;
  set_signal(SIGINT, SIG_IGN);
  sys2(SYS_getcwd, cwd, sizeof cwd);
  char line[256];
  for (;;) {
    printf("rewind:%s# ", cwd);
    long n = read(0, line, sizeof line - 1);
    if (n < 0) { sleep_ms(100); continue; }
    if (n == 0) { puts_fd(1, "\n"); exit(0); }
    line[n] = 0;
    run(line);
  }
}
