#!/usr/bin/env bash
# Builds every ISA test guests/isa/*.S into guests/isa/build/<name>.elf.
# Usage: bash guests/isa/build.sh            (from anywhere)
#        bash guests/isa/build.sh --qemu     (also run each on QEMU)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CC=${CC:-riscv64-unknown-elf-gcc}

if ! command -v "$CC" >/dev/null 2>&1; then
  echo "error: $CC not found. Install it with: apt-get install gcc-riscv64-unknown-elf" >&2
  exit 1
fi

FLAGS=(-march=rv32imac_zicsr_zifencei -mabi=ilp32 -nostdlib -nostartfiles
       -T "$HERE/link.ld" -Wl,--no-warn-rwx-segments -Wl,--build-id=none
       -I "$HERE")
OUT="$HERE/build"
mkdir -p "$OUT"

for src in "$HERE"/*.S; do
  name=$(basename "$src" .S)
  echo "  AS    build/$name.elf"
  "$CC" "${FLAGS[@]}" -o "$OUT/$name.elf" "$src"
done

if [ "${1:-}" = "--qemu" ]; then
  QEMU=${QEMU:-qemu-system-riscv32}
  fail=0
  for elf in "$OUT"/*.elf; do
    name=$(basename "$elf" .elf)
    set +e
    out=$(timeout 10 "$QEMU" -machine virt -bios none -kernel "$elf" -display none \
          -serial stdio -monitor none -cpu rv32,f=off,d=off,h=off,sstc=off </dev/null)
    rc=$?
    set -e
    printf '%-28s rc=%-3s %s\n' "$name" "$rc" "$out"
    case "$name" in
      *-qemu-deviation) ;;                     # spec behaviour QEMU lacks
      *) [ "$rc" = 0 ] || fail=1 ;;
    esac
  done
  exit $fail
fi
