#!/bin/bash
# emptyroot.sh: ferry needs nothing but itself and a Linux kernel. In a root
# that holds only ferry, /proc, /dev/null and /dev/urandom (and /dev/kvm
# where there is one) and the images, it lists, reads, downloads, uploads
# and names filesystems on a raw image, a qcow2 and a partitioned one.
# Needs root (chroot, mknod).
cd "$(dirname "$0")/.."
. tests/lib.sh

if [ "$(id -u)" != 0 ]; then
    echo "SKIP emptyroot: not root"
    finish
    exit 0
fi
img=build/test-images
tests/images.sh "$img"
root=$(mktemp -d "$PWD/build/emptyroot-XXXXXX")
trap 'umount "$root/proc" 2>/dev/null; rm -rf "$root"' EXIT
mkdir -p "$root/proc" "$root/dev" "$root/work"
cp "$FERRY" "$root/ferry"
mknod -m 666 "$root/dev/null" c 1 3
mknod -m 444 "$root/dev/urandom" c 1 9
[ -c /dev/kvm ] && mknod -m 660 "$root/dev/kvm" c 10 232
cp "$img/ext4.img" "$img/ext4.qcow2" "$img/gpt.img" "$root/work/"
echo "from outside" > "$root/work/up.txt"
mount -t proc proc "$root/proc"
inside() { timeout 300 chroot "$root" /ferry "$@"; }

expect empty_root_holds_only_that "/dev/null /dev/urandom /ferry /work/ext4.img /work/ext4.qcow2 /work/gpt.img /work/up.txt" \
    "$(cd "$root" && find . -path ./proc -prune -o -path ./dev/kvm -prune -o ! -type d -print | sed 's|^\.||' | sort | tr '\n' ' ' | sed 's/ $//')"
for i in ext4.img ext4.qcow2 gpt.img; do
    m=""
    [ $i = gpt.img ] && m="-m /dev/sda1"
    expect "ls_in_an_empty_root_$i" "link random.bin small.txt sparse.bin sub" \
        "$(inside $m ls /work/$i /data | tr '\n' ' ' | sed 's/ $//')"
    expect "cat_in_an_empty_root_$i" "small file" "$(inside $m cat /work/$i /data/small.txt)"
    inside $m download /work/$i /data/random.bin /work/random.$i
    expect "download_in_an_empty_root_$i" "0" "$?$(cmp -s "$root/work/random.$i" <(
        "$FERRY" $m cat "$img/$i" /data/random.bin) || echo ' differs')"
    inside $m --rw upload /work/$i /work/up.txt /up.txt
    expect "upload_in_an_empty_root_$i" "0 from outside" "$? $(inside $m cat /work/$i /up.txt)"
done
expect filesystems_in_an_empty_root "/dev/sda1 ext4 /dev/sda2 vfat" \
    "$(inside filesystems /work/gpt.img | awk '$2 == "partition" {printf "%s%s %s", sep, $1, $3; sep=" "}')"
finish
