#!/bin/bash
# appliance.sh: ferry booting its real appliance in qemu (TCG here) on
# images made by images.sh: mounts, devices, LVM, formats, and the ways a
# launch can fail.
cd "$(dirname "$0")/.."
. tests/lib.sh

img=build/test-images
tests/images.sh "$img"
tmp=$(mktemp -d /tmp/ferry-appliance-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# ---- the executable
case $("$FERRY" --version) in
*"kernel $(cat build/appliance/kernel-version)"*"") pass version_names_kernel ;;
*) fail version_names_kernel "$("$FERRY" --version)" ;;
esac
proto_version=$(sed -n 's/^const FERRY_PROTOCOL_VERSION = \([0-9]*\);.*/\1/p' proto/ferry.x)
expect version_names_protocol 1 "$("$FERRY" --version | grep -c "^protocol ${proto_version:-none}\$")"
case $(file build/ferry) in *"statically linked"*) pass executable_is_static ;;
    *) fail executable_is_static "$(file build/ferry)" ;; esac
size=$(stat -c %s build/ferry)
[ "$size" -lt 30000000 ] && pass executable_under_30mb || fail executable_under_30mb "$size bytes"

# ---- boot and the daemon's kernel-side operations
case $("$FERRY" ping "$img/ext4.img") in pong*) pass boots_and_answers ;;
    *) fail boots_and_answers "no pong" ;; esac
expect mounts_the_only_filesystem "small file" "$("$FERRY" cat "$img/ext4.img" /data/small.txt)"
expect reads_through_symlink "small file" "$("$FERRY" -a "$img/ext4.img" cat /data/link)"
"$FERRY" download "$img/ext4.img" /data/sparse.bin "$tmp/sparse.bin"
[ "$(stat -c %s "$tmp/sparse.bin")" = $((20 * 1048576 + 3)) ] &&
    [ "$(stat -c %b "$tmp/sparse.bin")" -lt 1000 ] && pass sparse_file_comes_out_sparse ||
    fail sparse_file_comes_out_sparse "$(stat -c '%s bytes %b blocks' "$tmp/sparse.bin")"
# the same listing from every container format; the raw one is checked
# first, so that two failures cannot pass as equal
want=$("$FERRY" ls "$img/ext4.img" -R /data)
expect raw_listing "link random.bin small.txt sparse.bin sub sub/deep.txt" "$(echo "$want" | sort | tr '\n' ' ' | sed 's/ $//')"
for fmt in qcow2 vmdk vdi vhdx vpc; do
    expect "same_listing_from_$fmt" "$want" "$("$FERRY" ls "$img/ext4.$fmt" -R /data)"
done
expect ls_checksum_column "$(echo "small file" | md5sum | cut -d' ' -f1)  small.txt" \
    "$("$FERRY" ls "$img/ext4.img" --checksum=md5 /data | grep small.txt)"
want=$("$FERRY" tar-out "$img/ext4.img" /data - | tar -tf - | sort | tr '\n' ' ')
for z in zstd:zstd gzip:gzip xz:xz; do
    expect "tar_out_compress_${z%%:*}" "$want" \
        "$("$FERRY" tar-out "$img/ext4.img" /data - --compress "${z%%:*}" | ${z##*:} -dc | tar -tf - | sort | tr '\n' ' ')"
done
"$FERRY" tar-out "$img/ext4.img" /data "$tmp/d.tar.zst"
expect tar_out_compression_from_file_name "0 $want" \
    "$? $(zstd -dc "$tmp/d.tar.zst" | tar -tf - | sort | tr '\n' ' ')"
err=$("$FERRY" cat "$img/overlay.qcow2" /data/small.txt 2>&1); status=$?
expect backing_file_not_opened_unasked "1 ferry: $img/overlay.qcow2 names another file: a backing file 'ext4.img'; ferry opens only the files it is given (--external opens the files an image names)" \
    "$status $err"
out=$("$FERRY" --backing cat "$img/overlay.qcow2" /data/small.txt 2>"$tmp/err")
expect backing_file_opened_with_backing "small file|ferry: $img/overlay.qcow2: opening its backing file $img/ext4.img" \
    "$out|$(cat "$tmp/err")"
expect forced_format_is_used "small file" \
    "$("$FERRY" --format qcow2 -a "$img/ext4.qcow2" cat /data/small.txt)"

# devices, partitions, labels, stable names
fs=$("$FERRY" filesystems "$img/gpt.img")
echo "$fs" | grep -q '^/dev/sda1 .*ext4 .*root' && echo "$fs" | grep -q '^/dev/sda2 .*vfat .*EFI' &&
    pass lists_partitions_with_types_and_labels || fail lists_partitions_with_types_and_labels "$fs"
expect second_image_is_sdb "/dev/sdb1 /dev/sdb2" \
    "$("$FERRY" -a "$img/ext4.img" -a "$img/gpt.img" filesystems --json |
       sed -n 's/.*"device":"\(\/dev\/sdb[0-9]\)".*/\1/p' | tr '\n' ' ' | sed 's/ $//')"
err=$("$FERRY" ls "$img/gpt.img" / 2>&1); status=$?
case "$status $err" in "1 "*"2 filesystems and no operating system found"*"-m /dev/sda1"*"-m /dev/sda2"*)
    pass two_filesystems_need_m ;;
    *) fail two_filesystems_need_m "$status $err" ;; esac
expect explicit_mount_of_fat "readme.txt" "$("$FERRY" -m /dev/sda2 ls "$img/gpt.img" /EFI/BOOT)"
expect mount_at_a_path "readme.txt deeper" \
    "$("$FERRY" -m /dev/sda1 -m /dev/sda2:/boot ls "$img/gpt.img" /boot/EFI/BOOT) $(
       "$FERRY" -m /dev/sda1 -m /dev/sda2:/boot cat "$img/gpt.img" /data/sub/deep.txt)"
err=$("$FERRY" -m /dev/sda1 -m /dev/sda2:/nowhere ls "$img/gpt.img" / 2>&1)
expect mount_on_missing_directory "ferry: mount /dev/sda2 on /nowhere: /nowhere: No such file or directory" "$err"
err=$("$FERRY" -m /dev/sdz1 ls "$img/gpt.img" / 2>&1)
case $err in *"-m /dev/sdz1: no such device"*) pass unknown_device_named ;;
    *) fail unknown_device_named "$err" ;; esac

# an operating system is found and mounted as its fstab says
expect os_mounted_with_its_fstab "esp served" \
    "$("$FERRY" cat "$img/os.img" /boot/efi/EFI/marker /srv/index.txt | tr '\n' ' ' | sed 's/ $//')"
expect inspect_describes_the_os \
    "root=/dev/sda1 type=linux distribution=ferrytest version=1.0 hostname=ferryhost arch=x86_64" \
    "$("$FERRY" inspect "$img/os.img" | awk '$1 != "product" {printf "%s%s=%s", sep, $1, $2; sep=" "}')"
expect inspect_json '{"root":"/dev/sda1","type":"linux","distribution":"ferrytest","version":"1.0","build":"","product":"Ferry Test Linux 1.0","hostname":"ferryhost","arch":"x86_64"}' \
    "$("$FERRY" inspect "$img/os.img" --json)"
expect inspect_finds_windows "root=/dev/sda2 type=windows" \
    "$("$FERRY" inspect "$img/windows.img" | awk '$1 == "root" || $1 == "type" {printf "%s%s=%s", sep, $1, $2; sep=" "}')"
# from the registry: product (Windows 11 still says 10 there; the build
# tells), version, hostname from the control set in use, architecture
expect inspect_reads_windows_registry \
    '"version":"10.0","build":"22631","product":"Windows 11 Pro","hostname":"FERRY-WIN","arch":"x86_64"' \
    "$("$FERRY" inspect "$img/windows.img" --json | sed 's/.*"distribution":"",//; s/}$//')"
expect windows_system_volume_mounted "public" "$("$FERRY" cat "$img/windows.img" /Users/Public/readme.txt)"
err=$("$FERRY" inspect "$img/gpt.img" 2>&1); status=$?
expect inspect_without_os "1 ferry: inspect: no operating system found" "$status $err"
expect ls_several_paths "/boot/efi: EFI /srv: index.txt lost+found" \
    "$("$FERRY" ls "$img/os.img" /boot/efi /srv | tr '\n' ' ' | sed 's/  */ /g; s/ $//')"

# mount and umount in one launch, with shell
# a line marked - may fail; the batch goes on
out=$(printf 'mount /dev/sda2 /boot\nls /boot/EFI\numount /boot\nls /boot\n-ls /nope\ncat "/data/sub/deep.txt"\n' |
      "$FERRY" -m /dev/sda1 shell "$img/gpt.img" 2>"$tmp/shell.err"); status=$?
expect shell_mounts_and_unmounts "BOOT deeper" "$(echo $out)"
expect shell_error_names_line "0 ferry: shell: line 5: ls: /nope: No such file or directory" \
    "$status $(cat "$tmp/shell.err")"

# btrfs with the OS in subvolumes (Fedora, openSUSE): found, mounted with
# its fstab's subvol= options; -m can name a subvolume
bs=$img/btrfs-subvol.img
expect inspect_finds_os_in_btrfs_subvolume "root=/dev/sda type=linux hostname=fedorahost" \
    "$("$FERRY" inspect "$bs" | awk '$1 == "root" || $1 == "type" || $1 == "hostname" {printf "%s%s=%s", sep, $1, $2; sep=" "}')"
expect btrfs_subvolumes_mounted_by_fstab "fedorahost|in home" \
    "$("$FERRY" cat "$bs" /etc/hostname)|$("$FERRY" cat "$bs" /home/user/note.txt)"
expect mount_names_a_subvolume "note.txt" "$("$FERRY" -m /dev/sda:/:subvol=home ls "$bs" /user)"

# hybrid ISOs: the filesystem on the whole disk is found and mounted
for h in mbr protective offset; do
    expect "reads_hybrid_iso_$h" "deeper|iso9660" \
        "$("$FERRY" cat "$img/iso-hybrid-$h.img" /data/sub/deep.txt)|$("$FERRY" filesystems "$img/iso-hybrid-$h.img" |
           awk '$1 == "/dev/sda" {print $3}')"
done
# generic options (ro, noatime) are mount flags, not text for the filesystem
expect mount_options_ro_and_noatime "deeper" \
    "$("$FERRY" -m /dev/sda:/:ro,noatime:iso9660 cat "$img/iso-hybrid-mbr.img" /data/sub/deep.txt)"
# a failed mount names the device as the user does
err=$("$FERRY" -m /dev/sda:/::vfat ls "$img/fs-ext2.img" / 2>&1)
case $err in *"mount /dev/sda (vfat) on /"*) pass messages_name_devices_as_the_user_does ;;
    *) fail messages_name_devices_as_the_user_does "$err" ;; esac

# LVM: found, activated read-only, shown as /dev/VG/LV
"$FERRY" filesystems "$img/lvm.img" | grep -q '^/dev/vg0/data .*lv .*ext4' &&
    pass lvm_volume_listed || fail lvm_volume_listed "$("$FERRY" filesystems "$img/lvm.img")"
expect lvm_volume_mounted "in lvm" "$("$FERRY" cat "$img/lvm.img" /hello)"

# ---- read-only really is: the image is byte-identical afterwards
cp "$img/ext4.img" "$tmp/ro.img"
before=$(sha256sum < "$tmp/ro.img")
# (the runs' statuses are compared too: two failed runs leave it unchanged)
"$FERRY" ls "$tmp/ro.img" -lR / >/dev/null; ls_status=$?
"$FERRY" cat "$tmp/ro.img" /etc/os-release >/dev/null; cat_status=$?
expect readonly_leaves_image_identical "0 0 $before" "$ls_status $cat_status $(sha256sum < "$tmp/ro.img")"

# ---- writing with --rw
head -c 3000000 /dev/urandom > "$tmp/up.bin"
cp "$img/gpt.img" "$tmp/rw.img"
"$FERRY" --rw -m /dev/sda1 upload "$tmp/rw.img" "$tmp/up.bin" /data/up.bin &&
    "$FERRY" -m /dev/sda1 download "$tmp/rw.img" /data/up.bin "$tmp/down.bin" &&
    cmp -s "$tmp/up.bin" "$tmp/down.bin" && pass upload_then_download_identical ||
    fail upload_then_download_identical differ
"$FERRY" --rw -m /dev/sda2 upload "$tmp/rw.img" "$tmp/up.bin" /up.bin
status=$? # (the expected text's $(...) would reset $?)
expect upload_to_fat "0 $(md5sum < "$tmp/up.bin")" \
    "$status $("$FERRY" -m /dev/sda2 cat "$tmp/rw.img" /up.bin | md5sum)"

# ---- every filesystem, and MBR
for fs in ext2 ext3 xfs btrfs vfat exfat ntfs udf iso9660 squashfs hfsplus; do
    expect "reads_$fs" "deeper|small.txt sub sub/deep.txt" \
        "$("$FERRY" cat "$img/fs-$fs.img" /data/sub/deep.txt)|$("$FERRY" ls "$img/fs-$fs.img" -R /data |
           sort | tr '\n' ' ' | sed 's/ $//')"
done
# ntfs3 writes to a volume that has been written before (a fresh mkntfs
# volume is refused by kernel 6.1's ntfs3: docs/appliance.md)
cp "$img/fs-ntfs.img" "$tmp/ntfs.img"
"$FERRY" --rw -a "$tmp/ntfs.img" shell <<EOF
mkdir -p /new/dir
upload $tmp/up.bin /new/dir/up.bin
mv /data/small.txt /new/small.txt
EOF
ntfsfix -n "$tmp/ntfs.img" >/dev/null 2>&1
status=$?
expect writes_ntfs "0 $(md5sum < "$tmp/up.bin")|small file" \
    "$status $("$FERRY" cat "$tmp/ntfs.img" /new/dir/up.bin | md5sum)|$("$FERRY" cat "$tmp/ntfs.img" /new/small.txt)"
expect reads_hfsplus_of_a_hybrid_iso "deeper" \
    "$("$FERRY" -a "$img/hfsplus-hybrid.img" -m /dev/sda:/::hfsplus cat /data/sub/deep.txt)"
expect reads_mbr_partition "deeper" "$("$FERRY" cat "$img/mbr.img" /data/sub/deep.txt)"
expect mbr_partition_named_sda1 "/dev/sda1 partition ext4" \
    "$("$FERRY" filesystems "$img/mbr.img" | awk '$1 == "/dev/sda1" {print $1, $2, $3}')"

# ---- a --rw session leaves its filesystems clean (unmounted, logs written)
for fs in ext4 xfs; do
    [ $fs = ext4 ] && cp "$img/ext4.img" "$tmp/clean.img" || cp "$img/fs-xfs.img" "$tmp/clean.img"
    "$FERRY" --rw upload "$tmp/clean.img" "$tmp/up.bin" /up.bin
    if [ $fs = ext4 ]; then e2fsck -fn "$tmp/clean.img" >/dev/null 2>&1; else xfs_repair -n "$tmp/clean.img" >/dev/null 2>&1; fi
    status=$?
    expect "rw_session_leaves_${fs}_clean" "0 $(md5sum < "$tmp/up.bin")" \
        "$status $("$FERRY" cat "$tmp/clean.img" /up.bin | md5sum)"
done

# mount points whose names /proc/mounts escapes (a space as \040, a
# backslash as \134), one inside the other: at power-off each is unmounted,
# the inner first, so each filesystem is clean, not merely synced. (e2fsck
# -n says 0 for an ext4 never unmounted: its needs_recovery flag tells, and
# ferry, which replays no journal, would not see the file)
mkdir -p "$tmp/sp/root/with space" "$tmp/sp/outer/back\\slash" "$tmp/sp/inner"
for d in root outer inner; do
    truncate -s 32M "$tmp/sp/$d.img" && mkfs.ext4 -q -F -d "$tmp/sp/$d" "$tmp/sp/$d.img"
done
echo "through a space" > "$tmp/sp/f"
"$FERRY" -v --rw -a "$tmp/sp/root.img" -a "$tmp/sp/outer.img" -a "$tmp/sp/inner.img" \
    -m /dev/sda -m "/dev/sdb:/with space" -m "/dev/sdc:/with space/back\\slash" shell 2>"$tmp/sp/err" <<EOF
upload $tmp/sp/f "/with space/f"
upload $tmp/sp/f '/with space/back\slash/f'
EOF
status=$?
clean=
for d in root outer inner; do
    e2fsck -fn "$tmp/sp/$d.img" >/dev/null 2>&1 && ! dumpe2fs -h "$tmp/sp/$d.img" 2>/dev/null |
        grep -q needs_recovery && clean="$clean $d"
done
expect rw_mounts_with_escaped_names_unmounted_clean \
    "0| root outer inner|through a space|through a space|" \
    "$status|$clean|$("$FERRY" cat "$tmp/sp/outer.img" /f)|$("$FERRY" cat "$tmp/sp/inner.img" /f)|$(
       grep 'ferryd: umount' "$tmp/sp/err")"

# ---- the qemu ferry carries: used by default, run from memory, named
expect version_names_carried_qemu "qemu $(cat build/qemu/qemu-version)" \
    "$("$FERRY" --version | grep '^qemu ')"
err=$(env -u FERRY_QEMU PATH=/nonexistent "$FERRY" -v ls "$img/ext4.img" /data 2>&1 >/dev/null)
case $err in *"qemu: the one ferry carries, $(cat build/qemu/qemu-version)"*) pass carried_qemu_runs_without_path ;;
    *) fail carried_qemu_runs_without_path "$err" ;; esac
mkfifo "$tmp/hold"
(env -u FERRY_QEMU "$FERRY" shell "$img/ext4.img" < "$tmp/hold" > "$tmp/hold.out" 2>&1 &
 echo $! > "$tmp/hold.pid"; wait)&
exec 7> "$tmp/hold"
echo 'ls /data' >&7
for i in $(seq 100); do grep -q small.txt "$tmp/hold.out" 2>/dev/null && break; sleep 0.2; done
qpid=$(pgrep -P "$(cat "$tmp/hold.pid")" | head -1)
expect carried_qemu_runs_from_a_memfd "/memfd:ferry-qemu (deleted)" \
    "$(readlink "/proc/$qpid/exe" 2>&1)"
exec 7>&-
wait

# ---- how a launch fails
err=$(FERRY_QEMU=/nonexistent/qemu "$FERRY" ls "$img/ext4.img" / 2>&1); status=$?
expect missing_system_qemu_named "1 ferry: /nonexistent/qemu: no qemu to run there (--qemu, or \$FERRY_QEMU)" \
    "$status $err"
err=$("$FERRY" ls "$tmp/none.img" / 2>&1); status=$?
expect missing_image "1 ferry: $tmp/none.img: No such file or directory" "$status $err"
cp "$img/ext4.img" "$tmp/secret.img" && chmod 600 "$tmp/secret.img" && chmod 755 "$tmp"
err=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$FERRY" ls "$tmp/secret.img" / 2>&1)
expect unreadable_image "ferry: $tmp/secret.img: Permission denied" "$err"
err=$("$FERRY" --format bogus -a "$img/ext4.img" ls / 2>&1); status=$?
case "$status $err" in "2 ferry: --format takes raw, qcow2, "*", not 'bogus'") pass unknown_format_named ;;
    *) fail unknown_format_named "$status $err" ;; esac
# a qcow2 whose header is damaged: qemu's own reason is shown
cp "$img/ext4.qcow2" "$tmp/bad.qcow2"
printf '\377\377\377\377' | dd of="$tmp/bad.qcow2" bs=1 seek=20 conv=notrunc status=none
err=$("$FERRY" ls "$tmp/bad.qcow2" / 2>&1); status=$?
case "$status $err" in "1 "*"qemu said"*"qcow2"*) pass damaged_qcow2_shows_qemus_reason ;;
    *) fail damaged_qcow2_shows_qemus_reason "$status $err" ;; esac
# a damaged appliance inside the executable: its kernel (for a boot), its
# saved state (for a resume)
damage() {
    cp build/ferry "$tmp/ferry-damaged"
    python3 - "$tmp/ferry-damaged" "$1" <<'EOF'
import sys
exe = bytearray(open(sys.argv[1], 'rb').read())
blob = open(sys.argv[2], 'rb').read()
at = exe.find(blob[:64])
assert at > 0
for i in range(at + len(blob) // 2, at + len(blob) // 2 + 64):
    exe[i] ^= 0x5a
open(sys.argv[1], 'wb').write(exe)
EOF
}
damage build/appliance/vmlinux.zst
err=$(FERRY_NO_RESUME=1 "$tmp/ferry-damaged" ls "$img/ext4.img" / 2>&1); status=$?
case "$status $err" in "1 "*"appliance inside this ferry is damaged (ferry-kernel"*) pass damaged_appliance_detected ;;
    *) fail damaged_appliance_detected "$status $err" ;; esac
# (the saved one is only a shortcut: ferry says so and boots)
damage build/appliance/state.zst
err=$("$tmp/ferry-damaged" ls "$img/ext4.img" /data 2>&1); status=$?
case "$status $err" in "0 ferry: the appliance inside this ferry is damaged (ferry-state: "*"; booting instead"*random.bin*) pass damaged_saved_appliance_detected ;;
    *) fail damaged_saved_appliance_detected "$status $err" ;; esac
# a guest kernel that panics (no init to run: a boot, as FERRY_APPEND
# boots) is said to have crashed, in one line with its own words
err=$(FERRY_APPEND="rdinit=/nope init=/nope" timeout 120 "$FERRY" ls "$img/ext4.img" / 2>&1); status=$?
expect kernel_crash_is_said "1 1" \
    "$status $(echo "$err" | grep -c "^ferry: the appliance's kernel crashed: Kernel panic - not syncing")"
# a guest that never says hello
printf '#!/bin/sh\nsleep 60\n' > "$tmp/silent-qemu" && chmod +x "$tmp/silent-qemu"
start=$(date +%s)
err=$(FERRY_QEMU="$tmp/silent-qemu" "$FERRY" --launch-timeout 2 ls "$img/ext4.img" / 2>&1); status=$?
took=$(( $(date +%s) - start ))
case "$status $err" in "1 "*"did not start within 2 s"*) [ $took -lt 10 ] &&
    pass silent_guest_times_out || fail silent_guest_times_out "took $took s" ;;
    *) fail silent_guest_times_out "$status $err" ;; esac
# a qemu without the microvm machine: the PC machine (q35, virtio-pci) instead
cat > "$tmp/old-qemu" <<EOF
#!/bin/sh
case "\$*" in *microvm*)
    echo "qemu-system-x86_64: -machine microvm: unsupported machine type" >&2; exit 1 ;; esac
exec qemu-system-x86_64 "\$@"
EOF
chmod +x "$tmp/old-qemu"
expect no_microvm_falls_back_to_q35 "deeper" \
    "$(FERRY_QEMU="$tmp/old-qemu" "$FERRY" -m /dev/sda1 cat "$img/gpt.img" /data/sub/deep.txt)"

# ---- -v shows the guest console and the qemu line: a boot's kernel
# messages, or what ferryd says when it wakes the saved appliance
out=$(FERRY_NO_RESUME=1 "$FERRY" -v ping "$img/ext4.img" 2>&1)
case $out in *"ferry: qemu: "*"-sandbox on"*"Linux version 6.1"*) pass verbose_shows_qemu_and_console ;;
    *) fail verbose_shows_qemu_and_console "$(echo "$out" | head -3)" ;; esac
out=$("$FERRY" -v ping "$img/ext4.img" 2>&1)
case $out in *"ferry: qemu: "*"-incoming fd:9"*"ferryd: woken at "*) pass verbose_shows_the_wake ;;
    *) fail verbose_shows_the_wake "$(echo "$out" | tail -3)" ;; esac
# qemu confined: seccomp with every deny option, no default devices, no network
qline=$(echo "$out" | grep '^ferry: qemu: ')
case $qline in
*" -nodefaults "*" -sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny "*)
    case $qline in *-netdev*|*" -nic "*|*" -net "*) fail qemu_is_confined "a network device: $qline" ;;
        *) pass qemu_is_confined ;; esac ;;
*) fail qemu_is_confined "$qline" ;;
esac

# ---- ferry killed: qemu goes with it, and no file is left behind
marker=$tmp/kill-marker.img
cp "$img/ext4.img" "$marker"
"$FERRY" ls "$marker" -R / >/dev/null 2>&1 &
pid=$!
# qemu names the image nowhere now (it gets a descriptor): find it as
# ferry's child
for i in $(seq 100); do
    qemu=$(pgrep -P $pid -f qemu-system) && break
    sleep 0.05
done
kill -9 $pid 2>/dev/null
wait 2>/dev/null
sleep 1
# (killed, it may wait a moment to be reaped: a zombie is gone too)
state=$(ps -o stat= -p "$qemu" 2>/dev/null)
expect qemu_dies_with_ferry "running gone" \
    "$([ -n "$qemu" ] && echo running || echo never-ran) $(case $state in ""|Z*) echo gone ;; *) echo "alive ($state)" ;; esac)"

# ---- extent-direct reads: the host reads a raw image's extents itself,
# and gets what the guest path gives (tests/direct.sh covers the
# filesystems); extents placed outside the image are refused
for f in /data/random.bin /data/sparse.bin; do
    guest=$("$FERRY" --no-direct cat "$img/ext4.img" "$f" | sha256sum)
    err=$("$FERRY" -v cat "$img/ext4.img" "$f" 2>&1 >"$tmp/direct.out")
    expect "direct_read_is_the_guests_$(basename "$f")" "1 $guest" \
        "$(grep -c 'read directly from the image' <<<"$err") $(sha256sum <"$tmp/direct.out")"
done
err=$(FERRY_APPEND=ferry.test_lie_extents "$FERRY" cat "$img/ext4.img" /data/random.bin 2>&1 >"$tmp/direct.out"); status=$?
expect extents_outside_the_device_refused \
    "1 0 ferry: cat: /data/random.bin: the appliance placed the file's bytes outside its image" \
    "$status $(wc -c <"$tmp/direct.out") $err"
# a qcow2: read on the host through qemu's export of its disk, checked the same
guest=$("$FERRY" --no-direct cat "$img/ext4.qcow2" /data/random.bin | sha256sum)
err=$("$FERRY" -v cat "$img/ext4.qcow2" /data/random.bin 2>&1 >"$tmp/direct.out")
expect direct_read_of_a_qcow2_through_its_export "1 $guest" \
    "$(grep -c "read directly from the image (qemu's export)" <<<"$err") $(sha256sum <"$tmp/direct.out")"
err=$(FERRY_APPEND=ferry.test_lie_extents "$FERRY" cat "$img/ext4.qcow2" /data/random.bin 2>&1 >"$tmp/direct.out"); status=$?
expect export_extents_outside_the_device_refused \
    "1 0 ferry: cat: /data/random.bin: the appliance placed the file's bytes outside its image" \
    "$status $(wc -c <"$tmp/direct.out") $err"

finish
