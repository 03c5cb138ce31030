#!/bin/bash
# images.sh DIR: make the disk images the tests and the demo use, with the
# real tools (mkfs.*, sgdisk, mtools, lvm, qemu-img) and no VM or mounts.
# They are remade only when this script changes.
set -euo pipefail
dir=${1:?usage: images.sh DIR}
mkdir -p "$dir"
key=$(sha256sum "$0" | cut -c1-16)
[ "$(cat "$dir/.key" 2>/dev/null)" = "$key" ] && exit 0
rm -rf "${dir:?}"/*
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SOURCE_DATE_EPOCH=1700000000 E2FSPROGS_FAKE_TIME=1700000000
quiet() { "$@" >/dev/null 2>&1 || { echo "images.sh: failed: $*" >&2; "$@"; }; }

# ---- a Linux root tree
root=$work/root
mkdir -p "$root/etc" "$root/data/sub" "$root/home/user" "$root/boot"
cat > "$root/etc/os-release" <<'EOF'
PRETTY_NAME="Ferry Test Linux 1.0"
NAME="Ferry Test Linux"
ID=ferrytest
VERSION_ID="1.0"
EOF
printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n' > "$root/etc/passwd"
echo "small file" > "$root/data/small.txt"
echo "deeper" > "$root/data/sub/deep.txt"
head -c 1048576 /dev/urandom > "$root/data/random.bin"
ln -s small.txt "$root/data/link"
truncate -s 20M "$root/data/sparse.bin" && printf 'end' >> "$root/data/sparse.bin"
chown -R 1000:1000 "$root/home/user"

# ---- ext4 on the bare device, and the same in every container format
truncate -s 64M "$dir/ext4.img"
quiet mkfs.ext4 -q -F -L rootfs -d "$root" "$dir/ext4.img"
for fmt in qcow2 vmdk vdi vhdx vpc; do
    quiet qemu-img convert -O "$fmt" "$dir/ext4.img" "$dir/ext4.$fmt"
done
# an empty qcow2 overlay whose backing file is ext4.img
(cd "$dir" && quiet qemu-img create -q -f qcow2 -b ext4.img -F raw overlay.qcow2)

# ---- GPT: ext4 root, FAT EFI partition
truncate -s 100M "$dir/gpt.img"
quiet sgdisk -n 1:1M:+60M -t 1:8300 -c 1:root -n 2:0:+30M -t 2:ef00 -c 2:EFI "$dir/gpt.img"
truncate -s 60M "$work/p1" && quiet mkfs.ext4 -q -F -L root -d "$root" "$work/p1"
truncate -s 30M "$work/p2" && quiet mkfs.vfat -n EFI "$work/p2"
mkdir -p "$work/efi/EFI/BOOT" && echo "efi stub" > "$work/efi/EFI/BOOT/readme.txt"
quiet mcopy -s -i "$work/p2" "$work/efi/EFI" ::/
dd if="$work/p1" of="$dir/gpt.img" bs=1M seek=1 conv=notrunc status=none
dd if="$work/p2" of="$dir/gpt.img" bs=1M seek=61 conv=notrunc status=none

# ---- an operating system: GPT with a Linux root whose fstab mounts the
# EFI partition (by UUID) at /boot/efi and a data partition (by LABEL)
os=$work/osroot
cp -a "$root" "$os"
mkdir -p "$os/boot/efi" "$os/srv" "$os/bin"
cp /bin/sh "$os/bin/sh"
echo ferryhost > "$os/etc/hostname"
cat > "$os/etc/fstab" <<'EOF'
# <file system>  <mount point>  <type>  <options>  <dump>  <pass>
UUID=1234-ABCD   /boot/efi      vfat    umask=0077 0 1
LABEL=srvdata    /srv           ext4    defaults   0 2
/dev/sdb1        /mnt/usb       ext4    defaults   0 2
proc             /proc          proc    defaults   0 0
EOF
truncate -s 120M "$dir/os.img"
quiet sgdisk -n 1:1M:+60M -t 1:8300 -n 2:0:+30M -t 2:ef00 -n 3:0:0 -t 3:8300 "$dir/os.img"
truncate -s 60M "$work/o1" && quiet mkfs.ext4 -q -F -L osroot -d "$os" "$work/o1"
truncate -s 30M "$work/o2" && quiet mkfs.vfat -i 1234ABCD -n ESP "$work/o2"
mkdir -p "$work/esp/EFI" && echo "esp" > "$work/esp/EFI/marker"
quiet mcopy -s -i "$work/o2" "$work/esp/EFI" ::/
mkdir -p "$work/srv" && echo "served" > "$work/srv/index.txt"
truncate -s 28M "$work/o3" && quiet mkfs.ext4 -q -F -L srvdata -d "$work/srv" "$work/o3"
dd if="$work/o1" of="$dir/os.img" bs=1M seek=1 conv=notrunc status=none
dd if="$work/o2" of="$dir/os.img" bs=1M seek=61 conv=notrunc status=none
dd if="$work/o3" of="$dir/os.img" bs=1M seek=91 conv=notrunc status=none

# ---- LVM: volume group vg0, logical volume data (ext4). This host may
# have no device-mapper: write the metadata only, then the filesystem at
# the first physical extent (1 MiB).
truncate -s 64M "$dir/lvm.img"
loop=$(losetup -f --show "$dir/lvm.img")
lvm_q() { quiet "$@" --config 'global { activation = 0 } devices { obtain_device_list_from_udev = 0 }'; }
lvm_q pvcreate -q "$loop"
lvm_q vgcreate -q vg0 "$loop"
lvm_q lvcreate -q -an -Zn -L 32M -n data vg0
losetup -d "$loop"
mkdir -p "$work/lv" && echo "in lvm" > "$work/lv/hello"
truncate -s 32M "$work/lv.ext4" && quiet mkfs.ext4 -q -F -d "$work/lv" "$work/lv.ext4"
dd if="$work/lv.ext4" of="$dir/lvm.img" bs=1M seek=1 conv=notrunc status=none

# ---- one image per filesystem, each holding /data of the same tree. Those
# whose mkfs cannot fill them are filled by ferry itself (copy-in).
ferry=${FERRY:-$(cd "$(dirname "$0")/.." && pwd)/build/ferry}
data=$work/fsdata
mkdir -p "$data/data/sub"
echo "small file" > "$data/data/small.txt"
echo "deeper" > "$data/data/sub/deep.txt"
fill() { quiet "$ferry" --rw copy-in "$1" "$data/data" /; }
truncate -s 64M "$dir/fs-ext2.img" && quiet mkfs.ext2 -q -F -d "$data" "$dir/fs-ext2.img"
truncate -s 64M "$dir/fs-ext3.img" && quiet mkfs.ext3 -q -F -d "$data" "$dir/fs-ext3.img"
truncate -s 320M "$dir/fs-xfs.img" && quiet mkfs.xfs -q "$dir/fs-xfs.img" && fill "$dir/fs-xfs.img"
truncate -s 128M "$dir/fs-btrfs.img" && quiet mkfs.btrfs -q --rootdir "$data" "$dir/fs-btrfs.img"
truncate -s 64M "$dir/fs-vfat.img" && quiet mkfs.vfat "$dir/fs-vfat.img" && fill "$dir/fs-vfat.img"
truncate -s 64M "$dir/fs-exfat.img" && quiet mkfs.exfat "$dir/fs-exfat.img" && fill "$dir/fs-exfat.img"
# ntfs3 (kernel 6.1) reads NTFS but cannot create files on a new mkntfs
# volume (ENOSPC): fill it on the host with ntfs-3g instead
truncate -s 64M "$dir/fs-ntfs.img" && quiet mkntfs -q -F -f "$dir/fs-ntfs.img"
loop=$(losetup -f --show "$dir/fs-ntfs.img") && mkdir -p "$work/ntfs" &&
    mount -t ntfs-3g "$loop" "$work/ntfs" && cp -r "$data/data" "$work/ntfs/" && umount "$work/ntfs"
losetup -d "$loop"
truncate -s 64M "$dir/fs-udf.img" && quiet mkudffs --media-type=hd "$dir/fs-udf.img" && fill "$dir/fs-udf.img"
quiet xorriso -as mkisofs -quiet -R -J -o "$dir/fs-iso9660.img" "$data"
quiet mksquashfs "$data" "$dir/fs-squashfs.img" -comp zstd -quiet -noappend -all-root
# hfsplus: Debian 12 has no mkfs.hfsplus, but xorriso writes an HFS+ tree
# into a hybrid ISO, as on Mac install media (mounted with -m ...:hfsplus).
quiet xorriso -as mkisofs -quiet -hfsplus -V MacVol -o "$dir/hfsplus-hybrid.img" "$data"
# The same volume on a GPT partition typed Apple HFS+, as on a Mac's disk:
# cut from where the hybrid's partition map puts it, with the copy of the
# volume header that Linux checks 1 KiB before the end of the partition.
python3 - "$dir/hfsplus-hybrid.img" "$work/hfs.vol" <<'EOF'
import struct, sys
iso = open(sys.argv[1], "rb").read()
bs = struct.unpack(">H", iso[2:4])[0]          # Apple driver map: block size
i = 1
while iso[i * bs:i * bs + 2] == b"PM":          # partition map entries
    e = iso[i * bs:(i + 1) * bs]
    if e[48:80].rstrip(b"\0") == b"Apple_HFS":
        vol = bytearray(iso[struct.unpack(">I", e[8:12])[0] * bs:])
        assert vol[1024:1026] == b"H+"
        vol += bytes(-len(vol) % 512 + 1024)
        vol[-1024:-512] = vol[1024:1536]
        open(sys.argv[2], "wb").write(vol)
    i += 1
EOF
sectors=$(( $(stat -c %s "$work/hfs.vol") / 512 ))
truncate -s $(( (sectors + 4096) * 512 )) "$dir/fs-hfsplus.img"
quiet sgdisk -n 1:2048:+$sectors -t 1:AF00 "$dir/fs-hfsplus.img"
dd if="$work/hfs.vol" of="$dir/fs-hfsplus.img" bs=512 seek=2048 conv=notrunc status=none
# a Windows-like disk: MBR, "System Reserved" and a system volume holding
# /Windows/System32 with SOFTWARE and SYSTEM hives, both NTFS (filled on
# the host by ntfs-3g). The hives hold what inspect reads; the control set
# in use is the second, the first has a stale name. (hivexregedit makes
# no parents: each key's parents come before it.)
python3 tests/mkhive.py "$work/SOFTWARE" && python3 tests/mkhive.py "$work/SYSTEM"
cat > "$work/software.reg" <<'EOF'
Windows Registry Editor Version 5.00

[\Microsoft]

[\Microsoft\Windows NT]

[\Microsoft\Windows NT\CurrentVersion]
"ProductName"="Windows 10 Pro"
"CurrentMajorVersionNumber"=dword:0000000a
"CurrentMinorVersionNumber"=dword:00000000
"CurrentVersion"="6.3"
"CurrentBuildNumber"="22631"
"DisplayVersion"="23H2"
EOF
cat > "$work/system.reg" <<'EOF'
Windows Registry Editor Version 5.00

[\Select]
"Current"=dword:00000002

[\ControlSet001]

[\ControlSet001\Control]

[\ControlSet001\Control\ComputerName]

[\ControlSet001\Control\ComputerName\ComputerName]
"ComputerName"="OLD-NAME"

[\ControlSet002]

[\ControlSet002\Control]

[\ControlSet002\Control\ComputerName]

[\ControlSet002\Control\ComputerName\ComputerName]
"ComputerName"="FERRY-WIN"

[\ControlSet002\Control\Session Manager]

[\ControlSet002\Control\Session Manager\Environment]
"PROCESSOR_ARCHITECTURE"="AMD64"
EOF
quiet hivexregedit --merge "$work/SOFTWARE" "$work/software.reg"
quiet hivexregedit --merge "$work/SYSTEM" "$work/system.reg"
truncate -s 100M "$dir/windows.img"
printf 'start=2048, size=40960, type=7\nstart=43008, size=159744, type=7\n' | quiet sfdisk -q "$dir/windows.img"
for p in 1:2048:40960:Reserved 2:43008:159744:Windows; do
    IFS=: read -r n start size label <<< "$p"
    loop=$(losetup -f --show -o $((start * 512)) --sizelimit $((size * 512)) "$dir/windows.img")
    quiet mkntfs -q -F -f -L "$label" "$loop"
    if [ "$n" = 2 ]; then
        mkdir -p "$work/win" && mount -t ntfs-3g "$loop" "$work/win" &&
            mkdir -p "$work/win/Windows/System32/config" "$work/win/Users/Public" &&
            cp "$work/SOFTWARE" "$work/SYSTEM" "$work/win/Windows/System32/config/" &&
            echo "public" > "$work/win/Users/Public/readme.txt" && umount "$work/win"
    fi
    losetup -d "$loop"
done

# ext4 in the first partition of an MBR disk
truncate -s 80M "$dir/mbr.img"
echo 'start=2048, size=100000, type=83' | quiet sfdisk -q "$dir/mbr.img"
truncate -s $((100000 * 512)) "$work/m1" && quiet mkfs.ext4 -q -F -d "$data" "$work/m1"
dd if="$work/m1" of="$dir/mbr.img" bs=512 seek=2048 conv=notrunc status=none

# ---- btrfs with subvolumes, as Fedora and openSUSE install it: the top
# level holds "root" and "home", and fstab mounts them with subvol=
truncate -s 128M "$dir/btrfs-subvol.img"
quiet mkfs.btrfs -q -f "$dir/btrfs-subvol.img"
mkdir -p "$work/bs"
mount -o loop "$dir/btrfs-subvol.img" "$work/bs"
quiet btrfs subvolume create "$work/bs/root"
quiet btrfs subvolume create "$work/bs/home"
cp -a "$root"/. "$work/bs/root/"
echo fedorahost > "$work/bs/root/etc/hostname"
mkdir -p "$work/bs/root/bin" "$work/bs/home/user" && cp /bin/sh "$work/bs/root/bin/sh"
echo "in home" > "$work/bs/home/user/note.txt"
uuid=$(blkid -s UUID -o value "$dir/btrfs-subvol.img")
printf 'UUID=%s / btrfs subvol=root,compress=zstd:1 0 0\nUUID=%s /home btrfs subvol=home 0 0\n' \
    "$uuid" "$uuid" > "$work/bs/root/etc/fstab"
umount "$work/bs"

# ---- hybrid ISOs, as installer and rescue images are made: an MBR on top of
# an ISO 9660 filesystem, its partition at sector 0 (isolinux's MBR), at
# sector 1 (a protective MBR), or holding a second copy (-partition_offset)
# (isolinux's MBR needs an El Torito boot image to patch). Each holds 2 MiB
# more, as real ones hold far more: blkid takes a partitioned disk of a
# floppy's size (1.44 MB) or less for a partitioned disk only.
head -c 2M /dev/zero > "$work/pad.bin"
pad="pad.bin=$work/pad.bin"
quiet xorriso -as mkisofs -quiet -R -J -isohybrid-mbr /usr/lib/ISOLINUX/isohdpfx.bin \
    -b isolinux/isolinux.bin -c isolinux/boot.cat -no-emul-boot -boot-load-size 4 \
    -boot-info-table -graft-points -o "$dir/iso-hybrid-mbr.img" "$data" \
    isolinux/isolinux.bin=/usr/lib/ISOLINUX/isolinux.bin "$pad"
quiet xorriso -as mkisofs -quiet -R -J --protective-msdos-label -graft-points \
    -o "$dir/iso-hybrid-protective.img" "$data" "$pad"
quiet xorriso -as mkisofs -quiet -R -J -partition_offset 16 -graft-points \
    -o "$dir/iso-hybrid-offset.img" "$data" "$pad"

echo "$key" > "$dir/.key"
