#!/bin/bash
# evidence.sh: E01 (EWF) images. ewfacquire (ewf-tools) makes them from a
# GPT disk with ext4 on its first partition: split into segments and
# compressed, and uncompressed to be damaged on purpose (a chunk whose
# checksum no longer matches; a chunk changed with its checksum made
# right, which only the media hash can catch). ferry must read them as any
# image, never pass a damaged chunk off as data, leave every segment as it
# was, and `ferry verify` must judge them as ewfverify does.
cd "$(dirname "$0")/.."
. tests/lib.sh

tmp=$(mktemp -d "$PWD/build/evidence-XXXXXX")
trap 'eval "$("$FERRY" session stop 2>/dev/null)"; rm -rf "$tmp"' EXIT
sha() { sha256sum < "$1" | cut -d' ' -f1; }
quiet() { "$@" >/dev/null 2>&1 || { echo "evidence.sh: failed: $*" >&2; exit 1; }; }
unset FERRY_SESSION

# ---- the disk: GPT, ext4 on /dev/sda1 with a small and a 3 MiB file
mkdir -p "$tmp/root"
echo "hello from the evidence" > "$tmp/root/hello.txt"
head -c $((3 << 20)) /dev/urandom > "$tmp/root/r.bin"
truncate -s 20M "$tmp/fs" && quiet mkfs.ext4 -q -F -L evidence -d "$tmp/root" "$tmp/fs"
truncate -s 24M "$tmp/disk.img"
quiet sgdisk -n 1:1M:+20M -t 1:8300 "$tmp/disk.img"
dd if="$tmp/fs" of="$tmp/disk.img" bs=1M seek=1 conv=notrunc status=none
acquire() { # acquire NAME OPTIONS...: $tmp/NAME.E01 (and more segments) of disk.img
    local name=$1
    shift
    quiet ewfacquire -u -q -t "$tmp/$name" -f encase6 -d sha1 "$@" "$tmp/disk.img"
}
acquire case -c deflate:fast -S 1M
acquire plain -c none
img=$tmp/case.E01
segments=$(ls "$tmp"/case.E0? | wc -l)
[ "$segments" -gt 1 ] && pass e01_is_split || fail e01_is_split "$segments segment(s)"
before=$(cat "$tmp"/case.E0? | sha256sum)

# ---- read like any image
expect e01_filesystems_show_the_partition "/dev/sda1 partition ext4 evidence" \
    "$("$FERRY" filesystems "$img" 2>&1 | awk '$1 == "/dev/sda1" { print $1, $2, $3, $5 }')"
expect e01_cat "hello from the evidence" "$("$FERRY" -m /dev/sda1 cat "$img" /hello.txt 2>&1)"
"$FERRY" download "$img" /r.bin "$tmp/r.out" 2>"$tmp/err"
expect e01_download_bytes "$(sha "$tmp/root/r.bin")" "$(sha "$tmp/r.out" 2>&1)"
expect e01_booted_cat "hello from the evidence" \
    "$(FERRY_NO_RESUME=1 "$FERRY" cat "$img" /hello.txt 2>&1)"
expect e01_with_a_second_image "hello from the evidence" \
    "$("$FERRY" -a "$tmp/disk.img" -a "$img" -m /dev/sdb1 cat /hello.txt 2>&1)"
# ls -i: the inode first, the number the Sleuth Kit gives (ifind)
expect e01_ls_inode_first "$(ifind -n /hello.txt "$tmp/fs" 2>&1) hello.txt" \
    "$("$FERRY" ls -i "$img" / 2>&1 | awk '$2 == "hello.txt" { print $1, $2 }')"
out=$("$FERRY" --rw cat "$img" /hello.txt 2>&1)
expect e01_rw_refused "1 ferry: $img: an E01 image is evidence: ferry opens it read-only (no --rw)" \
    "$? $out"
expect e01_segments_unchanged "$before" "$(cat "$tmp"/case.E0? | sha256sum)"

# a missing segment: said, nothing read
mkdir "$tmp/gap" && cp "$tmp"/case.E0? "$tmp/gap/" && rm "$tmp/gap/case.E02"
out=$(timeout 60 "$FERRY" cat "$tmp/gap/case.E01" /hello.txt 2>&1)
st=$?
expect e01_missing_segment_refused "1 ferry: $tmp/gap/case.E01: its segment files are incomplete \
(1 found from this one: one is missing or cut short)" "$st $out"

# ---- verify: a sound image
out=$("$FERRY" verify "$img" 2>&1)
expect verify_sound_exits_0 0 "$?"
md5=$(ewfinfo "$img" 2>/dev/null | awk '$1 == "MD5:" { print $2 }')
expect verify_sound_md5_matches "1" \
    "$(echo "$out" | grep -c "MD5   computed ${md5:-none}  match")"
expect verify_sound_sha1_matches "1" "$(echo "$out" | grep -c 'SHA1  computed .*  match$')"
expect verify_sound_says_verified "$img: verified" "$(echo "$out" | tail -1)"
expect verify_counts_segments "$img: $segments segments, $((24 << 20)) bytes of media" \
    "$(echo "$out" | head -1)"
out=$("$FERRY" verify "$tmp/disk.img" 2>&1)
expect verify_refuses_a_raw_image 1 "$?"

# a progress line on a terminal once verify has run a second, wiped at the
# end; none elsewhere (1 GiB of zeros, uncompressed: a few seconds)
truncate -s 1G "$tmp/zeros.raw"
quiet ewfacquire -u -q -t "$tmp/zeros" -f encase6 -c none "$tmp/zeros.raw"
rm -f "$tmp/zeros.raw"
tty_out=$(script -qc "$FERRY verify $tmp/zeros.E01" /dev/null)
case $tty_out in
*$'\r'*'%'*'MB/s'*$'\r\033[K'*"$tmp/zeros.E01: verified"*) pass verify_bar_on_a_terminal ;;
*) fail verify_bar_on_a_terminal "$(echo "$tty_out" | od -c | head -5)" ;;
esac
expect verify_no_bar_off_a_terminal 0 "$("$FERRY" verify "$tmp/zeros.E01" 2>&1 | grep -c 'MB/s')"
rm -f "$tmp"/zeros.E0*

# ---- damage: one chunk of r.bin's data changed in the uncompressed copy.
# bad.E01: its checksum no longer matches; forged.E01: the checksum made
# to match, so only the media hash can tell.
python3 - "$tmp" <<'EOF' || fail damage_made "python"
import sys, zlib
d = sys.argv[1]
e01 = bytearray(open(d + "/plain.E01", "rb").read())
disk = open(d + "/disk.img", "rb").read()
mark = open(d + "/root/r.bin", "rb").read()[1 << 20:(1 << 20) + 64]  # inside r.bin
media, where = disk.find(mark), e01.find(mark)
assert media > 0 and where > 0
chunk = 32768
start = where - (media % chunk)          # the chunk's data in the file
bad = bytearray(e01)
bad[where + 100] ^= 0xff
open(d + "/bad.E01", "wb").write(bad)
bad[start + chunk:start + chunk + 4] = zlib.adler32(bytes(bad[start:start + chunk])).to_bytes(4, "little")
open(d + "/forged.E01", "wb").write(bad)
open(d + "/damage", "w").write("%d %d\n" % (media - media % chunk, media - media % chunk + chunk - 1))
EOF
read -r bad_first bad_last < "$tmp/damage"
out=$("$FERRY" verify "$tmp/bad.E01" 2>&1)
expect verify_damaged_exits_1 1 "$?"
expect verify_damaged_names_the_chunk 1 \
    "$(echo "$out" | grep -c "bytes $bad_first-$bad_last: damaged (the chunk's checksum does not match)")"
expect verify_damaged_fails "1" "$(echo "$out" | grep -c 'FAILED: 1 damaged chunk (32768 bytes)')"
out=$("$FERRY" verify "$tmp/forged.E01" 2>&1)
expect verify_forged_exits_1 1 "$?"
expect verify_forged_md5_mismatch 1 "$(echo "$out" | grep -c '^  MD5   computed .* MISMATCH$')"
expect verify_forged_fails 1 "$(echo "$out" | grep -c 'FAILED: a stored hash does not match')"
expect ewfverify_agrees_on_forged 1 "$(ewfverify -q "$tmp/forged.E01" >/dev/null 2>&1; echo $?)"

# a damaged chunk read through the appliance is an I/O error; what came
# out before it is the file's own bytes, and none of the lost chunk
"$FERRY" cat "$tmp/bad.E01" /r.bin > "$tmp/bad.out" 2>"$tmp/bad.err"
expect damaged_cat_fails 1 "$?"
case $(cat "$tmp/bad.err") in
"ferry: cat: /r.bin: I/O error at offset "[0-9]*) pass damaged_cat_says_io_error ;;
*) fail damaged_cat_says_io_error "$(cat "$tmp/bad.err")" ;;
esac
n=$(stat -c %s "$tmp/bad.out")
if cmp -s -n "$n" "$tmp/bad.out" "$tmp/root/r.bin"; then
    pass damaged_cat_gives_only_true_bytes
else
    fail damaged_cat_gives_only_true_bytes "the $n bytes written differ from the file's"
fi
[ "$n" -lt $((3 << 20)) ] && pass damaged_cat_stops_short || fail damaged_cat_stops_short "$n bytes"

# ---- hostile: a first segment that is the magic and then noise
{ printf 'EVF\t\r\n\377\000'; head -c 65536 /dev/urandom; } > "$tmp/noise.E01"
out=$(timeout 90 "$FERRY" cat "$tmp/noise.E01" /hello.txt 2>&1)
expect noise_e01_refused "1" "$?"
expect noise_e01_says_libewf 1 "$(echo "$out" | grep -c "^ferry: $tmp/noise.E01: ")"

# ---- what code run in the reader could do, once confined (a test hook
# tries it in place of libewf): seccomp refuses a write, a socket and a
# signal owner; Landlock (or seccomp) refuses reading another file
out=$(FERRY_TEST_READER_PROBE="$tmp/written" "$FERRY" verify "$img" 2>&1)
case $out in
*"probe: write EPERM read EACCES socket EPERM setown EPERM"*) pass reader_probe_refused ;;
*) fail reader_probe_refused "$out" ;;
esac
[ -e "$tmp/written" ] && fail reader_probe_wrote_nothing "$tmp/written exists" ||
    pass reader_probe_wrote_nothing

# ---- a session over an E01, and what its reader can reach
eval "$("$FERRY" session start -a "$img" 2>"$tmp/s.err")"
expect session_e01_cat "hello from the evidence" "$("$FERRY" -m /dev/sda1 cat /hello.txt 2>&1)"
# the reader: a process of the session's own (same command line) whose
# parent is one too (the server; its own parent is long gone)
procs=" $(pgrep -d ' ' -f "ferry session start -a $img") "
reader=""
for p in $procs; do
    case $procs in *" $(ps -o ppid= -p "$p" | tr -d ' ') "*) reader=$p ;; esac
done
if [ -n "$reader" ]; then
    expect reader_has_no_new_privs "NoNewPrivs:	1" "$(grep NoNewPrivs "/proc/$reader/status")"
    # two filters: one before libewf read a byte, a narrower one after
    expect reader_under_two_seccomp_filters "Seccomp:	2 Seccomp_filters:	2" \
        "$(grep -E '^Seccomp(_filters)?:' "/proc/$reader/status" | tr '\n' ' ' | sed 's/ $//')"
    others=$(for f in /proc/"$reader"/fd/*; do
        t=$(readlink "$f")
        case $t in /dev/null | socket:* | "$tmp"/case.E0?) ;; *) echo "$t" ;; esac
    done)
    expect reader_holds_only_its_segments "" "$others"
else
    fail reader_has_no_new_privs "no reader found beside the session (${procs// /})"
fi
eval "$("$FERRY" session stop 2>&1)"
expect e01_segments_unchanged_at_the_end "$before" "$(cat "$tmp"/case.E0? | sha256sum)"
finish
