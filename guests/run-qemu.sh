#!/usr/bin/env bash
# Runs a built guest on QEMU (the reference) with guests/expected/<name>.in
# piped to its UART. Exit status = the guest's syscon code.
# Usage: bash guests/run-qemu.sh NAME [extra qemu args...]
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
name=$1; shift
args=(-machine virt -bios none -kernel "$HERE/build/$name.elf" -display none
      -serial stdio -monitor none -cpu rv32,f=off,d=off,h=off,sstc=off)
if [ "$name" = virtio ]; then
  # snapshot=on keeps the committed disk.img unchanged by the write test.
  args+=(-global virtio-mmio.force-legacy=false
         -drive "file=$HERE/virtio/disk.img,if=none,format=raw,id=hd0,snapshot=on"
         -device virtio-blk-device,drive=hd0)
fi
input="$HERE/expected/$name.in"
[ -f "$input" ] || input=/dev/null
timeout "${TIMEOUT:-20}" qemu-system-riscv32 "${args[@]}" "$@" < "$input"
