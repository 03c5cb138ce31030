#!/bin/bash
# deleted.sh: deleted files, found by the Sleuth Kit in the appliance, held
# against the host's own fls and icat (Debian's sleuthkit) on the same
# images: FAT (deleted with mtools), NTFS (ntfs-3g) and ext4, one inside an
# E01. ls -d lists them marked, recover gives icat's bytes, timeline adds
# fls -m's "(deleted)" lines; xfs has none to give and says so.
cd "$(dirname "$0")/.."
. tests/lib.sh

tmp=$(mktemp -d "$PWD/build/deleted-XXXXXX")
trap 'umount "$tmp/mnt" 2>/dev/null; rm -rf "$tmp"' EXIT
sha() { sha256sum < "$1" | cut -d' ' -f1; }
quiet() { "$@" >/dev/null 2>&1 || { echo "deleted.sh: failed: $*" >&2; exit 1; }; }
unset FERRY_SESSION
mkdir "$tmp/mnt"
head -c 100000 /dev/urandom > "$tmp/big.bin"
echo "a small file, deleted" > "$tmp/a.txt"
echo "kept" > "$tmp/keep.txt"
echo "deep and deleted" > "$tmp/c.txt"

# ---- the images
truncate -s 16M "$tmp/fat.img" && quiet mkfs.vfat -n FAT "$tmp/fat.img"
quiet mcopy -i "$tmp/fat.img" "$tmp/a.txt" "$tmp/big.bin" "$tmp/keep.txt" ::
quiet mmd -i "$tmp/fat.img" ::sub
quiet mcopy -i "$tmp/fat.img" "$tmp/c.txt" ::sub/
quiet mdel -i "$tmp/fat.img" ::a.txt ::big.bin ::sub/c.txt

truncate -s 16M "$tmp/ntfs.img" && quiet mkntfs -q -F -f "$tmp/ntfs.img"
quiet mount -t ntfs-3g -o loop "$tmp/ntfs.img" "$tmp/mnt"
cp "$tmp/a.txt" "$tmp/big.bin" "$tmp/keep.txt" "$tmp/mnt/"
sync && rm "$tmp/mnt/a.txt" "$tmp/mnt/big.bin" && umount "$tmp/mnt"

truncate -s 16M "$tmp/ext4.img" && quiet mkfs.ext4 -q -F "$tmp/ext4.img"
quiet mount -o loop "$tmp/ext4.img" "$tmp/mnt"
cp "$tmp/a.txt" "$tmp/keep.txt" "$tmp/mnt/" && sync && rm "$tmp/mnt/a.txt" && umount "$tmp/mnt"

truncate -s 300M "$tmp/xfs.img"
quiet env TEST_DIR=1 TEST_DEV=1 QA_CHECK_FS=1 mkfs.xfs -q -f "$tmp/xfs.img"

# the host's view: deleted names (fls -rd: "r/r * 12:<tab>name") as
# "inode path", and fls -m's deleted lines
host_names() { fls -rdp "$1" | sed -n 's/^[^*]*\* \([0-9]*\)[^:]*:\t\(.*\)$/\1 \/\2/p' | sort; }
# (NTFS: fls -m adds a line for each name's $FILE_NAME times, and writes
# the inode as N-TYPE-ID; ferry writes the file's line, the inode as N)
host_body() {
    fls -m / -r "$1" | grep ' (deleted)|' | grep -v ' (\$FILE_NAME) (deleted)|' |
        sed 's/^\([^|]*|[^|]*|[0-9]*\)-[0-9]*-[0-9]*|/\1|/' | sort
}
# ferry's: ls -d -R -i, deleted lines as "inode path"
ferry_names() {
    "$FERRY" ls -d -R -i "$1" / 2>&1 | sed -n 's/^ *\([0-9]*\) \(.*\)  (deleted)$/\1 \/\2/p' | sort
}

for fs in fat ntfs ext4; do
    img=$tmp/$fs.img
    before=$(sha "$img")
    want=$(host_names "$img")
    [ -n "$want" ] || fail "${fs}_host_sees_deleted" "fls found none"
    expect "${fs}_ls_deleted_as_fls" "$want" "$(ferry_names "$img")"
    expect "${fs}_timeline_deleted_as_fls" "$(host_body "$img")" \
        "$("$FERRY" timeline "$img" / 2>&1 | grep ' (deleted)|' | sort)"
    # every deleted file's content as icat gives it, and failing where it
    # fails (an orphan NTFS record with no data)
    bad=""
    while read -r inode path; do
        [ -n "$inode" ] || continue
        "$FERRY" recover "$img" "$inode" - > "$tmp/got" 2>"$tmp/err"
        got=$?
        icat -r "$img" "$inode" > "$tmp/want" 2>/dev/null
        want_st=$?
        [ "$((got != 0))" = "$((want_st != 0))" ] || bad+="$path: exit $got, icat $want_st: $(cat "$tmp/err") "
        [ "$got" != 0 ] || cmp -s "$tmp/got" "$tmp/want" || bad+="$path: differs from icat "
    done <<< "$want"
    expect "${fs}_recover_as_icat" "" "$bad"
    expect "${fs}_image_unchanged" "$before" "$(sha "$img")"
done

# ---- what comes back, and how it is shown
img=$tmp/fat.img
inode=$(host_names "$img" | awk '$2 == "/_ig.bin" { print $1 }')
expect fat_recovers_the_bytes "$(sha "$tmp/big.bin")" \
    "$("$FERRY" recover "$img" "${inode:-0}" - 2>&1 | sha256sum | cut -d' ' -f1)"
(cd "$tmp" && "$FERRY" recover "$img" "${inode:-0}" >/dev/null 2>&1)
expect recover_default_name "$(sha "$tmp/big.bin")" "$(sha "$tmp/recovered-${inode:-0}" 2>&1)"
expect ls_without_d_hides_them 0 "$("$FERRY" ls "$img" / 2>&1 | grep -c deleted)"
expect ls_d_keeps_the_live_ones 1 "$("$FERRY" ls -d "$img" / 2>&1 | grep -cx 'keep.txt')"
expect ls_d_json_marks_them 1 \
    "$("$FERRY" ls -d --json "$img" / 2>&1 | grep -c '"path":"/_ig.bin".*"deleted":true')"
expect ls_d_long_has_the_size 1 \
    "$("$FERRY" ls -d -l "$img" / 2>&1 | grep -c ' 100000 .* _ig.bin  (deleted)$')"
# NTFS: the inode as fls writes it, N-TYPE-ID: that attribute ($DATA),
# and an attribute it does not have is an error, not some other stream
ntfs_id=$(fls -rdp "$tmp/ntfs.img" | sed -n 's/^[^*]*\* \([0-9]*-128-[0-9]*\):\tbig.bin$/\1/p')
expect ntfs_recovers_the_bytes "$(sha "$tmp/big.bin")" \
    "$("$FERRY" recover "$tmp/ntfs.img" "${ntfs_id:-0}" - 2>&1 | sha256sum | cut -d' ' -f1)"
expect_status ntfs_recover_no_such_attribute 1 "$FERRY" recover "$tmp/ntfs.img" "${ntfs_id%%-*}-128-9" -

# ---- a crafted deleted name holding '/': one name, never a path
truncate -s 16M "$tmp/slash.img" && quiet mkntfs -q -F -f "$tmp/slash.img"
quiet mount -t ntfs-3g -o loop "$tmp/slash.img" "$tmp/mnt"
echo "x" > "$tmp/mnt/aQQQb.txt" && sync && rm "$tmp/mnt/aQQQb.txt" && umount "$tmp/mnt"
python3 - "$tmp/slash.img" <<'PY'
import sys
p = sys.argv[1]
d = open(p, "rb").read()
open(p, "wb").write(d.replace("aQQQb".encode("utf-16le"), "a/QQb".encode("utf-16le")))
PY
expect slash_in_a_name_is_not_a_path 'a\x2fQQb.txt  (deleted)' \
    "$("$FERRY" ls -d "$tmp/slash.img" / 2>&1 | grep QQb)"

# ---- refusals
out=$("$FERRY" recover "$img" twelve - 2>&1)
expect recover_needs_a_number "2 ferry: recover: twelve: not an inode number (e.g. 12, or NTFS's 64-128-2)" "$? $out"
out=$("$FERRY" recover "$img" 99999999 - 2>&1)
st=$?
case "$st $out" in
"1 ferry: recover: inode 99999999: the Sleuth Kit failed: inode 99999999: not on this filesystem"*)
    pass recover_out_of_range ;;
*) fail recover_out_of_range "$st $out" ;;
esac
out=$("$FERRY" ls -d "$tmp/xfs.img" / 2>&1)
expect xfs_ls_d_says_why 1 "$(echo "$out" | grep -c 'the Sleuth Kit cannot read this filesystem')"
out=$("$FERRY" timeline "$tmp/xfs.img" / 2>&1)
expect xfs_timeline_still_works "0 0" "$? $(echo "$out" | grep -c 'deleted\|ferry:')"
out=$("$FERRY" --test-root "$tmp/mnt" ls -d / 2>&1)
expect no_appliance_ls_d_says_so "1 ferry: ls: /: deleted files are found only in the appliance" "$? $out"

# ---- inside an E01: the same names, the same bytes
quiet ewfacquire -u -q -t "$tmp/fat" -f encase6 -c deflate:fast "$tmp/fat.img"
expect e01_ls_deleted_as_fls "$(host_names "$img")" "$(ferry_names "$tmp/fat.E01")"
expect e01_recovers_the_bytes "$(sha "$tmp/big.bin")" \
    "$("$FERRY" recover "$tmp/fat.E01" "${inode:-0}" - 2>&1 | sha256sum | cut -d' ' -f1)"
finish
