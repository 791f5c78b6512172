#!/usr/bin/env bash
# Boots the Linux guest built by build.sh (else the committed guests/linux/build/) on QEMU's virt machine, the reference
# Rewind is compared with: our SBI shim as -bios, the same kernel, initramfs and
# disk (a snapshot: QEMU does not write it). Extra arguments go to QEMU.
# Usage: bash guests/linux/qemu.sh [-append "CMDLINE"] ...     (quit with Ctrl-A X)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${REWIND_LINUX_DIR:-$HERE/../../.cache/linux}"
[ -f "$OUT/Image" ] || OUT="$HERE/build"   # no local build: the committed one
for f in Image initramfs.cpio disk.img sbi-shim.bin; do
  [ -f "$OUT/$f" ] || { echo "error: $OUT/$f is missing: run npm run build:linux" >&2; exit 1; }
done
APPEND="console=ttyS0 earlycon=sbi"
if [ "${1:-}" = "-append" ]; then APPEND="$2"; shift 2; fi
# QEMU 7.2 turns Sstc on by default; Linux would then program stimecmp, which our SBI does not expect.
exec qemu-system-riscv32 -machine virt -cpu rv32,sstc=off,f=off,d=off,h=off -m 64M -smp 1 \
  -bios "$OUT/sbi-shim.bin" -kernel "$OUT/Image" -initrd "$OUT/initramfs.cpio" -append "$APPEND" \
  -drive "file=$OUT/disk.img,if=none,format=raw,id=hd0,snapshot=on" -device virtio-blk-device,drive=hd0 \
  -nographic "$@"
