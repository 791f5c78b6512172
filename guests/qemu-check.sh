#!/usr/bin/env bash
# Runs every test of guests/expected/manifest.tsv on QEMU (the reference),
# checks the exit code, and records the output in guests/expected/<test>.out.
# Usage: bash guests/qemu-check.sh [test...]
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
fail=0
while IFS=$'\t' read -r test elf input code disk; do
  case "$test" in ''|'#'*) continue ;; esac
  if [ $# -gt 0 ] && [[ " $* " != *" $test "* ]]; then continue; fi
  args=(-machine virt -bios none -kernel "$HERE/build/$elf" -display none
        -serial stdio -monitor none -cpu rv32,f=off,d=off,h=off,sstc=off)
  if [ "$disk" != "-" ]; then
    args+=(-global virtio-mmio.force-legacy=false
           -drive "file=$HERE/$disk,if=none,format=raw,id=hd0,snapshot=on"
           -device virtio-blk-device,drive=hd0)
  fi
  start=$(date +%s.%N)
  timeout 60 qemu-system-riscv32 "${args[@]}" < "$HERE/expected/$input" > "$HERE/expected/$test.out"
  rc=$?
  secs=$(echo "$(date +%s.%N) - $start" | bc)
  if [ "$rc" = "$code" ]; then
    printf 'ok    %-14s exit %s  %.2fs\n' "$test" "$rc" "$secs"
  else
    printf 'FAIL  %-14s exit %s, expected %s\n' "$test" "$rc" "$code"
    fail=1
  fi
done < "$HERE/expected/manifest.tsv"
exit $fail
