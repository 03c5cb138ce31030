#!/bin/bash
# direct.sh: extent-direct reads. For a file of a read-only mount on a raw
# image, the appliance reports the file's extents and the host reads those
# bytes from the image itself. Every file here is read the default way (with
# -v, which names each file read directly) and with --no-direct: both must
# give the bytes the file was made with, and the default must have read the
# file directly where it lies plainly on a raw disk (ext4, xfs, NTFS,
# GPT and MBR partitions; qcow2, VMDK, VHDX through qemu's NBD export of
# the disk) and through the guest where it does not (btrfs, inline,
# compressed or resident data, an LVM volume, too many extents, a
# read-write mount). Files read directly are 1 MiB or more.
# Each image's whole tree is also read in one call (`timeline --hash`:
# read_tree, where files of any size go directly): every file's digest must
# be the host's, and the same with --no-direct.
#
# The images are made afresh each run, none holding over 128 MB (gpt.img is
# 4.1 GB, sparse):
#   ext4      mkfs.ext4 -d (holes stay holes), a file of 13 MiB in one
#             extent (more than three reads at once); unwritten extents with
#             debugfs (punch, then fallocate: the blocks come back with the
#             old bytes still in them, and an uninit flag), blocks allocated
#             past the end of a file, a size not a multiple of the block
#   ext4-1k   1 KiB blocks: a file of 300 extents (more than one FIEMAP
#             batch of the appliance) and one of 17000 (over the 16384 a
#             reply may hold: it goes through the guest)
#   inline    mkfs.ext4 -O inline_data: a small file kept in its inode
#   xfs       loop mount (reflink=1 is mkfs.xfs's default): a zero-range
#             unwritten extent, with random bytes written into its blocks
#             after the unmount; a reflinked copy, then 64 KiB of the copy
#             rewritten (copy on write: shared and own extents)
#   btrfs     loop mount: plain, zstd-compressed (compress-force), inline
#             and reflinked files; all must go through the guest
#   vfat      FAT32 by mtools, a file in two fragments (the free-cluster
#             hint in FSInfo reset, so mtools fills a freed gap first)
#   ntfs      ntfs-3g mount: a plain, a sparse, a resident and a compressed
#             file (a directory marked compressed), and one whose valid
#             data length (initialized size) is patched to half its size:
#             the rest reads as zeros though its clusters hold random bytes
#   gpt       ext4 on partition 1, FAT16 on partition 2 at an odd sector,
#             ext4 on partition 3 past 4 GiB (the image is sparse)
#   mbr       ext4 on a logical partition (sda5) in an extended one
#   lvm       ext4 on an LVM volume (metadata by lvm, activation=0)
#   qcow2     the ext4 image converted (also to VMDK and VHDX), and an
#             overlay of it (the file's first MiB rewritten in the overlay)
# Could not be made: an ext4 inline file or an NTFS resident file of 1 MiB
# (inline data lives in the inode, a few KiB at most), so those two fall
# under the size below which nothing is read directly as well; btrfs
# compressed data cannot be told from btrfs itself (btrfs never goes
# directly); no fscrypt-encrypted file (the guest has no key).
# FAT: Linux's vfat has no FIEMAP (the appliance's 6.1 kernel: no .fiemap in
# fat_file_inode_operations), so FAT files go through the guest; if FAT is
# ever mapped another way (FIBMAP: 0 is no hole there but an error), its
# checks here become "direct" and the short-chain check starts to bite.
# Needs root: loop mounts on the host. (long file: one matrix of checks
# over images made once, which take most of its time to make)
cd "$(dirname "$0")/.."
. tests/lib.sh

if [ "$(id -u)" != 0 ]; then
    echo "SKIP direct: not root (loop mounts)"
    finish
    exit 0
fi
work=$(realpath "$(mktemp -d "$PWD/build/direct-XXXXXX")")
cleanup() {
    for m in $(awk -v t="$work/" 'index($2, t) == 1 {print $2}' /proc/mounts | sort -r); do
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
    done
    if [ -n "$FERRY_SESSION" ]; then "$FERRY" session stop >/dev/null 2>&1; fi
    losetup -j "$work/lvm.img" -O NAME -n 2>/dev/null | xargs -r -n1 losetup -d 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
unset FERRY_SESSION
export SOURCE_DATE_EPOCH=1700000000 E2FSPROGS_FAKE_TIME=1700000000
quiet() { "$@" >/dev/null 2>&1 || { echo "direct.sh: failed: $*" >&2; "$@"; false; }; }
sha() { sha256sum <"$1" | cut -c1-64; }
M=1048576
python=/usr/bin/python3 # not a version manager's shim: 0.6 s a start
[ -x "$python" ] || python=python3

# files DIR SPEC...: files with holes, made on the host.
# SPEC is NAME:SIZE:OFFSET+LENGTH,... (random bytes at each range, the rest
# a hole), or NAME:frag:COUNT (1 KiB of data every 2 KiB, COUNT times).
files() {
    $python - "$@" <<'EOF'
import os, sys
d = sys.argv[1]
for spec in sys.argv[2:]:
    name, size, ranges = spec.split(":")
    path = os.path.join(d, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        if size == "frag":
            for i in range(int(ranges)):
                f.seek(2048 * i)
                f.write(os.urandom(1024))
            continue
        for r in ranges.split(","):
            off, length = (int(x) for x in r.split("+"))
            f.seek(off)
            f.write(os.urandom(length))
        f.truncate(int(size))
EOF
}
# zero FILE OFFSET LENGTH: what an unwritten range reads as
zero() {
    dd if=/dev/zero of="$1" bs=65536 seek="$2" count="$3" iflag=count_bytes oflag=seek_bytes \
        conv=notrunc status=none
}
# scribble IMAGE OFFSET LENGTH: random bytes into blocks no file shows
scribble() {
    if [ "$3" -gt 0 ] && [ $(($2 + $3)) -le "$(stat -c %s "$1")" ]; then
        head -c "$3" /dev/urandom |
            dd of="$1" bs=65536 seek="$2" oflag=seek_bytes conv=notrunc status=none
    else
        echo "direct.sh: $1: no extent at $2 for $3 bytes" >&2
    fi
}
# unwritten FILE...: "OFFSET LENGTH" in bytes on its device of each unwritten
# extent of files on a mounted filesystem (filefrag counts in blocks)
unwritten() {
    filefrag -v "$@" | awk '/blocks of/ { bs = $(NF-1) }
        $1 ~ /^[0-9]+:$/ && $NF ~ /unwritten/ { split($4, p, "\\."); print p[1] * bs, ($6 + 0) * bs }'
}

# ---- ext4: holes, unwritten extents, blocks past the end, an odd size
W=$work/want
files "$W/ext4" plain.bin:$((2 * M)):0+$((2 * M)) \
    sparse.bin:$((22 * M)):0+$M,$((21 * M))+$M \
    tailhole.bin:$((4 * M)):0+$M \
    odd.bin:$((M + 123)):0+$((M + 123)) \
    beyond.bin:$((M + 123)):0+$((M + 123)) \
    unwritten.bin:$((3 * M)):0+$((3 * M)) \
    big.bin:$((13 * M + 5)):0+$((13 * M + 5))
truncate -s 64M "$work/ext4.img"
quiet mkfs.ext4 -q -F -b 4096 -d "$W/ext4" "$work/ext4.img"
debugfs -w -f - "$work/ext4.img" >/dev/null 2>&1 <<'EOF'
punch /unwritten.bin 256 511
fallocate /unwritten.bin 256 511
fallocate /beyond.bin 257 511
EOF
zero "$W/ext4/unwritten.bin" $M $M
# the blocks debugfs gave back hold the old bytes still; make sure of it
# for every unwritten extent: only the flag makes them zeros
for f in /unwritten.bin /beyond.bin; do
    debugfs -R "ex $f" "$work/ext4.img" 2>/dev/null |
        awk '/Uninit$/ { print $(NF-4) * 4096, $(NF-1) * 4096 }' |
        while read -r off len; do scribble "$work/ext4.img" "$off" "$len"; done
done
quiet qemu-img convert -O qcow2 "$work/ext4.img" "$work/ext4.qcow2"

# ---- ext4 with 1 KiB blocks: many extents
files "$W/ext4-1k" frag300.bin:frag:300 frag17k.bin:frag:17000
truncate -s 64M "$work/ext4-1k.img"
quiet mkfs.ext4 -q -F -b 1024 -d "$W/ext4-1k" "$work/ext4-1k.img"

# ---- ext4 with inline data
files "$W/inline" big.bin:$M:0+$M
echo "a file small enough to live in its inode" >"$W/inline/tiny.txt"
truncate -s 32M "$work/inline.img"
quiet mkfs.ext4 -q -F -O inline_data -d "$W/inline" "$work/inline.img"

# ---- xfs: unwritten extents with stale bytes in them, reflinks. Smaller
# than mkfs.xfs allows (300 MB) but for fstests' variables.
files "$W/xfs" plain.bin:$((2 * M)):0+$((2 * M)) \
    sparse.bin:$((22 * M)):0+$M,$((21 * M))+$M \
    unwritten.bin:$((3 * M)):0+$((3 * M)) \
    refl-a.bin:$((3 * M)):0+$((3 * M))
files "$work" cow.bin:65536:0+65536
truncate -s 96M "$work/xfs.img"
TEST_DIR=1 TEST_DEV=1 QA_CHECK_FS=1 quiet mkfs.xfs -q -f -m reflink=1 "$work/xfs.img"
mkdir -p "$work/mnt"
if mount -o loop "$work/xfs.img" "$work/mnt"; then
    cp "$W/xfs"/*.bin "$work/mnt/"
    fallocate -z -o $M -l $M "$work/mnt/unwritten.bin"
    zero "$W/xfs/unwritten.bin" $M $M
    cp --reflink=always "$work/mnt/refl-a.bin" "$work/mnt/refl-b.bin"
    cp "$W/xfs/refl-a.bin" "$W/xfs/refl-b.bin"
    for f in "$work/mnt/refl-b.bin" "$W/xfs/refl-b.bin"; do
        dd if="$work/cow.bin" of="$f" bs=65536 seek=8 conv=notrunc status=none
    done
    sync
    unwritten "$work/mnt/unwritten.bin" "$work/mnt/sparse.bin" >"$work/xfs.unwritten"
    umount "$work/mnt"
    while read -r off len; do scribble "$work/xfs.img" "$off" "$len"; done <"$work/xfs.unwritten"
else
    fail xfs_image "loop mount failed"
fi

# ---- btrfs: plain, compressed, inline, reflinked: all through the guest
files "$W/btrfs" plain.bin:$((2 * M)):0+$((2 * M))
echo "inline in the btree" >"$W/btrfs/tiny.txt"
yes "a line that compresses well, over and over" | head -c $((2 * M)) >"$W/btrfs/comp.bin"
cp "$W/btrfs/plain.bin" "$W/btrfs/refl.bin"
truncate -s 128M "$work/btrfs.img"
quiet mkfs.btrfs -q -f "$work/btrfs.img"
if mount -o loop "$work/btrfs.img" "$work/mnt"; then
    cp "$W/btrfs/plain.bin" "$W/btrfs/tiny.txt" "$work/mnt/"
    cp --reflink=always "$work/mnt/plain.bin" "$work/mnt/refl.bin"
    umount "$work/mnt"
else
    fail btrfs_image "loop mount failed"
fi
if mount -o loop,compress-force=zstd "$work/btrfs.img" "$work/mnt"; then
    cp "$W/btrfs/comp.bin" "$work/mnt/"
    umount "$work/mnt"
fi

# ---- vfat (FAT32, mtools): a file in two fragments
files "$W/vfat" plain.bin:$M:0+$M frag.bin:$((3 * M)):0+$((3 * M))
files "$work" gap.bin:$M:0+$M
truncate -s 64M "$work/vfat.img"
quiet mkfs.vfat -F 32 "$work/vfat.img"
quiet mcopy -i "$work/vfat.img" "$W/vfat/plain.bin" "$work/gap.bin" ::/
quiet mcopy -i "$work/vfat.img" "$W/vfat/plain.bin" ::/after.bin
quiet mdel -i "$work/vfat.img" ::/gap.bin
# FSInfo's next-free hint (offset 492 of sector 1) unknown: mtools starts
# from the first cluster and fills the gap before going past after.bin
printf '\377\377\377\377' | dd of="$work/vfat.img" bs=1 seek=$((512 + 492)) conv=notrunc status=none
quiet mcopy -i "$work/vfat.img" "$W/vfat/frag.bin" ::/
cp "$W/vfat/plain.bin" "$W/vfat/after.bin"

# ---- NTFS (ntfs-3g): plain, sparse, resident, compressed, a valid data
# length short of the size
files "$W/ntfs" plain.bin:$((2 * M)):0+$((2 * M)) \
    sparse.bin:$((22 * M)):0+$M,$((21 * M))+$M \
    valid.bin:$((2 * M)):0+$((2 * M))
echo "resident in its MFT record" >"$W/ntfs/res.txt"
mkdir -p "$W/ntfs/packed"
yes "a line that compresses well, over and over" | head -c $((2 * M)) >"$W/ntfs/packed/comp.txt"
truncate -s 64M "$work/ntfs.img"
quiet mkntfs -q -F -f "$work/ntfs.img"
if mount -t ntfs-3g -o loop "$work/ntfs.img" "$work/mnt"; then
    cp "$W/ntfs/plain.bin" "$W/ntfs/valid.bin" "$W/ntfs/res.txt" "$work/mnt/"
    cp --sparse=always "$W/ntfs/sparse.bin" "$work/mnt/"
    mkdir "$work/mnt/packed"
    # FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_COMPRESSED: new files in it
    # are compressed
    # (without it the file is plain, and read directly, rightly: say so)
    setfattr -n system.ntfs_attrib_be -v 0x00000810 "$work/mnt/packed" ||
        fail ntfs_compressed_image "setfattr could not mark the directory compressed"
    cp "$W/ntfs/packed/comp.txt" "$work/mnt/packed/"
    umount "$work/mnt"
else
    fail ntfs_image "ntfs-3g mount failed"
fi
# ntfs_data IMAGE NAME WHAT N: change the unnamed $DATA attribute of the
# file NAME of an NTFS image: "valid": its initialized size (valid data
# length) to N bytes; "runs": its first run and the attribute to end after
# N clusters, its sizes left as they were
ntfs_data() {
    $python - "$@" <<'EOF'
import struct, sys
path, want, what, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
img = bytearray(open(path, "rb").read())
done = 0
def put(o, at, value, size):
    assert at % 512 + size <= 510, "the field meets a fixup"
    img[o + at:o + at + size] = value.to_bytes(size, "little")
for o in range(0, len(img), 1024):
    if img[o:o + 4] != b"FILE" or not struct.unpack_from("<H", img, o + 22)[0] & 1:
        continue
    usa, count = struct.unpack_from("<HH", img, o + 4)
    rec = bytearray(img[o:o + 1024])
    for i in range(1, count):   # undo the fixups to read the record
        rec[i * 512 - 2:i * 512] = img[o + usa + 2 * i:o + usa + 2 * i + 2]
    a, name, data = struct.unpack_from("<H", rec, 20)[0], None, None
    while a + 8 <= 1024:
        t, ln = struct.unpack_from("<II", rec, a)
        if t == 0xFFFFFFFF or ln == 0:
            break
        if t == 0x30:
            v = a + struct.unpack_from("<H", rec, a + 20)[0]
            name = rec[v + 66:v + 66 + 2 * rec[v + 64]].decode("utf-16-le")
        if t == 0x80 and rec[a + 8] == 1 and rec[a + 9] == 0:
            data = a
        a += ln
    if name != want or data is None:
        continue
    if what == "valid":
        assert struct.unpack_from("<Q", rec, data + 0x30)[0] > n
        put(o, data + 0x38, n, 8)
    else:
        runs = data + struct.unpack_from("<H", rec, data + 0x20)[0]
        assert int.from_bytes(rec[runs + 1:runs + 1 + (rec[runs] & 15)], "little") > n
        put(o, runs + 1, n, rec[runs] & 15)
        put(o, data + 0x18, n - 1, 8)   # the last VCN
    done += 1
assert done == 1, done
open(path, "r+b").write(img)
EOF
}
# valid.bin's initialized size: 1 MiB of its 2 MiB; its clusters keep the
# random bytes written there
ntfs_data "$work/ntfs.img" valid.bin valid $M
zero "$W/ntfs/valid.bin" $M $M

# ---- GPT: ext4 on partition 1, FAT16 on partition 2 at an odd sector,
# ext4 on partition 3 past 4 GiB (and an odd sector): a sparse image of 4.1 GB
files "$W/gpt1" plain.bin:$((2 * M)):0+$((2 * M)) sparse.bin:$((22 * M)):0+$M,$((21 * M))+$M
files "$W/gpt2" plain.bin:$((2 * M)):0+$((2 * M))
files "$W/gpt3" plain.bin:$((2 * M)):0+$((2 * M))
truncate -s 4200M "$work/gpt.img"
quiet sgdisk -n 1:2048:+60M -t 1:8300 -a 1 -n 2:124931:+30M -t 2:0700 \
    -n 3:8388609:+40M -t 3:8300 "$work/gpt.img"
truncate -s 60M "$work/p1" && quiet mkfs.ext4 -q -F -b 4096 -d "$W/gpt1" "$work/p1"
truncate -s 30M "$work/p2" && quiet mkfs.vfat -F 16 "$work/p2" &&
    quiet mcopy -i "$work/p2" "$W/gpt2/plain.bin" ::/
truncate -s 40M "$work/p3" && quiet mkfs.ext4 -q -F -b 4096 -d "$W/gpt3" "$work/p3"
for p in 1:2048 2:124931 3:8388609; do
    dd if="$work/p${p%:*}" of="$work/gpt.img" bs=1M seek=$((${p#*:} * 512)) oflag=seek_bytes \
        conv=notrunc,sparse status=none
done
rm -f "$work/p1" "$work/p2" "$work/p3"

# ---- MBR: ext4 on a logical partition (sda5) inside an extended one
files "$W/mbr5" plain.bin:$((2 * M)):0+$((2 * M))
truncate -s 64M "$work/mbr.img"
printf '%s\n' 'label: dos' 'start=2048, size=20480, type=83' 'start=24576, size=106496, type=5' \
    'start=26625, size=65536, type=83' | quiet sfdisk -q "$work/mbr.img"
truncate -s 32M "$work/p5" && quiet mkfs.ext4 -q -F -b 4096 -d "$W/mbr5" "$work/p5"
dd if="$work/p5" of="$work/mbr.img" bs=1M seek=$((26625 * 512)) oflag=seek_bytes \
    conv=notrunc,sparse status=none
rm -f "$work/p5"

# ---- LVM: ext4 on volume vgdirect/data (as tests/images.sh makes vg0)
files "$W/lvm" plain.bin:$((2 * M)):0+$((2 * M))
truncate -s 64M "$work/lvm.img"
if loop=$(losetup -f --show "$work/lvm.img"); then
    lvm_q() {
        quiet "$@" --config 'global { activation = 0 } devices { obtain_device_list_from_udev = 0 }'
    }
    lvm_q pvcreate -q "$loop"
    lvm_q vgcreate -q vgdirect "$loop"
    lvm_q lvcreate -q -an -Zn -L 32M -n data vgdirect
    losetup -d "$loop"
fi
truncate -s 32M "$work/lv.ext4" && quiet mkfs.ext4 -q -F -d "$W/lvm" "$work/lv.ext4"
dd if="$work/lv.ext4" of="$work/lvm.img" bs=1M seek=1 conv=notrunc,sparse status=none
rm -f "$work/lv.ext4"

# ---- the checks
opts=() # ferry's options for the image at hand (a partition to mount)
ran() { # ran OUT ERR ARGS...: ferry with opts, its status
    local out=$1 err=$2
    shift 2
    "$FERRY" "${opts[@]}" "$@" >"$out" 2>"$err" && echo 0 || echo $?
}
directly() { grep -c 'read directly from the image' "$1"; }
# one OPTIONS... ARGS: one run of ferry with -v: its status, the digest of
# what it wrote and how many files it read directly
one() {
    local s
    s=$(ran "$work/d.out" "$work/d.err" -v "$@")
    echo "$s $(sha "$work/d.out") $(directly "$work/d.err")"
}

# same NAME HOW IMAGE PATH [WANT]: `ferry cat` gives WANT's bytes (default:
# $W/<image's name>PATH; none: the guest's) with and without --no-direct,
# and the default read the file the way HOW says: direct, guest or any
same() {
    local name=$1 how=$2 image=$3 path=$4 want=${5-$W/$(basename "${3%.*}")$4}
    local ds gs ref path_taken
    ds=$(ran "$work/d.out" "$work/d.err" -v cat "$image" "$path")
    gs=$(ran "$work/g.out" "$work/g.err" -v --no-direct cat "$image" "$path")
    if [ -n "$want" ]; then ref=$(sha "$want"); else ref=$(sha "$work/g.out"); fi
    expect "${name}_bytes" "0 $ref 0 $ref" "$ds $(sha "$work/d.out") $gs $(sha "$work/g.out")"
    case "$(directly "$work/d.err") $(directly "$work/g.err")" in
        "1 0") path_taken=direct ;;
        "0 0") path_taken=guest ;;
        *) path_taken="$(directly "$work/d.err") times, $(directly "$work/g.err") with --no-direct" ;;
    esac
    if [ "$how" = any ]; then
        case $path_taken in
            direct | guest) pass "${name}_one_way" ;;
            *) fail "${name}_one_way" "$path_taken" ;;
        esac
    else
        expect "${name}_${how}" "$how" "$path_taken"
    fi
}

# sums NAME N IMAGE PATH...: `ferry checksum` prints the wanted digests with
# and without --no-direct, N files read directly
sums() {
    local name=$1 n=$2 image=$3 want="" ds gs p
    shift 3
    for p in "$@"; do want+="$(sha "$W/$(basename "${image%.*}")$p")  $p"$'\n'; done
    ds=$(ran "$work/d.out" "$work/d.err" -v checksum "$image" "$@")
    gs=$(ran "$work/g.out" "$work/g.err" --no-direct checksum "$image" "$@")
    expect "${name}_checksum" "0 ${want}0 $want" \
        "$ds $(cat "$work/d.out")"$'\n'"$gs $(cat "$work/g.out")"$'\n'
    expect "${name}_checksum_read_directly" "$n" "$(directly "$work/d.err")"
}

# get NAME IMAGE PATH: `ferry download` writes the wanted bytes, read
# directly, as --no-direct does
get() {
    local name=$1 image=$2 path=$3 want ds gs
    want=$W/$(basename "${image%.*}")$path
    ds=$(ran "$work/d.out" "$work/d.err" -v download "$image" "$path" "$work/d.file")
    gs=$(ran "$work/g.out" "$work/g.err" --no-direct download "$image" "$path" "$work/g.file")
    expect "${name}_download" "0 $(sha "$want") 0 $(sha "$want") 1" \
        "$ds $(sha "$work/d.file" 2>&1) $gs $(sha "$work/g.file" 2>&1) $(directly "$work/d.err")"
    rm -f "$work/d.file" "$work/g.file"
}

# tree NAME HOW IMAGE [DIR]: `ferry timeline --hash` (the tree read in one
# call: small files inline, others as extents or chunks) gives every file
# of DIR (default: $W/<image's name>) its digest, the same with and
# without --no-direct, reading files directly (HOW: direct) or not (guest)
tree() {
    local name=$1 how=$2 image=$3 dir=${4-$W/$(basename "${3%.*}")}
    local ds gs want got n
    ds=$(ran "$work/d.out" "$work/d.err" -v timeline --hash sha256 "$image")
    gs=$(ran "$work/g.out" "$work/g.err" --no-direct timeline --hash sha256 "$image")
    want=$(cd "$dir" && find . -type f -printf '%P\n' | sort | while read -r f; do
        echo "$(sha "$f")|/$f"; done)
    got=$(awk -F'|' '$1 != "0" {print $1 "|" $2}' "$work/d.out" | sort -t'|' -k2)
    expect "${name}_tree_digests" "0 $want" "$ds $got"
    expect "${name}_tree_same_without_direct" "0 same" \
        "$gs $(cmp -s "$work/d.out" "$work/g.out" && echo same || echo differs)"
    n=$(directly "$work/d.err")
    case "$how $n" in
        "direct 0" | guest\ [1-9]*) fail "${name}_tree_${how}" "$n files read directly" ;;
        *) pass "${name}_tree_${how}" ;;
    esac
}

# archive NAME IMAGE [DIR [DENSE]]: `ferry tar-out IMAGE / -` unpacked by
# GNU tar holds every file of DIR (default: $W/<image's name>) byte for
# byte, with and without --no-direct, and sparse.bin (if DIR has it) stays
# sparse (DENSE: not through the guest, whose filesystem driver finds no
# holes: ntfs3 has no SEEK_HOLE)
archive() {
    local name=$1 image=$2 dir=${3:-$W/$(basename "${2%.*}")} dense=$4 how bad sparse status
    local -a no
    for how in direct guest; do
        rm -rf "$work/x" && mkdir "$work/x"
        no=()
        [ $how = guest ] && no=(--no-direct)
        "$FERRY" "${opts[@]}" "${no[@]}" tar-out "$image" / - 2>"$work/t.err" | tar -xf - -C "$work/x"
        status="${PIPESTATUS[*]}"
        bad=$(cd "$dir" && find . -type f | while read -r f; do
            cmp -s "$f" "$work/x/$f" || echo "$f"; done)
        sparse=ok
        if [ -f "$dir/sparse.bin" ] && { [ $how = direct ] || [ -z "$dense" ]; } &&
           [ "$(du -k "$work/x/sparse.bin" | cut -f1)" -gt $(($(du -k "$dir/sparse.bin" | cut -f1) + 64)) ]; then
            sparse="sparse.bin not sparse: $(du -k "$work/x/sparse.bin" | cut -f1) KiB"
        fi
        expect "${name}_archive_${how}" "0 0 | ok" "$status $bad| $sparse"
    done
}

img=$work/ext4.img
same ext4_plain direct "$img" /plain.bin
same ext4_sparse direct "$img" /sparse.bin
same ext4_hole_at_end direct "$img" /tailhole.bin
same ext4_odd_size direct "$img" /odd.bin
same ext4_blocks_past_end direct "$img" /beyond.bin
same ext4_unwritten direct "$img" /unwritten.bin
sums ext4 6 "$img" /plain.bin /sparse.bin /tailhole.bin /odd.bin /beyond.bin /unwritten.bin
get ext4_sparse "$img" /sparse.bin
# the bytes go by the kernel where they can (copy_file_range into a file,
# splice into a pipe) and through ferry where not (a file open for appending)
"$FERRY" cat "$img" /plain.bin | cat > "$work/piped"
expect direct_into_a_pipe "0 $(sha "$W/ext4/plain.bin")" "${PIPESTATUS[0]} $(sha "$work/piped")"
printf 'head' > "$work/appended"
"$FERRY" cat "$img" /plain.bin >> "$work/appended"
status=$? # (the expected text's $(...) would reset $?)
expect direct_appended_to_a_file "0 $( (printf head; cat "$W/ext4/plain.bin") | sha256sum | cut -c1-64)" \
    "$status $(sha "$work/appended")"
"$FERRY" cat "$img" /plain.bin | head -c 100 > "$work/head"
expect direct_reader_gone_is_141 "141 $(head -c 100 "$W/ext4/plain.bin" | sha256sum | cut -c1-64)" \
    "${PIPESTATUS[0]} $(sha "$work/head")"
rm -f "$work/piped" "$work/appended" "$work/head"
# the image failing a read on the host (EIO injected by strace into ferry's
# own calls, not qemu's): what reads again reads right, block by block as
# the guest reads; what does not is named at its offset, or zeros with
# --zero-unreadable. nth: the pread that reads plain.bin's 2 MiB at once
strace -o "$work/st" -e trace=pread64 "$FERRY" cat "$img" /plain.bin >>/dev/null 2>&1
nth=$(grep -n ', 2097152, ' "$work/st" | head -1 | cut -d: -f1)
inject() { strace -o /dev/null -e trace=pread64,splice,copy_file_range "$@"; }
inject -e inject=splice:error=EIO:when=3 "$FERRY" cat "$img" /plain.bin | cat > "$work/piped"
expect direct_splice_eio_read_again "0 $(sha "$W/ext4/plain.bin")" "${PIPESTATUS[0]} $(sha "$work/piped")"
: > "$work/appended" # appending: read by ferry, not the kernel
inject -e inject=pread64:error=EIO:when=$nth "$FERRY" cat "$img" /plain.bin >> "$work/appended"
status=$?
expect direct_eio_read_again_in_blocks "0 $(sha "$W/ext4/plain.bin")" "$status $(sha "$work/appended")"
: > "$work/appended"
inject -e inject=pread64:error=EIO:when=$nth..$((nth + 1)) "$FERRY" cat "$img" /plain.bin \
    >> "$work/appended" 2>"$work/err"
expect direct_unreadable_block_named "1 ferry: cat: /plain.bin: I/O error at offset 0 0" \
    "$? $(cat "$work/err") $(stat -c %s "$work/appended")"
rm -f "$work/zeroed"
inject -e inject=copy_file_range:error=EIO:when=1 -e inject=pread64:error=EIO:when=$nth..$((nth + 1)) \
    "$FERRY" download --zero-unreadable "$img" /plain.bin "$work/zeroed" 2>"$work/err"
status=$?
expect direct_unreadable_block_zeroed \
    "3 ferry: download: /plain.bin: unreadable: 4096 bytes at offset 0, written as zeros $( (
        head -c 4096 /dev/zero; tail -c +4097 "$W/ext4/plain.bin") | sha256sum | cut -c1-64)" \
    "$status $(cat "$work/err") $(sha "$work/zeroed")"
rm -f "$work/piped" "$work/appended" "$work/zeroed"
get ext4_unwritten "$img" /unwritten.bin
tree ext4 direct "$img"
archive ext4 "$img"

img=$work/ext4-1k.img
same ext4_300_extents direct "$img" /frag300.bin
same ext4_17000_extents guest "$img" /frag17k.bin
tree ext4_1k direct "$img"

img=$work/inline.img
same ext4_inline guest "$img" /tiny.txt
same ext4_beside_inline direct "$img" /big.bin
tree ext4_inline direct "$img"

# images that are not raw: qemu exports their disks (NBD) and the host
# reads the extents there
img=$work/ext4.qcow2
same qcow2_plain direct "$img" /plain.bin "$W/ext4/plain.bin"
# pieces of 1 MiB, two asked for at a time: the export's answers in order
same qcow2_big direct "$img" /big.bin "$W/ext4/big.bin"
same qcow2_sparse direct "$img" /sparse.bin "$W/ext4/sparse.bin"
same qcow2_hole_at_end direct "$img" /tailhole.bin "$W/ext4/tailhole.bin"
same qcow2_unwritten direct "$img" /unwritten.bin "$W/ext4/unwritten.bin"
ds=$(ran "$work/d.out" "$work/d.err" -v checksum "$img" /plain.bin /sparse.bin /beyond.bin)
expect qcow2_checksum_through_export \
    "0 $(sha "$W/ext4/plain.bin") $(sha "$W/ext4/sparse.bin") $(sha "$W/ext4/beyond.bin") 3" \
    "$ds $(cut -c1-64 "$work/d.out" | tr '\n' ' ')$(grep -c "(qemu's export)" "$work/d.err")"
tree qcow2 direct "$img" "$W/ext4"
archive qcow2 "$img" "$W/ext4"
"$FERRY" cat "$img" /plain.bin | head -c 100 > "$work/head"
expect export_reader_gone_is_141 "141 $(head -c 100 "$W/ext4/plain.bin" | sha256sum | cut -c1-64)" \
    "${PIPESTATUS[0]} $(sha "$work/head")"
quiet qemu-img convert -O vmdk "$work/ext4.img" "$work/ext4.vmdk"
same vmdk_sparse direct "$work/ext4.vmdk" /sparse.bin "$W/ext4/sparse.bin"
quiet qemu-img convert -O vhdx "$work/ext4.img" "$work/ext4.vhdx"
same vhdx_unwritten direct "$work/ext4.vhdx" /unwritten.bin "$W/ext4/unwritten.bin"
# an overlay: the file's first MiB rewritten in it, the rest in its backing
# image (--external): the export shows the disk the guest sees
quiet qemu-img create -f qcow2 -b ext4.qcow2 -F qcow2 "$work/over.qcow2"
head -c $M /dev/urandom > "$work/newhead"
cp "$W/ext4/plain.bin" "$work/over-plain.bin"
dd if="$work/newhead" of="$work/over-plain.bin" conv=notrunc status=none
# where plain.bin's first MiB lies on the disk: its first extent's block
blk=$(debugfs -R "ex /plain.bin" "$work/ext4.img" 2>/dev/null | awk '$1 == "0/" {print $8; exit}')
quiet qemu-io -f qcow2 -c "write -s $work/newhead $((blk * 4096)) $M" "$work/over.qcow2"
opts=(--external)
same overlay_with_backing direct "$work/over.qcow2" /plain.bin "$work/over-plain.bin"
opts=()

img=$work/xfs.img
same xfs_plain direct "$img" /plain.bin
same xfs_sparse direct "$img" /sparse.bin
same xfs_unwritten direct "$img" /unwritten.bin
same xfs_reflinked direct "$img" /refl-a.bin
same xfs_reflink_copy_rewritten direct "$img" /refl-b.bin
sums xfs 5 "$img" /plain.bin /sparse.bin /unwritten.bin /refl-a.bin /refl-b.bin
get xfs_unwritten "$img" /unwritten.bin
tree xfs direct "$img"

img=$work/btrfs.img
same btrfs_plain guest "$img" /plain.bin
same btrfs_compressed guest "$img" /comp.bin
same btrfs_inline guest "$img" /tiny.txt
same btrfs_reflinked guest "$img" /refl.bin
sums btrfs 0 "$img" /plain.bin /comp.bin /tiny.txt /refl.bin
tree btrfs guest "$img"
archive btrfs "$img"

img=$work/vfat.img
same vfat_plain guest "$img" /plain.bin
same vfat_fragmented guest "$img" /frag.bin
sums vfat 0 "$img" /plain.bin /frag.bin /after.bin
tree vfat guest "$img"

img=$work/ntfs.img
same ntfs_plain direct "$img" /plain.bin
same ntfs_sparse direct "$img" /sparse.bin
same ntfs_resident guest "$img" /res.txt
same ntfs_compressed guest "$img" /packed/comp.txt
# past the valid data length: zeros (ntfs3 says unwritten), not the
# random bytes the clusters hold
same ntfs_valid_length_short direct "$img" /valid.bin
sums ntfs 3 "$img" /plain.bin /sparse.bin /res.txt /packed/comp.txt /valid.bin
get ntfs_valid_length_short "$img" /valid.bin
tree ntfs direct "$img"
archive ntfs "$img" "" dense

img=$work/gpt.img
opts=(-m /dev/sda1)
same gpt_ext4_plain direct "$img" /plain.bin "$W/gpt1/plain.bin"
same gpt_ext4_sparse direct "$img" /sparse.bin "$W/gpt1/sparse.bin"
tree gpt_ext4 direct "$img" "$W/gpt1"
opts=(-m /dev/sda2)
same gpt_fat_odd_sector guest "$img" /plain.bin "$W/gpt2/plain.bin"
opts=(-m /dev/sda3)
same gpt_ext4_past_4gib direct "$img" /plain.bin "$W/gpt3/plain.bin"
tree gpt_ext4_past_4gib direct "$img" "$W/gpt3"
opts=(-m /dev/sda5)
same mbr_logical_partition direct "$work/mbr.img" /plain.bin "$W/mbr5/plain.bin"
tree mbr_logical_partition direct "$work/mbr.img" "$W/mbr5"
opts=()

same lvm_volume guest "$work/lvm.img" /plain.bin
tree lvm_volume guest "$work/lvm.img"
archive lvm_volume "$work/lvm.img"

# the right one of two images: the file is on the second (sdb), raw
opts=(-a "$work/ext4.qcow2" -a "$work/xfs.img" -m /dev/sdb)
expect second_image_read_directly "0 $(sha "$W/xfs/refl-b.bin") 1" "$(one cat /refl-b.bin)"
# and a qcow2 second behind a raw first: its own export
opts=(-a "$work/xfs.img" -a "$work/ext4.qcow2" -m /dev/sdb)
expect qcow2_second_read_through_export "0 $(sha "$W/ext4/sparse.bin") 1" "$(one cat /sparse.bin)"
opts=()

# a qemu whose monitor never answers (here: it has none): after --timeout,
# the files come through the appliance, right
cat > "$work/nomon" <<'EOS'
#!/bin/bash
args=()
while [ $# -gt 0 ]; do
    if [ "$1" = -mon ]; then shift 2; continue; fi
    args+=("$1"); shift
done
exec "$(dirname "$0")/carried-qemu" "${args[@]}"
EOS
chmod +x "$work/nomon"
cp build/qemu/qemu-system-x86_64 "$work/carried-qemu"
FERRY_TEST_CARRIED_STANDIN=$work/nomon ran "$work/d.out" "$work/d.err" -v --timeout 2 \
    cat "$work/ext4.qcow2" /sparse.bin >/dev/null
expect silent_monitor_falls_back_to_the_guest "$(sha "$W/ext4/sparse.bin") 0 1" \
    "$(sha "$work/d.out") $(directly "$work/d.err") $(grep -c "read through the appliance (qemu's export: no greeting)" "$work/d.err")"

# a read-write mount: the guest's page cache may hold what the disk does not
cp --sparse=always "$work/ext4.img" "$work/rw.img"
expect rw_mount_through_guest "0 $(sha "$W/ext4/sparse.bin") 0" \
    "$(one --rw cat "$work/rw.img" /sparse.bin)"

# in_session NAME IMAGE PATH WANT DIRECT: in a session of IMAGE, `cat PATH`
# gives WANT's bytes, DIRECT (1 or 0) read directly
in_session() {
    local out
    if out=$("$FERRY" session start -a "$2" 2>"$work/s.err"); then
        eval "$out"
        expect "$1" "0 $(sha "$4") $5" "$(one cat "$3")"
        "$FERRY" session stop >/dev/null 2>&1
        unset FERRY_SESSION
    else
        fail "$1" "session start: $(cat "$work/s.err")"
    fi
}
# a session lends its images to each command: read directly there too
export XDG_RUNTIME_DIR=$work/run
mkdir -m 0700 "$XDG_RUNTIME_DIR"
in_session session_read_directly "$work/ext4.img" /unwritten.bin "$W/ext4/unwritten.bin" 1
# not a qcow2's: its export is for the run that made it, and a session's
# commands come and go (their files come through the appliance, right)
in_session session_qcow2_through_guest "$work/ext4.qcow2" /sparse.bin "$W/ext4/sparse.bin" 0

# ---- hostile: a FAT file whose cluster chain ends long before its size.
# The guest fails the read past the chain (EIO); the host must not make
# zeros of what the filesystem cannot map (FIBMAP says 0 there, as for a
# hole).

# cut_chain IMAGE NAME N: end the cluster chain of NAME (as the root
# directory of a FAT32 image holds it: "FRAG    BIN") after N clusters, in
# both FATs; its size stays as it was
cut_chain() {
    $python - "$@" <<'EOF'
import struct, sys
path, name, n = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3])
img = bytearray(open(path, "rb").read())
bps, spc, res, nfats = struct.unpack_from("<HBHB", img, 11)
fatsz, root = struct.unpack_from("<I", img, 36)[0], struct.unpack_from("<I", img, 44)[0]
cl, fat = bps * spc, res * bps
data = fat + nfats * fatsz * bps
d = img[data + (root - 2) * cl:data + (root - 1) * cl]
e = next(d[i:i + 32] for i in range(0, cl, 32) if d[i:i + 11] == name)
c = struct.unpack_from("<H", e, 20)[0] << 16 | struct.unpack_from("<H", e, 26)[0]
for _ in range(n - 1):
    c = struct.unpack_from("<I", img, fat + 4 * c)[0] & 0x0FFFFFFF
for k in range(nfats):
    struct.pack_into("<I", img, fat + k * fatsz * bps + 4 * c, 0x0FFFFFFF)
open(path, "r+b").write(img)
EOF
}
cp --sparse=always "$work/vfat.img" "$work/shortchain.img"
cut_chain "$work/shortchain.img" "FRAG    BIN" 100
ds=$(ran "$work/d.out" "$work/d.err" -v cat "$work/shortchain.img" /frag.bin)
gs=$(ran "$work/g.out" "$work/g.err" --no-direct cat "$work/shortchain.img" /frag.bin)
expect short_fat_chain_fails_both_ways "fails fails" \
    "$([ "$ds" = 0 ] && echo "gives $(wc -c <"$work/d.out") bytes" || echo fails) $(
       [ "$gs" = 0 ] && echo "gives $(wc -c <"$work/g.out") bytes" || echo fails)"

# an NTFS file whose runs end after 100 of its 512 clusters (its sizes as
# they were): ntfs3 reads zeros past them; the default way gives what the
# guest gives, whichever way it goes
cp --sparse=always "$work/ntfs.img" "$work/shortruns.img"
ntfs_data "$work/shortruns.img" plain.bin runs 100
same ntfs_short_runs any "$work/shortruns.img" /plain.bin ""

finish
