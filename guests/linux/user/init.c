/* /init: mounts the pseudo file systems, greets, and keeps a shell running on the console. */
#include "lib.h"

int main(int argc, char **argv, char **envp) {
  mount("proc", "/proc", "proc", 0, 0);
  mount("sysfs", "/sys", "sysfs", 0, 0);
  mount("devtmpfs", "/dev", "devtmpfs", 0, 0);
  char motd[1024];
  if (read_file("/etc/motd", motd, sizeof motd) > 0) puts_fd(1, motd);
  for (;;) {
    int pid = fork();
    if (pid == 0) {
      /* A session of its own with the serial line as controlling terminal, so ^C reaches the foreground. */
      sys0(SYS_setsid);
      int fd = open("/dev/ttyS0", O_RDWR, 0);
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
    if (pid < 0) {
      puts_fd(2, "init: fork failed\n");
      sleep_ms(1000);
      continue;
    }
    /* Reap every orphan until the shell itself exits, then start another. */
    for (;;) {
      int how = 0, status = 0;
      int r = wait_child(-1, &how, &status);
      if (r == pid) break;
      if (r < 0) break;
    }
    puts_fd(1, "init: the shell exited; starting another\n");
  }
}
