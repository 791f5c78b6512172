#!/usr/bin/env bash
# Builds the Linux guest from source into .cache/linux/ (not committed):
#   Image       a 32-bit RISC-V kernel (Debian's linux-source, our small config)
#   initramfs.cpio  our userland: /init, /bin/sh and a few programs (guests/linux/user/)
#   disk.img    an ext2 file system for the virtio disk (mke2fs -d)
#   sbi-shim.bin    a tiny M-mode SBI for QEMU's -bios (Debian ships no 32-bit OpenSBI)
# Idempotent: each output is rebuilt only when its inputs changed.
# Usage: bash guests/linux/build.sh   (npm run build:linux)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="${REWIND_LINUX_DIR:-$ROOT/.cache/linux}"
JOBS="$(nproc 2>/dev/null || echo 2)"
mkdir -p "$OUT"

# ---- tools -------------------------------------------------------------------
need=()
command -v riscv64-linux-gnu-gcc >/dev/null || need+=(gcc-riscv64-linux-gnu)
command -v riscv64-unknown-elf-gcc >/dev/null || need+=(gcc-riscv64-unknown-elf)
command -v gcc >/dev/null || need+=(gcc)
command -v make >/dev/null || need+=(make)
command -v flex >/dev/null || need+=(flex)
command -v bison >/dev/null || need+=(bison)
command -v bc >/dev/null || need+=(bc)
command -v mke2fs >/dev/null || need+=(e2fsprogs)
command -v xz >/dev/null || need+=(xz-utils)
ls /usr/src/linux-source-6.1.tar.* >/dev/null 2>&1 || need+=(linux-source-6.1)
if [ ${#need[@]} -gt 0 ]; then
  echo "  APT   ${need[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: missing packages (${need[*]}); run as root or install them with apt-get" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# ---- kernel ------------------------------------------------------------------
TARBALL="$(ls /usr/src/linux-source-6.1.tar.* | head -n1)"
SRC="$OUT/linux-source-6.1"
KBUILD="$OUT/kbuild"
# A fixed build stamp makes the Image the same wherever it is built (so recordings replay anywhere).
KMAKE=(make -C "$SRC" O="$KBUILD" ARCH=riscv CROSS_COMPILE=riscv64-linux-gnu- -j"$JOBS"
       KBUILD_BUILD_TIMESTAMP="2026-01-01" KBUILD_BUILD_USER=rewind KBUILD_BUILD_HOST=rewind KBUILD_BUILD_VERSION=1)
if [ ! -f "$SRC/Makefile" ]; then
  echo "  TAR   $(basename "$TARBALL")"
  tar -C "$OUT" -xf "$TARBALL"
fi
CONFIG_STAMP="$KBUILD/.rewind-config"
if [ ! -f "$KBUILD/.config" ] || ! cmp -s "$HERE/kernel.config" "$CONFIG_STAMP"; then
  echo "  CONFIG tinyconfig + guests/linux/kernel.config"
  mkdir -p "$KBUILD"
  "${KMAKE[@]}" -s tinyconfig
  (cd "$KBUILD" && "$SRC/scripts/kconfig/merge_config.sh" -m -O "$KBUILD" "$KBUILD/.config" "$HERE/kernel.config" >/dev/null)
  "${KMAKE[@]}" -s olddefconfig
  # Every line of our fragment must have survived (a typo or a missing dependency shows here).
  grep -E '^(CONFIG_[A-Z0-9_]+=.*|# CONFIG_[A-Z0-9_]+ is not set)$' "$HERE/kernel.config" | while read -r line; do
    if ! grep -qxF "$line" "$KBUILD/.config"; then
      case "$line" in "# "*) grep -q "^${line:2:-11}=" "$KBUILD/.config" && echo "warning: kernel config: wanted '$line'" >&2 ;;
                      *) echo "warning: kernel config: '$line' did not take" >&2 ;; esac
    fi
  done
  cp "$HERE/kernel.config" "$CONFIG_STAMP"
fi
echo "  MAKE  Image"
"${KMAKE[@]}" -s Image
cp "$KBUILD/arch/riscv/boot/Image" "$OUT/Image.tmp" && mv "$OUT/Image.tmp" "$OUT/Image"

# ---- userland and initramfs ----------------------------------------------------
UCC=riscv64-unknown-elf-gcc
LIBGCC="$($UCC -march=rv32imac -mabi=ilp32 -print-libgcc-file-name)"
UCFLAGS=(-march=rv32imac_zicsr_zifencei -mabi=ilp32 -static -nostdlib -ffreestanding -fno-builtin
         -fno-tree-loop-distribute-patterns -fno-stack-protector -Os -s -Wall -Wextra -Wno-unused-parameter
         -I"$HERE/user" -Wl,--build-id=none -Wl,--no-warn-rwx-segments -Wl,-Ttext-segment=0x10000)
ROOTFS="$OUT/rootfs"
rm -rf "$ROOTFS"
mkdir -p "$ROOTFS"/{bin,dev,proc,sys,mnt,tmp}
for src in "$HERE"/user/*.c; do
  name="$(basename "$src" .c)"
  [ "$name" = lib ] && continue
  dest="$ROOTFS/bin/$name"
  [ "$name" = init ] && dest="$ROOTFS/init"
  "$UCC" "${UCFLAGS[@]}" -o "$dest" "$HERE/user/start.S" "$HERE/user/lib.c" "$src" "$LIBGCC"
done
mkdir -p "$ROOTFS/etc" && cp "$HERE/user/motd" "$ROOTFS/etc/motd"
# gen_init_cpio records the files' times: pin them so the archive is the same on every build.
find "$ROOTFS" -exec touch -h -d "@1767225600" {} +
echo "  USER  $(cd "$ROOTFS" && find . -type f | sort | tr '\n' ' ')"
GEN="$OUT/gen_init_cpio"
if [ ! -x "$GEN" ] || [ "$SRC/usr/gen_init_cpio.c" -nt "$GEN" ]; then
  gcc -O2 -o "$GEN" "$SRC/usr/gen_init_cpio.c"
fi
LIST="$OUT/initramfs.list"
{
  echo "dir /dev 0755 0 0"
  echo "nod /dev/console 0600 0 0 c 5 1"
  echo "nod /dev/null 0666 0 0 c 1 3"
  for d in bin proc sys mnt tmp; do echo "dir /$d 0755 0 0"; done
  echo "file /init $ROOTFS/init 0755 0 0"
  for f in "$ROOTFS"/bin/*; do echo "file /bin/$(basename "$f") $f 0755 0 0"; done
  echo "file /etc/motd $ROOTFS/etc/motd 0644 0 0"
} > "$LIST"
sed -i '1i dir /etc 0755 0 0' "$LIST"
"$GEN" -t 0 "$LIST" > "$OUT/initramfs.cpio.tmp"
mv "$OUT/initramfs.cpio.tmp" "$OUT/initramfs.cpio"
echo "  CPIO  initramfs.cpio ($(stat -c %s "$OUT/initramfs.cpio") bytes)"

# ---- disk ----------------------------------------------------------------------
DISKDIR="$OUT/diskfs"
rm -rf "$DISKDIR"
cp -r "$HERE/disk" "$DISKDIR"
rm -f "$OUT/disk.img"
# Fixed times, UUID and hash seed: the same image on every build.
STAMP=1767225600
find "$DISKDIR" -exec touch -h -d "@$STAMP" {} +
E2FSPROGS_FAKE_TIME=$STAMP mke2fs -q -t ext2 -b 1024 -L rewind -U 5245574e-4400-4000-8000-000000000001 \
  -E root_owner=0:0,hash_seed=5245574e-4400-4000-8000-000000000002 -d "$DISKDIR" -F "$OUT/disk.img" 2048 >/dev/null
# mke2fs 1.47.0 stamps some inodes with the current time: pin them.
(cd "$DISKDIR" && find . -mindepth 1 | sed 's|^\.||'; echo /; echo /lost+found) | while read -r path; do
  for field in atime ctime mtime; do echo "set_inode_field $path $field @$STAMP"; done
done > "$OUT/disk.debugfs"
debugfs -w -f "$OUT/disk.debugfs" "$OUT/disk.img" >/dev/null 2>&1
echo "  DISK  disk.img (ext2, 2 MiB)"

# ---- SBI shim for QEMU -------------------------------------------------------------
"$UCC" -march=rv32imac_zicsr_zifencei -mabi=ilp32 -nostdlib -ffreestanding -Os -Wall \
  -Wl,-Ttext=0x80000000 -Wl,--no-relax -Wl,--build-id=none -Wl,--no-warn-rwx-segments \
  -o "$OUT/sbi-shim.elf" "$HERE/sbi-shim/shim.S" "$HERE/sbi-shim/shim.c"
riscv64-unknown-elf-objcopy -O binary "$OUT/sbi-shim.elf" "$OUT/sbi-shim.bin"
echo "  SHIM  sbi-shim.bin"
echo "done: $OUT/{Image,initramfs.cpio,disk.img,sbi-shim.bin}"
