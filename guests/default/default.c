/*
 * default: "The Vault of Rewind", a tiny text adventure and the guest the
 * web app opens with. Type `help`. `quit` (or Ctrl-D) exits with code 0.
 *
 * It has a real, reproducible bug to rewind into: `feed N` divides by N
 * without checking for zero. On RISC-V an unsigned division by zero gives
 * 0xFFFFFFFF, so the pack slot becomes -1 and the "item" pointer is read
 * from the word just before the pack array: the score. Dereferencing it
 * loads from a tiny address, which raises a load access fault; the M-mode
 * trap handler prints "*** crash: mcause=... mepc=... mtval=..." and exits
 * with fail code 3. Try: `e`, `take bone`, `feed 0`.
 */
#include "rt.h"
#include "csr.h"

#define NONE  -1
#define MAXPACK 6
#define LINE_MAX 96

enum { N, S, E, W };
static const char *dir_names[4] = { "north", "south", "east", "west" };

struct item {
    const char *name;       /* first field: the crash loads it */
    const char *desc;
    int where;              /* room index, or NONE when carried/eaten */
    int edible;
};

struct room {
    const char *name;
    const char *desc;
    int exits[4];
};

static struct room rooms[] = {
    { "Gate Hall", "A dusty hall. Clocks on every wall tick backwards.", { 1, NONE, 2, 4 } },
    { "Library", "Shelves of books about time. One has fallen open.", { NONE, 0, NONE, NONE } },
    { "Troll Bridge", "A narrow bridge. A hungry troll blocks the way east.", { NONE, NONE, 3, 0 } },
    { "Vault", "The Vault of Rewind. A great chest sits here, locked.", { NONE, NONE, NONE, 2 } },
    { "Garden", "An overgrown garden. Something glints in the weeds.", { NONE, NONE, 0, NONE } },
};
#define NROOMS (int)(sizeof rooms / sizeof rooms[0])

static struct item items[] = {
    { "lamp",  "A brass lamp. It hums softly.", 0, 0 },
    { "book",  "'Every crash can be undone,' it reads, 'if you can rewind.'", 1, 0 },
    { "bone",  "A big meaty bone. Trolls love these.", 2, 1 },
    { "key",   "A small silver key shaped like a clock hand.", 4, 0 },
    { "pear",  "A ripe yellow pear.", 4, 1 },
};
#define NITEMS (int)(sizeof items / sizeof items[0])

/* Field order matters for the bug: score sits right before pack[]. */
static struct player {
    char name[16];
    uint32_t moves;
    uint32_t score;
    struct item *pack[MAXPACK];
    uint32_t count;
    int here;
    int troll_fed;
    int chest_open;
} P;

static const char *skip(const char *s)
{
    while (*s == ' ')
        s++;
    return s;
}

static void look(void)
{
    struct room *r = &rooms[P.here];
    printf("== %s ==\n%s\n", r->name, r->desc);
    if (P.here == 2 && P.troll_fed)
        printf("The troll snores happily beside the bridge.\n");
    for (int i = 0; i < NITEMS; i++)
        if (items[i].where == P.here)
            printf("You see a %s.\n", items[i].name);
    puts("Exits:");
    for (int d = 0; d < 4; d++)
        if (r->exits[d] != NONE)
            printf(" %s", dir_names[d]);
    putchar('\n');
}

static void go(int d)
{
    int to = rooms[P.here].exits[d];
    if (to == NONE) {
        printf("You can't go %s.\n", dir_names[d]);
        return;
    }
    if (P.here == 2 && d == E && !P.troll_fed) {
        printf("The troll growls: \"FOOD FIRST!\" (try: feed N)\n");
        return;
    }
    P.here = to;
    P.moves++;
    look();
}

static struct item *find_item(const char *name)
{
    for (int i = 0; i < NITEMS; i++)
        if (strcmp(items[i].name, name) == 0)
            return &items[i];
    return 0;
}

static int pack_index(struct item *it)
{
    for (uint32_t i = 0; i < P.count; i++)
        if (P.pack[i] == it)
            return (int)i;
    return -1;
}

static void pack_remove(uint32_t i)
{
    for (; i + 1 < P.count; i++)
        P.pack[i] = P.pack[i + 1];
    P.count--;
}

static void take(const char *name)
{
    struct item *it = find_item(name);
    if (!it || it->where != P.here) {
        printf("There is no %s here.\n", name);
        return;
    }
    if (P.count == MAXPACK) {
        printf("Your pack is full.\n");
        return;
    }
    it->where = NONE;
    P.pack[P.count++] = it;
    printf("Taken: %s.\n", it->name);
}

static void drop(const char *name)
{
    struct item *it = find_item(name);
    int i = it ? pack_index(it) : -1;
    if (i < 0) {
        printf("You don't have a %s.\n", name);
        return;
    }
    pack_remove((uint32_t)i);
    it->where = P.here;
    printf("Dropped: %s.\n", it->name);
}

static void inventory(void)
{
    if (P.count == 0) {
        printf("Your pack is empty.\n");
        return;
    }
    printf("You carry:");
    for (uint32_t i = 0; i < P.count; i++)
        printf(" [%u] %s", i, P.pack[i]->name);
    putchar('\n');
}

static void examine(const char *name)
{
    struct item *it = find_item(name);
    if (!it || (it->where != P.here && pack_index(it) < 0)) {
        printf("You see no %s.\n", name);
        return;
    }
    printf("%s\n", it->desc);
}

/* The troll eats item number (count - 1) / n from your pack. */
static void feed(const char *arg)
{
    if (P.here != 2) {
        printf("There is nobody here to feed.\n");
        return;
    }
    if (P.count == 0) {
        printf("You have nothing to feed the troll.\n");
        return;
    }
    uint32_t n = (uint32_t)atoi_(arg);
    /* BUG (on purpose): no check for n == 0. */
    uint32_t slot = (P.count - 1) / n;
    struct item *it = P.pack[slot];
    printf("You offer the troll your %s.\n", it->name);
    if (it->edible) {
        printf("The troll munches it and waves you past.\n");
        P.troll_fed = 1;
        P.score += 10;
    } else {
        printf("The troll spits it out and throws it into the river.\n");
    }
    it->where = NONE;
    pack_remove(slot);
}

static void open_chest(void)
{
    if (P.here != 3) {
        printf("There is nothing to open here.\n");
        return;
    }
    if (P.chest_open) {
        printf("The chest is already open.\n");
        return;
    }
    if (pack_index(find_item("key")) < 0) {
        printf("The chest is locked. A small keyhole shaped like a clock hand...\n");
        return;
    }
    P.chest_open = 1;
    P.score += 100;
    printf("The key turns. Inside the chest: the Golden Hourglass!\n");
    printf("*** You win, %s! Score %u in %u moves. ***\n", P.name, P.score, P.moves);
}

static void help(void)
{
    printf("Commands:\n"
           "  look | n | s | e | w | go DIR | take X | drop X | inv | examine X\n"
           "  feed N   feed the troll item number (items-1)/N from your pack\n"
           "           (the troll is bad at maths: N=0 crashes the program;\n"
           "           rewind to before it!)\n"
           "  open | score | name NAME | help | quit\n");
}

static int read_line(char *buf, int max)
{
    static int last_cr;
    int n = 0;
    for (;;) {
        int c = uart_getc();
        if (c == 0x04)
            return -1;
        if (c == '\n' && last_cr) {
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
        } else if (c >= 0x20 && c < 0x7f && n < max - 1) {
            buf[n++] = (char)c;
            uart_putc(c);
        }
    }
}

static int is_cmd(const char *line, const char *w, const char **arg)
{
    size_t n = strlen(w);
    if (strncmp(line, w, n) != 0 || (line[n] && line[n] != ' '))
        return 0;
    *arg = skip(line + n);
    return 1;
}

int main(void)
{
    char line[LINE_MAX];
    const char *a;
    strcpy(P.name, "traveller");
    printf("\n  ~~ THE VAULT OF REWIND ~~\n"
           "  A very small adventure on a RISC-V machine you can rewind.\n"
           "  Type 'help' for commands. Find the Golden Hourglass!\n\n");
    look();
    for (;;) {
        puts("> ");
        if (read_line(line, sizeof line) < 0) {
            printf("^D\nFarewell.\n");
            return 0;
        }
        const char *cmd = skip(line);
        if (!*cmd)
            continue;
        if (is_cmd(cmd, "help", &a)) help();
        else if (is_cmd(cmd, "look", &a) || is_cmd(cmd, "l", &a)) look();
        else if (is_cmd(cmd, "n", &a) || is_cmd(cmd, "north", &a)) go(N);
        else if (is_cmd(cmd, "s", &a) || is_cmd(cmd, "south", &a)) go(S);
        else if (is_cmd(cmd, "e", &a) || is_cmd(cmd, "east", &a)) go(E);
        else if (is_cmd(cmd, "w", &a) || is_cmd(cmd, "west", &a)) go(W);
        else if (is_cmd(cmd, "go", &a)) {
            int d = -1;
            for (int i = 0; i < 4; i++)
                if (strcmp(a, dir_names[i]) == 0 || (a[0] == dir_names[i][0] && !a[1]))
                    d = i;
            if (d < 0) printf("Go where?\n"); else go(d);
        }
        else if (is_cmd(cmd, "take", &a) || is_cmd(cmd, "get", &a)) take(a);
        else if (is_cmd(cmd, "drop", &a)) drop(a);
        else if (is_cmd(cmd, "inv", &a) || is_cmd(cmd, "i", &a)) inventory();
        else if (is_cmd(cmd, "examine", &a) || is_cmd(cmd, "x", &a) || is_cmd(cmd, "read", &a)) examine(a);
        else if (is_cmd(cmd, "feed", &a)) feed(a);
        else if (is_cmd(cmd, "open", &a)) open_chest();
        else if (is_cmd(cmd, "score", &a)) printf("Score %u in %u moves.\n", P.score, P.moves);
        else if (is_cmd(cmd, "name", &a)) {
            if (!*a || strlen(a) >= sizeof P.name) printf("Names are 1 to 15 letters.\n");
            else { strcpy(P.name, a); printf("Hello, %s!\n", P.name); }
        }
        else if (is_cmd(cmd, "quit", &a) || is_cmd(cmd, "exit", &a)) {
            printf("Farewell, %s. Score %u.\n", P.name, P.score);
            return 0;
        }
        else printf("I don't understand '%s'. Type 'help'.\n", cmd);
    }
}
