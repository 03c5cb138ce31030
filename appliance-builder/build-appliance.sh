#!/bin/bash
# Build ferry's appliance: a kernel and an initramfs whose /init is ferryd.
#
#   build-appliance.sh FERRYD OUTDIR
#
# Writes OUTDIR/vmlinux.zst, OUTDIR/initrd.zst, OUTDIR/kernel-version and
# OUTDIR/contents.txt (what the initramfs holds). Everything comes from
# Debian packages installed on this machine; nothing is downloaded.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
ferryd=${1:?usage: build-appliance.sh FERRYD OUTDIR}
out=${2:?usage: build-appliance.sh FERRYD OUTDIR}
mkdir -p "$out"
export SOURCE_DATE_EPOCH=0      # reproducible archive: fixed times

# ---- 1. kernel (cached by build-kernel.sh, keyed by source and config)
"$here/build-kernel.sh" "$out/kernel"
cp "$out/kernel/kernel-version" "$out/kernel-version"
if [ ! -f "$out/vmlinux.zst" ] || [ "$out/kernel/vmlinux" -nt "$out/vmlinux.zst" ]; then
    zstd -q -f -19 -T0 "$out/kernel/vmlinux" -o "$out/vmlinux.zst"
fi

# ---- 2. initramfs: ferryd as /init, and the helpers its operations run
# (GNU tar for tar-in/out, blkid to name filesystems, lvm for volume
# groups), each with the shared libraries it loads.
helpers="/usr/bin/tar /usr/sbin/blkid /usr/sbin/lvm"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

mkdir -p "$stage"/{proc,sys,dev,run,tmp,sysroot,etc/lvm,usr/bin,usr/sbin}
ln -s usr/bin "$stage/bin"
ln -s usr/sbin "$stage/sbin"
install -m 0755 "$ferryd" "$stage/init"

copy_with_libs() {
    local f=$1
    install -D -m 0755 "$f" "$stage$f"
    # ldd prints "name => /path (addr)" or "/lib64/ld-linux... (addr)"
    ldd "$f" | awk '/=> \// { print $3 } /^\t\// { print $1 }' | while read -r lib; do
        real=$(readlink -f "$lib")
        install -D -m 0755 "$real" "$stage$lib"
    done
}
for h in $helpers; do
    copy_with_libs "$h"
done

# lvm in a box of its own: no udev, no daemons, no backups written anywhere.
cat > "$stage/etc/lvm/lvm.conf" <<'EOF'
config { checks = 0 }
devices { obtain_device_list_from_udev = 0 external_device_info_source = "none" }
activation { udev_sync = 0 udev_rules = 0 monitoring = 0 }
global { use_lvmpolld = 0 event_activation = 0 }
backup { backup = 0 archive = 0 }
EOF

# ---- 3. archive: sorted, owned by root, fixed times; then zstd
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort > "$stage.list")
find "$stage" -exec touch -h -d @0 {} +
(cd "$stage" && cpio --quiet -o -H newc --reproducible --owner=0:0 < "$stage.list") > "$out/initrd.cpio"
rm -f "$stage.list"
zstd -q -f -19 -T0 "$out/initrd.cpio" -o "$out/initrd.zst"
(cd "$stage" && find . -type f -printf '%10s %p\n' | LC_ALL=C sort -k2) > "$out/contents.txt"
echo "appliance: kernel $(cat "$out/kernel-version"), initramfs $(stat -c %s "$out/initrd.cpio") bytes" \
     "($(stat -c %s "$out/initrd.zst") compressed)" >&2
rm -f "$out/initrd.cpio"
