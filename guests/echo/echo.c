/*
 * echo: a polled line-editing console. Commands: echo TEXT, rev TEXT,
 * sum N N..., help, quit. Backspace (0x08/0x7f) edits the line; Ctrl-D
 * (0x04) quits like `quit`. Exit code 0.
 */
#include "rt.h"

#define LINE_MAX 128

static int read_line(char *buf, int max)
{
    static int last_cr;
    int n = 0;
    for (;;) {
        int c = uart_getc();
        if (c == 0x04)
            return -1;
        if (c == '\n' && last_cr) {  /* "\r\n": the '\n' was already taken */
            last_cr = 0;
            continue;
        }
        last_cr = (c == '\r');
        if (c == '\r' || c == '\n') {
            putchar('\n');
            buf[n] = 0;
            return n;
        }
        if (c == 0x08 || c == 0x7f) {
            if (n > 0) {
                n--;
                puts("\b \b");
            }
            continue;
        }
        if (c < 0x20 || c > 0x7e)
            continue;
        if (n < max - 1) {
            buf[n++] = (char)c;
            uart_putc(c);
        }
    }
}

static const char *skip_spaces(const char *s)
{
    while (*s == ' ')
        s++;
    return s;
}

static int word_is(const char *line, const char *word, const char **rest)
{
    size_t n = strlen(word);
    if (strncmp(line, word, n) != 0 || (line[n] != 0 && line[n] != ' '))
        return 0;
    *rest = skip_spaces(line + n);
    return 1;
}

int main(void)
{
    char line[LINE_MAX];
    const char *arg;
    printf("Rewind echo console. Type 'help' for commands.\n");
    for (;;) {
        puts("> ");
        int n = read_line(line, sizeof line);
        if (n < 0) {
            printf("^D\nbye\n");
            return 0;
        }
        const char *cmd = skip_spaces(line);
        if (*cmd == 0)
            continue;
        if (word_is(cmd, "help", &arg)) {
            printf("commands: echo TEXT | rev TEXT | sum N N... | help | quit\n");
        } else if (word_is(cmd, "echo", &arg)) {
            printf("%s\n", arg);
        } else if (word_is(cmd, "rev", &arg)) {
            for (int i = (int)strlen(arg) - 1; i >= 0; i--)
                putchar(arg[i]);
            putchar('\n');
        } else if (word_is(cmd, "sum", &arg)) {
            int32_t total = 0;
            int count = 0;
            while (*arg) {
                const char *p = arg;
                if (*p == '-') p++;
                if (*p < '0' || *p > '9') {
                    printf("sum: not a number: %s\n", arg);
                    count = -1;
                    break;
                }
                total += atoi_(arg);
                count++;
                while (*arg && *arg != ' ') arg++;
                arg = skip_spaces(arg);
            }
            if (count >= 0)
                printf("sum of %d numbers = %d\n", count, total);
        } else if (word_is(cmd, "quit", &arg) || word_is(cmd, "exit", &arg)) {
            printf("bye\n");
            return 0;
        } else {
            printf("unknown command: %s (try 'help')\n", cmd);
        }
    }
}
