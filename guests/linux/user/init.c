/*
 * /init: mounts the pseudo file systems, greets, sets up the network device
 * when there is one (ifup: 10.0.0.N from its MAC), and keeps a shell running on
 * each terminal: the serial line, and the screen's first virtual terminal when
 * the machine has a screen (a framebuffer: --screen).
 */
#include "lib.h"

#define TERMINALS 2

/* Starts a shell on `tty` in a session of its own (so ^C reaches its foreground); returns its pid or -1. */
static int spawn_shell(const char *tty) {
  int pid = fork();
  if (pid != 0) return pid;
  sys0(SYS_setsid);
  int fd = open(tty, O_RDWR, 0);
  if (fd >= 0) {
    dup2(fd, 0); dup2(fd, 1); dup2(fd, 2);
    if (fd > 2) close(fd);
  }
  char *args[] = { "sh", 0 };
  char *env[] = { "PATH=/bin", "HOME=/", 0 };
  execve("/bin/sh", args, env);
  puts_fd(2, "init: cannot run /bin/sh\n");
  exit(127);
}

/* Runs a program to its end. */
static void run(char *const args[]) {
  int pid = fork();
  if (pid == 0) {
    char *env[] = { 0 };
    execve(args[0], args, env);
    exit(127);
  }
  if (pid > 0) while (wait_child(pid, 0, 0) != pid) {}
}

int main(int argc, char **argv, char **envp) {
  mount("proc", "/proc", "proc", 0, 0);
  mount("sysfs", "/sys", "sysfs", 0, 0);
  mount("devtmpfs", "/dev", "devtmpfs", 0, 0);
  char motd[1024];
  if (read_file("/etc/motd", motd, sizeof motd) > 0) puts_fd(1, motd);
  /* eth0 gets 10.0.0.N from its MAC, so that the machines of a group reach each other with no setup. */
  run((char *[]){ "/bin/ifup", "-q", 0 });
  const char *ttys[TERMINALS] = { "/dev/ttyS0", 0 };
  int fb = open("/dev/fb0", O_RDONLY, 0);
  if (fb >= 0) {
    close(fb);
    ttys[1] = "/dev/tty1";
    int vt = open("/dev/tty1", O_WRONLY, 0);
    if (vt >= 0) {
      puts_fd(vt, motd);
      close(vt);
    }
  }
  int pids[TERMINALS] = { -1, -1 };
  for (;;) {
    for (int i = 0; i < TERMINALS; i++) {
      if (ttys[i] == 0 || pids[i] > 0) continue;
      pids[i] = spawn_shell(ttys[i]);
      if (pids[i] < 0) {
        puts_fd(2, "init: fork failed\n");
        sleep_ms(1000);
      }
    }
    /* Reap every orphan; a shell that exits is started again. */
    int how = 0, status = 0;
    int r = wait_child(-1, &how, &status);
    if (r < 0) {
      sleep_ms(1000);
      continue;
    }
    for (int i = 0; i < TERMINALS; i++) {
      if (r != pids[i]) continue;
      pids[i] = -1;
      fdprintf(1, "init: the shell on %s exited; starting another\n", ttys[i]);
    }
  }
}
