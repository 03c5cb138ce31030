#!/bin/bash
# trust.sh: what a hostile or damaged image cannot do (issue 10): make qemu
# open another host file (three walls, each tested alone), pass wrong bytes
# as data, or lose a batch's writes. The images are made here, from the
# recipes in ../shared/MEASURED.md.
cd "$(dirname "$0")/.."
. tests/lib.sh

img=build/test-images
tests/images.sh "$img"
tmp=$(mktemp -d "$PWD/build/trust-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
F() { timeout 300 "$FERRY" "$@"; }

# ---- images that name other files
secret=$tmp/secret.img   # another host file holding a filesystem
mkdir -p "$tmp/s" && echo "top secret" > "$tmp/s/secret.txt"
truncate -s 64M "$secret" && mkfs.ext4 -q -F -d "$tmp/s" "$secret"
truncate -s 64M "$tmp/data.img"
(cd "$tmp" && qemu-img create -q -f qcow2 -o data_file=data.img,data_file_raw=on,preallocation=metadata \
    evil.qcow2 64M)
python3 - "$tmp/evil.qcow2" "$secret" <<'PY'
# the data file's name, in its header extension, becomes another host file
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
name = sys.argv[2].encode()
at = struct.unpack(">I", b[100:104])[0]
while True:
    t, l = struct.unpack(">II", b[at:at + 8])
    assert t != 0, "no data file extension"
    if t == 0x44415441:
        end = at + 8 + (len(name) + 7) // 8 * 8
        b[at + 4:at + 8] = struct.pack(">I", len(name))
        b[at + 8:end] = name + bytes(end - at - 8 - len(name))
        b[end:end + 8] = bytes(8)
        break
    at += 8 + (l + 7) // 8 * 8
open(sys.argv[1], "wb").write(b)
PY
printf '# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\ncreateType="monolithicFlat"\n\nRW 131072 FLAT "%s" 0\n' \
    "$secret" > "$tmp/evil.vmdk"

# wall 1: ferry reads the header and refuses, naming the reason
for e in qcow2:"an external data file" vmdk:"extent files"; do
    out=$(F cat "$tmp/evil.${e%%:*}" /secret.txt 2>&1); status=$?
    expect "${e%%:*}_naming_another_file_refused" \
        "1 ferry: $tmp/evil.${e%%:*} names another file: ${e#*:} '$secret'; ferry opens only the files it is given (--external opens the files an image names)" \
        "$status $out"
done
# walls 2 and 3 alone: with the header check off (a test switch), qemu parses
# the name itself, and its open of the other file is refused by Landlock
for f in qcow2 vmdk; do
    out=$(FERRY_TEST_UNCHECKED_IMAGES=1 F cat "$tmp/evil.$f" /secret.txt 2>&1); status=$?
    case "$status $out" in *"top secret"*) fail "${f}_unchecked_still_reads_nothing" "$out" ;;
    "1 "*"Could not open '$secret': Permission denied"*) pass "${f}_unchecked_still_reads_nothing" ;;
    *) fail "${f}_unchecked_still_reads_nothing" "$status $out" ;; esac
done
# --external: the files it names are opened, after saying which
out=$(F --external cat "$tmp/evil.qcow2" /secret.txt 2>"$tmp/err")
expect external_opens_named_files_and_says_so \
    "top secret|ferry: $tmp/evil.qcow2: opening its data file $secret" "$out|$(cat "$tmp/err")"
# wall 3 alone: whatever runs as qemu cannot read another file
cat > "$tmp/nosy-qemu" <<EOS
#!/bin/sh
cat "$tmp/s/secret.txt" >&2 && echo LEAKED >&2
exec qemu-system-x86_64 "\$@"
EOS
chmod +x "$tmp/nosy-qemu"
out=$(F -v --qemu "$tmp/nosy-qemu" cat "$img/ext4.img" /data/small.txt 2>&1)
case $out in *"top secret"*|*LEAKED*) fail qemu_cannot_read_other_files "$out" ;;
    *"Permission denied"*"small file"*) pass qemu_cannot_read_other_files ;;
    *) fail qemu_cannot_read_other_files "$(echo "$out" | tail -3)" ;; esac
# qemu inherits no descriptor of ferry's caller
cat > "$tmp/fd-qemu" <<'EOS'
#!/bin/sh
echo "FDS $(ls /proc/$$/fd | sort -n | tr '\n' ' ')" >&2
exec qemu-system-x86_64 "$@"
EOS
chmod +x "$tmp/fd-qemu"
fds=$(F -v --qemu "$tmp/fd-qemu" ping "$img/ext4.img" 9>/dev/null 200>/dev/null 2>&1 | sed -n 's/^FDS //p')
case " $fds " in *" 3 "*) case " $fds " in *" 9 "*|*" 200 "*) fail qemu_gets_no_stray_descriptors "$fds" ;;
    *) pass qemu_gets_no_stray_descriptors ;; esac ;;
    *) fail qemu_gets_no_stray_descriptors "no channel: [$fds]" ;; esac
# the rarely used formats only when named
qemu-img convert -O qed "$img/ext4.img" "$tmp/disk.qed"
out=$(F cat "$tmp/disk.qed" /data/small.txt 2>&1); status=$?
expect rare_format_needs_format "1 ferry: $tmp/disk.qed looks like a qed image; ferry opens qed images only when asked: --format qed" \
    "$status $out"
expect rare_format_opened_when_named "small file" "$(F --format qed -a "$tmp/disk.qed" cat /data/small.txt)"

# ---- no wrong byte as data: a qcow2 with an unreadable cluster in each file
python3 tests/mkbad.py "$tmp/bad" > "$tmp/bad.list"
read -r _ small_at small_len < <(grep small "$tmp/bad.list")
read -r _ big_at big_len < <(grep big "$tmp/bad.list")
bad=$tmp/bad/bad.qcow2
for f in small:$small_at big:$big_at; do
    name=${f%%:*} at=${f#*:}
    start=$(date +%s)
    F cat "$bad" /$name.bin > "$tmp/out" 2>"$tmp/err"; status=$?
    expect "cat_stops_at_unreadable_$name" "1 ferry: cat: /$name.bin: I/O error at offset $at $at same fast" \
        "$status $(cat "$tmp/err") $(stat -c %s "$tmp/out") $(cmp -s -n $at "$tmp/out" "$tmp/bad/$name.bin" && echo same) $(
           [ $(( $(date +%s) - start )) -lt 30 ] && echo fast)"
done
F download "$bad" /big.bin "$tmp/dl.bin" 2>"$tmp/err"; status=$?
expect download_of_unreadable_leaves_nothing "1 ferry: download: /big.bin: I/O error at offset $big_at|" \
    "$status $(cat "$tmp/err")|$(ls "$tmp" | grep dl.bin)"
mkdir "$tmp/co"
F copy-out "$bad" /big.bin /small.bin "$tmp/co" 2>"$tmp/err"; status=$?
expect copy_out_of_unreadable_leaves_nothing "1 2 " "$status $(grep -c 'I/O error at offset' "$tmp/err") $(ls "$tmp/co")"
for c in "checksum /big.bin" "ls --checksum /" "timeline --hash md5 /" "tar-out / $tmp/t.tar"; do
    F ${c%% *} "$bad" ${c#* } >/dev/null 2>"$tmp/err"; status=$?
    # (GNU tar calls the unreadable range "File shrank ... padding with
    # zeros": it knows, and fails)
    expect "${c%% *}_fails_on_unreadable" "1 yes" \
        "$status $(grep -q 'I/O error\|Read error\|shrank' "$tmp/err" && echo yes || head -c 300 "$tmp/err")"
done
expect tar_out_of_unreadable_leaves_nothing "" "$(ls "$tmp" | grep t.tar)"
# a reader gone past a zeroed range: the quiet end of a pipe (141), not the
# range's I/O error
F cat --zero-unreadable "$bad" /big.bin 2>"$tmp/err" | head -c $((big_at + 100)) >/dev/null
expect zero_unreadable_reader_gone_is_141 "141 " "${PIPESTATUS[0]} $(grep -v unreadable "$tmp/err")"
# a file that cannot be read ends that file, not the walk: the next one is
# read (and fails where it is damaged too), on the host as in the guest
F timeline --hash md5 "$bad" >/dev/null 2>"$tmp/err"; status=$?
expect timeline_goes_on_after_an_unreadable_file "1 2 0" \
    "$status $(grep -c 'I/O error at offset' "$tmp/err") $(grep -c 'outside' "$tmp/err")"
# --zero-unreadable: the rest is read, the range named, zeros in its place, exit 3
F --log "$tmp/audit.log" download --zero-unreadable "$bad" /big.bin "$tmp/z.bin" 2>"$tmp/err"; status=$?
python3 - "$tmp/z.bin" "$tmp/bad/big.bin" "$big_at" "$big_len" > "$tmp/check" <<'PY'
import sys
got, want = open(sys.argv[1], "rb").read(), bytearray(open(sys.argv[2], "rb").read())
at, n = int(sys.argv[3]), int(sys.argv[4])
want[at:at + n] = bytes(n)
print("zeros-in-place" if got == bytes(want) else "differs")
PY
expect zero_unreadable_reads_the_rest \
    "3 ferry: download: /big.bin: unreadable: $big_len bytes at offset $big_at, written as zeros zeros-in-place" \
    "$status $(cat "$tmp/err") $(cat "$tmp/check")"
expect zero_unreadable_is_in_the_log "[{'path': '/big.bin', 'offset': $big_at, 'length': $big_len}] 3" \
    "$(python3 -c 'import json,sys; r=json.loads(open(sys.argv[1]).readlines()[-1]); print(r["unreadable"], r["exit_status"])' "$tmp/audit.log")"
mkdir "$tmp/cz"
F copy-out --zero-unreadable "$bad" / "$tmp/cz" 2>/dev/null; status=$?
expect copy_out_zero_unreadable "3 $(stat -c %s "$tmp/bad/big.bin")" "$status $(stat -c %s "$tmp/cz/big.bin")"
# cat too: both files whole, one after the other, each range named
F --log "$tmp/cat.log" cat --zero-unreadable "$bad" /small.bin /big.bin > "$tmp/zc.bin" 2>"$tmp/err"; status=$?
python3 - "$tmp/zc.bin" "$tmp/bad/small.bin" "$small_at" "$small_len" "$tmp/bad/big.bin" "$big_at" "$big_len" \
    > "$tmp/check" <<'PY'
import sys
got, want = open(sys.argv[1], "rb").read(), b""
for name, at, n in (sys.argv[2:5], sys.argv[5:8]):
    w = bytearray(open(name, "rb").read())
    w[int(at):int(at) + int(n)] = bytes(int(n))
    want += w
print("zeros-in-place" if got == want else "differs: %d bytes, %d wanted" % (len(got), len(want)))
PY
expect cat_zero_unreadable \
    "3|ferry: cat: /small.bin: unreadable: $small_len bytes at offset $small_at, written as zeros|ferry: cat: /big.bin: unreadable: $big_len bytes at offset $big_at, written as zeros|zeros-in-place|[('/small.bin', $small_at, $small_len), ('/big.bin', $big_at, $big_len)] 3" \
    "$status|$(tr '\n' '|' < "$tmp/err")$(cat "$tmp/check")|$(python3 -c 'import json, sys
r = json.loads(open(sys.argv[1]).readlines()[-1])
print([(u["path"], u["offset"], u["length"]) for u in r["unreadable"]], r["exit_status"])' "$tmp/cat.log")"

# ---- device nodes and setuid files in an image (made with mknod, under
# fakeroot when not root): a node is never opened (an O_PATH descriptor
# shows it is not a regular file first), so no device gives its bytes and
# no fifo blocks; through a symlink neither. The node is still shown as
# what it is, and a setuid bit as the image holds it (the nosuid mount hides
# nothing); copy-out drops the bit on the host.
mkdir -p "$tmp/nodes"
printf '#!/bin/sh\necho set-uid\n' > "$tmp/nodes/suid" && chmod 4755 "$tmp/nodes/suid"
ln -s /zero "$tmp/nodes/zero-link"
truncate -s 32M "$tmp/nodes.img"
$([ "$(id -u)" = 0 ] || echo fakeroot) sh -c 'cd "$1" && mknod -m 644 null c 1 3 && mknod -m 644 zero c 1 5 &&
    mknod -m 640 sda b 8 0 && mkfifo -m 644 fifo && mkfs.ext4 -q -F -d . "$2"' - "$tmp/nodes" "$tmp/nodes.img"
for n in null zero sda fifo zero-link; do
    start=$(date +%s)
    # (what a device gave would be here, cut short: /dev/zero never ends)
    timeout 120 "$FERRY" cat "$tmp/nodes.img" /$n 2>"$tmp/err" | head -c 4096 > "$tmp/out"
    status=${PIPESTATUS[0]}
    expect "cat_does_not_open_a_node_${n//-/_}" "1 ferry: cat: /$n: not a regular file|0 bytes|fast" \
        "$status $(cat "$tmp/err")|$(stat -c %s "$tmp/out") bytes|$([ $(( $(date +%s) - start )) -lt 60 ] && echo fast)"
done
expect nodes_shown_as_they_are "char-device 0644 1:3|char-device 0644 1:5|block-device 0640 8:0|fifo 0644 -" \
    "$(F stat "$tmp/nodes.img" /null /zero /sda /fifo |
       awk '$1 == "Type:" {t = $2} $1 == "Mode:" {m = $2} $1 == "Rdev:" {r = $2}
            $1 == "Birth:" {printf "%s%s %s %s", sep, t, m, r ? r : "-"; sep = "|"; r = ""}')"
mkdir "$tmp/sco"
F copy-out "$tmp/nodes.img" /suid "$tmp/sco"; status=$?
expect setuid_bit_shown_and_dropped_on_the_host "-rwsr-xr-x|4755|set-uid|0 755" \
    "$(F ls -l "$tmp/nodes.img" / | awk '$NF == "suid" {print $1}')|$(
       F stat "$tmp/nodes.img" /suid | awk '$1 == "Mode:" {print $2}')|$(
       F cat "$tmp/nodes.img" /suid | sed -n 's/^echo //p')|$status $(stat -c %a "$tmp/sco/suid")"

# ---- a batch that fails stops, and what it wrote stays written, cleanly
cp "$img/ext4.img" "$tmp/batch.img"
echo "uploaded" > "$tmp/f"
printf 'mkdir /x\nupload %s /x/f\nchmod zzz /x\nmkdir /never\n' "$tmp/f" |
    F --rw shell "$tmp/batch.img" 2>"$tmp/err"; status=$?
e2fsck -fn "$tmp/batch.img" >/dev/null 2>&1; fsck=$?
expect shell_stops_at_a_bad_line \
    "2 ferry: shell: line 3: chmod: 'zzz' is not an octal mode|uploaded|fsck 0|never: No such file or directory" \
    "$status $(cat "$tmp/err")|$(F cat "$tmp/batch.img" /x/f)|fsck $fsck|$(F stat "$tmp/batch.img" /never 2>&1 | sed 's/.*\/never/never/')"

# ---- the guest's console under -v goes to stderr, escaped; never stdout
expect verbose_console_is_not_on_stdout "small file" \
    "$(F -v cat "$img/ext4.img" /data/small.txt 2>/dev/null)"
finish
