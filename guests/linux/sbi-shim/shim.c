/* The SBI calls of our QEMU shim (see shim.S): base, TIME, IPI, RFENCE, SRST and
 * the legacy console/timer/shutdown calls, for one hart. The same answers as
 * Rewind's built-in firmware (core/firmware/sbi.ts), so the kernel logs match. */
#include <stdint.h>

#define UART ((volatile uint8_t *)0x10000000)
#define MTIMECMP ((volatile uint32_t *)0x02004000)
#define SYSCON ((volatile uint32_t *)0x00100000)
#define RAM_BASE 0x80000000u
#define KERNEL 0x80400000u

#define csr_read(r) ({ uint32_t v_; __asm__ volatile("csrr %0, " #r : "=r"(v_)); v_; })
#define csr_write(r, v) __asm__ volatile("csrw " #r ", %0" ::"r"(v))
#define csr_set(r, v) __asm__ volatile("csrs " #r ", %0" ::"r"(v))
#define csr_clear(r, v) __asm__ volatile("csrc " #r ", %0" ::"r"(v))

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }
static void put_be32(uint8_t *p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v; }
static int starts(const char *s, const char *prefix) {
  while (*prefix) if (*s++ != *prefix++) return 0;
  return 1;
}
static int equal(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return *a == *b;
}

/* Linux may use all RAM it is told about, and this shim lives below the
 * kernel: shrink the memory node to start at the kernel (OpenSBI adds a
 * reserved-memory node instead). */
static void hide_shim(uint8_t *fdt) {
  if (be32(fdt) != 0xd00dfeed) return;
  uint8_t *p = fdt + be32(fdt + 8);
  const char *strings = (const char *)fdt + be32(fdt + 12);
  int in_memory = 0;
  for (;;) {
    uint32_t token = be32(p);
    p += 4;
    if (token == 1) { /* BEGIN_NODE */
      const char *name = (const char *)p;
      in_memory = starts(name, "memory@");
      uint32_t n = 0;
      while (name[n]) n++;
      p += (n + 4) & ~3u;
    } else if (token == 3) { /* PROP */
      uint32_t len = be32(p), nameoff = be32(p + 4);
      uint8_t *value = p + 8;
      if (in_memory && len == 16 && equal(strings + nameoff, "reg") && be32(value + 4) == RAM_BASE) {
        uint32_t size = be32(value + 12);
        put_be32(value + 4, KERNEL);
        put_be32(value + 12, size - (KERNEL - RAM_BASE));
      }
      p += 8 + ((len + 3) & ~3u);
    } else if (token == 2 || token == 4) {
      in_memory = 0;
    } else {
      return; /* END or damage */
    }
  }
}

void setup(uint32_t hartid, uint8_t *fdt) {
  hide_shim(fdt);
  /* PMP: everything for S and U. */
  csr_write(pmpaddr0, 0xffffffffu);
  csr_write(pmpcfg0, 0x1f);
  csr_write(medeleg, (1u << 0) | (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) |
                         (1u << 7) | (1u << 8) | (1u << 12) | (1u << 13) | (1u << 15));
  csr_write(mideleg, (1u << 1) | (1u << 5) | (1u << 9));
  csr_write(mcounteren, 7);
  csr_write(satp, 0);
  /* mret to S-mode with interrupts off in S. */
  uint32_t s = csr_read(mstatus);
  s &= ~((3u << 11) | (1u << 3) | (1u << 1) | (1u << 17));
  s |= (1u << 11) | (1u << 7);
  csr_write(mstatus, s);
}

static void putchar(int c) {
  while (!(UART[5] & 0x20)) {}
  UART[0] = (uint8_t)c;
}

static int getchar(void) { return UART[5] & 1 ? UART[0] : -1; }

static void set_timer(uint32_t lo, uint32_t hi) {
  MTIMECMP[1] = 0xffffffffu;
  MTIMECMP[0] = lo;
  MTIMECMP[1] = hi;
  csr_clear(mip, 1u << 5);
  csr_set(mie, 1u << 7);
}

static void power_off(int fail) {
  *SYSCON = fail ? 0x13333 : 0x5555;
  for (;;) __asm__ volatile("wfi");
}

#define EXT_BASE 0x10
#define EXT_TIME 0x54494d45
#define EXT_IPI 0x735049
#define EXT_RFENCE 0x52464e43
#define EXT_SRST 0x53525354
#define NOT_SUPPORTED (-2)
#define INVALID_PARAM (-3)

void trap(uint32_t *regs) {
  uint32_t cause = csr_read(mcause);
  if ((int32_t)cause < 0) {
    if ((cause & 0xff) == 7) { /* machine timer: hand it to S-mode */
      csr_set(mip, 1u << 5);
      csr_clear(mie, 1u << 7);
    }
    return;
  }
  if (cause != 9) { /* not an ecall from S: nothing we can do */
    const char *msg = "sbi-shim: unexpected trap\n";
    while (*msg) putchar(*msg++);
    power_off(1);
  }
  csr_write(mepc, csr_read(mepc) + 4);
  uint32_t eid = regs[17], fid = regs[16], a0 = regs[10], a1 = regs[11];
  if (eid <= 8) {
    int32_t ret = 0;
    switch (eid) {
      case 0: set_timer(a0, a1); break;
      case 1: putchar(a0); break;
      case 2: ret = getchar(); break;
      case 3: csr_clear(mip, 1u << 1); break;
      case 4: csr_set(mip, 1u << 1); break;
      case 6: case 7: __asm__ volatile("sfence.vma"); break;
      case 8: power_off(0); break;
    }
    regs[10] = ret;
    return;
  }
  int32_t err = 0;
  uint32_t value = 0;
  switch (eid) {
    case EXT_BASE:
      switch (fid) {
        case 0: value = 2u << 24; break;
        case 1: value = 0x52574e44; break;
        case 2: value = 1; break;
        case 3: value = a0 == EXT_BASE || a0 == EXT_TIME || a0 == EXT_IPI || a0 == EXT_RFENCE || a0 == EXT_SRST || a0 <= 8; break;
        case 4: case 5: case 6: value = 0; break;
        default: err = NOT_SUPPORTED;
      }
      break;
    case EXT_TIME:
      if (fid == 0) set_timer(a0, a1); else err = NOT_SUPPORTED;
      break;
    case EXT_IPI:
      if (fid == 0 && (a1 == 0xffffffffu || (a1 == 0 && (a0 & 1)))) csr_set(mip, 1u << 1);
      else if (fid != 0) err = NOT_SUPPORTED;
      break;
    case EXT_RFENCE:
      if (fid == 1 || fid == 2) __asm__ volatile("sfence.vma");
      else if (fid != 0) err = NOT_SUPPORTED;
      break;
    case EXT_SRST:
      if (fid == 0 && a0 <= 2 && a1 <= 1) {
        if (a0 == 0) power_off(a1 == 1);
        *SYSCON = 0x7777; /* reboot */
        for (;;) {}
      }
      err = fid == 0 ? INVALID_PARAM : NOT_SUPPORTED;
      break;
    default:
      err = NOT_SUPPORTED;
  }
  regs[10] = err;
  regs[11] = value;
}
