#!/bin/bash
# Build ferry's appliance: a kernel and an initramfs whose /init is ferryd.
#
#   build-appliance.sh FERRYD TAR OUTDIR
#
# Writes OUTDIR/vmlinux.zst, OUTDIR/initrd.zst, OUTDIR/kernel-version and
# OUTDIR/contents.txt (what the initramfs holds). TAR is the static GNU tar
# of build-tar.sh. Everything else comes from Debian packages installed on
# this machine; nothing is downloaded. Nothing is rebuilt when nothing that
# goes in changed (OUTDIR/.key).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
ferryd=${1:?usage: build-appliance.sh FERRYD TAR OUTDIR}
tar=${2:?usage: build-appliance.sh FERRYD TAR OUTDIR}
out=${3:?usage: build-appliance.sh FERRYD TAR OUTDIR}
mkdir -p "$out"
export SOURCE_DATE_EPOCH=0      # reproducible archive: fixed times

# The helpers ferryd runs from the initramfs (blkid to name filesystems, lvm
# for volume groups, cryptsetup for LUKS), each copied with the shared libraries it loads.
helpers="/usr/sbin/blkid /usr/sbin/lvm /usr/sbin/cryptsetup"
# Libraries loaded with dlopen, which ldd cannot see: glibc loads libgcc_s
# for pthread_exit, which libargon2's threads call (cryptsetup aborts without it).
dlopened="/lib/x86_64-linux-gnu/libgcc_s.so.1"
libs_of() { ldd "$1" | awk '/=> \// { print $3 } /^\t\// { print $1 }'; }

# ---- 1. kernel (cached by build-kernel.sh, keyed by source and config)
"$here/build-kernel.sh" "$out/kernel"
cp "$out/kernel/kernel-version" "$out/kernel-version"
if [ ! -f "$out/vmlinux.zst" ] || [ "$out/kernel/vmlinux" -nt "$out/vmlinux.zst" ]; then
    zstd -q -f -19 -T0 "$out/kernel/vmlinux" -o "$out/vmlinux.zst"
fi

# ---- key: everything that goes into the initramfs, host binaries included
tsklib=/usr/lib/x86_64-linux-gnu/libtsk.a
key=$( { cat "$ferryd" "$tar" "$0" "$here/tsk.c" "$tsklib"
         for h in $helpers; do cat "$h"; libs_of "$h" | xargs -r readlink -f | xargs -r cat; done
         cat $dlopened
       } | sha256sum | cut -c1-16)
if [ "$(cat "$out/.key" 2>/dev/null)" = "$key" ] && [ -f "$out/initrd.zst" ]; then
    exit 0
fi
rm -f "$out/.key"

# ---- 2. initramfs: ferryd as /init, the static tar, and the helpers
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

mkdir -p "$stage"/{proc,sys,dev,run,tmp,sysroot,etc/lvm,usr/bin,usr/sbin}
ln -s usr/bin "$stage/bin"
ln -s usr/sbin "$stage/sbin"
install -m 0755 "$ferryd" "$stage/init"
install -D -m 0755 "$tar" "$stage/usr/libexec/ferry/tar"
# the Sleuth Kit's helper (deleted files): Debian's libtsk.a, static, so
# none of the 30 MB of libraries Debian's fls and icat load come along
gcc -std=gnu11 -O2 -Wall -Wextra -Werror -c -o "$stage/tsk.o" "$here/tsk.c"
g++ -static -s -o "$stage/usr/libexec/ferry/tsk" "$stage/tsk.o" "$tsklib" -lz
rm "$stage/tsk.o"

copy_with_libs() {
    local f=$1
    install -D -m 0755 "$f" "$stage$f"
    # ldd prints "name => /path (addr)" or "/lib64/ld-linux... (addr)"
    libs_of "$f" | while read -r lib; do
        real=$(readlink -f "$lib")
        install -D -m 0755 "$real" "$stage$lib"
    done
}
for h in $helpers; do
    copy_with_libs "$h"
done
for lib in $dlopened; do
    install -D -m 0755 "$(readlink -f "$lib")" "$stage$lib"
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
echo "$key" > "$out/.key"
