#!/usr/bin/env bash
# Rebuilds every bundled guest into guests/build/<name>.elf (plus hello.bin)
# and the virtio disk image guests/virtio/disk.img.
# Usage: bash guests/build.sh   (from anywhere)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CC=${CC:-riscv64-unknown-elf-gcc}
OBJCOPY=${OBJCOPY:-riscv64-unknown-elf-objcopy}

if ! command -v "$CC" >/dev/null 2>&1; then
  echo "error: $CC not found. Install it with: apt-get install gcc-riscv64-unknown-elf" >&2
  exit 1
fi

LIBGCC="$("$CC" -march=rv32imac -mabi=ilp32 -print-libgcc-file-name)"
if [ ! -f "$LIBGCC" ]; then
  echo "error: no rv32imac/ilp32 libgcc ($LIBGCC); the cross compiler lacks rv32 multilibs" >&2
  exit 1
fi

CFLAGS=(-march=rv32imac_zicsr_zifencei -mabi=ilp32 -mcmodel=medany
        -nostdlib -ffreestanding -fno-builtin -fno-tree-loop-distribute-patterns
        -O2 -g -Wall -Wextra -Wno-unused-parameter -I"$HERE/common"
        -ffile-prefix-map="$(dirname "$HERE")=."
        -Wa,--debug-prefix-map,"$(dirname "$HERE")=.")   # reproducible: no checkout path
LDFLAGS=(-T "$HERE/common/link.ld" -Wl,--no-warn-rwx-segments -Wl,--build-id=none)
COMMON=("$HERE/common/crt0.S" "$HERE/common/rt.c")
OUT="$HERE/build"
mkdir -p "$OUT"
cd "$(dirname "$HERE")"   # compile from the repo root (paths in debug info)

build() { # name extra-flags... -- sources...
  local name=$1; shift
  local flags=()
  while [ "$1" != "--" ]; do flags+=("$1"); shift; done
  shift
  echo "  CC    build/$name.elf"
  "$CC" "${CFLAGS[@]}" "${flags[@]}" "${LDFLAGS[@]}" -o "$OUT/$name.elf" \
        "${COMMON[@]}" "$@" "$LIBGCC"
}

build hello     -- "$HERE/hello/hello.c"
build echo      -- "$HERE/echo/echo.c"
build timer     -- "$HERE/timer/timer.c"
build sv32      -- "$HERE/sv32/sv32.c" "$HERE/sv32/sv32.S"
build virtio    -- "$HERE/virtio/virtio.c"
build bench       -DBENCH_ITERS=290 -- "$HERE/bench/bench.c"
build bench-short -DBENCH_ITERS=7 -- "$HERE/bench/bench.c"
build bench-long  -DBENCH_ITERS=600 -- "$HERE/bench/bench.c"
build default   -- "$HERE/default/default.c"
build irqecho   -- "$HERE/irqecho/irqecho.c"
build draw      -I"$HERE/screen" -- "$HERE/screen/draw.c" "$HERE/screen/vscreen.c"
build minefield -I"$HERE/screen" -- "$HERE/screen/minefield.c" "$HERE/screen/vscreen.c"
build ping      -I"$HERE/net" -- "$HERE/net/ping.c" "$HERE/net/vnet.c"
build pong      -I"$HERE/net" -- "$HERE/net/pong.c" "$HERE/net/vnet.c"

# The benchmark suite (bench/jit.mjs): each reads its iteration count as a line of input.
S="$HERE/suite"
build recurse   -I"$S" -- "$S/recurse.c"
build bytecode  -I"$S" -- "$S/bytecode.c"
build memops    -I"$S" -- "$S/memops.c"
build strings   -I"$S" -- "$S/strings.c"
build divmul    -I"$S" -- "$S/divmul.c"
build rvc       -I"$S" -Os -- "$S/rvc.c" "$S/rvc.S"
build sv32user  -I"$S" -- "$S/sv32user.c"
build irq       -I"$S" -- "$S/irq.c" "$S/irq.S"
build mix       -I"$S" -- "$S/mix.c"
build dirty     -I"$S" -- "$S/dirty.c"
build stream    -I"$S" -- "$S/stream.c"
build alloc     -I"$S" -- "$S/alloc.c"

echo "  BIN   build/hello.bin"
"$OBJCOPY" -O binary "$OUT/hello.elf" "$OUT/hello.bin"

# Disk image for the virtio guest: 64 KiB, text in sector 0, sector n>0
# starts with "sector n".
echo "  DISK  virtio/disk.img"
DISK="$HERE/virtio/disk.img"
rm -f "$DISK.tmp"
dd if=/dev/zero of="$DISK.tmp" bs=1024 count=64 status=none
printf 'Hello from the Rewind disk! This is sector 0 of disk.img.\nThe quick brown fox jumps over the lazy dog.\n' |
  dd of="$DISK.tmp" conv=notrunc status=none
for n in 1 2 3; do
  printf 'sector %d\n' "$n" | dd of="$DISK.tmp" bs=512 seek="$n" conv=notrunc status=none
done
mv "$DISK.tmp" "$DISK"

if [ -f "$HERE/isa/build.sh" ]; then
  echo "  ISA   guests/isa/build.sh"
  bash "$HERE/isa/build.sh"
fi
echo "done."
