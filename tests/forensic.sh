#!/bin/bash
# forensic.sh: read-only that really is, evidence records, hostile and
# corrupted images, and the faults a run can meet (qemu killed, signals, a
# full disk, many readers at once). Needs root for the dirty-image setup
# (loop mounts on the host); those tests are skipped, and said so, without.
cd "$(dirname "$0")/.."
. tests/lib.sh

img=build/test-images
tests/images.sh "$img"
# not under /tmp: the no-trace test watches /tmp
tmp=$(mktemp -d "$PWD/build/forensic-XXXXXX")
trap 'umount "$tmp"/mnt* 2>/dev/null; rm -rf "$tmp"' EXIT
sha() { sha256sum < "$1" | cut -d' ' -f1; }
# qemu gets the images as descriptors, so its command line names none: the
# qemus of this run are found by a word on the appliance's kernel command line
tag="ferrytest.run=$$"
export FERRY_APPEND="$tag"
qemus() { pgrep -f "qemu-system.*$tag" | tr '\n' ' '; }

# ---- read-only leaves every format byte-identical
for f in ext4.img ext4.qcow2 ext4.vmdk ext4.vdi ext4.vhdx ext4.vpc lvm.img os.img; do
    cp "$img/$f" "$tmp/ro-$f"
    before=$(sha "$tmp/ro-$f")
    "$FERRY" ls "$tmp/ro-$f" -lR / >/dev/null 2>&1 &&
        "$FERRY" timeline "$tmp/ro-$f" >/dev/null 2>&1
    expect "readonly_identical_$f" "0 $before" "$? $(sha "$tmp/ro-$f")"
done

# ---- dirty filesystems: the journal or log is not replayed, the image
# is not touched, and what is shown is what the disk holds
if [ "$(id -u)" = 0 ]; then
    dirty() {   # dirty FSTYPE MKFS...: a copy taken while mounted and written
        local fs=$1
        shift
        truncate -s 320M "$tmp/live-$fs.img"
        "$@" "$tmp/live-$fs.img" >/dev/null 2>&1
        mkdir -p "$tmp/mnt-$fs"
        mount -o loop "$tmp/live-$fs.img" "$tmp/mnt-$fs" || return 1
        echo committed > "$tmp/mnt-$fs/committed" && sync
        # freezing writes the committed state in place (xfs keeps metadata
        # only in its log after a sync); what follows dirties the log again
        fsfreeze -f "$tmp/mnt-$fs" && fsfreeze -u "$tmp/mnt-$fs"
        echo "after the commit" > "$tmp/mnt-$fs/late"
        python3 -c "import os,sys; fd=os.open(sys.argv[1], os.O_RDONLY); os.fsync(fd)" "$tmp/mnt-$fs/late"
        cp --sparse=always "$tmp/live-$fs.img" "$tmp/dirty-$fs.img"
        umount "$tmp/mnt-$fs"
    }
    dirty ext4 mkfs.ext4 -q -F
    dumpe2fs -h "$tmp/dirty-ext4.img" 2>/dev/null | grep -q needs_recovery &&
        pass dirty_ext4_needs_recovery || fail dirty_ext4_needs_recovery "the copy is clean"
    dirty xfs mkfs.xfs -q -f
    dirty btrfs mkfs.btrfs -q -f
    for fs in ext4 xfs btrfs; do
        before=$(sha "$tmp/dirty-$fs.img")
        out=$("$FERRY" cat "$tmp/dirty-$fs.img" /committed 2>&1)
        expect "dirty_${fs}_mounts_readonly" "committed" "$out"
        expect "dirty_${fs}_image_untouched" "$before" "$(sha "$tmp/dirty-$fs.img")"
    done
else
    echo "SKIP dirty filesystems: not root (loop mounts needed)"
fi

# ---- evidence: a timeline mactime reads, image hashes, an audit record
"$FERRY" timeline "$img/ext4.img" > "$tmp/body"
expect timeline_has_every_entry "$("$FERRY" ls "$img/ext4.img" -aR / | wc -l)" \
    "$(($(wc -l < "$tmp/body") - 1))"
expect timeline_body_fields "0|/data/small.txt|r/rrw-r--r--|11" \
    "$(awk -F'|' '$2 == "/data/small.txt" {print $1"|"$2"|"$4"|"$7}' "$tmp/body")"
mactime -b "$tmp/body" -d > "$tmp/mactime.csv" 2>"$tmp/mactime.err" &&
    grep -q '/data/small.txt' "$tmp/mactime.csv" && pass timeline_accepted_by_mactime ||
    fail timeline_accepted_by_mactime "$(head -3 "$tmp/mactime.err")"
expect timeline_hash_column "$(echo "small file" | md5sum | cut -d' ' -f1)" \
    "$("$FERRY" timeline "$img/ext4.img" --hash md5 /data | awk -F'|' '$2 == "/data/small.txt" {print $1}')"
expect timeline_json_nanoseconds 1 \
    "$("$FERRY" timeline "$img/ext4.img" --json /data/small.txt | grep -c '"mtime":"[0-9-]*T[0-9:]*\.[0-9]\{9\}Z"')"
expect hash_image_matches_sha256sum "$(sha256sum "$img/ext4.qcow2")" "$("$FERRY" hash-image "$img/ext4.qcow2")"
rm -f "$tmp/audit.log"
"$FERRY" --log "$tmp/audit.log" cat "$img/ext4.img" /data/small.txt >/dev/null
"$FERRY" --log "$tmp/audit.log" cat "$img/ext4.img" /nope 2>/dev/null
python3 - "$tmp/audit.log" "$(sha "$img/ext4.img")" > "$tmp/audit.check" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
r = recs[0]
im = r["images"][0]
print(len(recs), r["exit_status"], recs[1]["exit_status"], im["sha256_before"] == sys.argv[2],
      im["unchanged"], r["command"][-1], r["start"] <= r["end"], bool(r["appliance_kernel"]))
EOF
expect audit_log_records_each_run "2 0 1 True True /data/small.txt True True" "$(cat "$tmp/audit.check")"
# the record's command is the argument vector as typed, whole: the image
# operand once, the command name once, in their places (with the image
# as an operand and with -a); its kernel is the version's, without a newline
record() {   # the last record of LOG: its command as JSON, and its kernel
    python3 -c 'import json, sys
r = json.loads(open(sys.argv[1]).readlines()[-1])
print(json.dumps(r["command"]), repr(r["appliance_kernel"]))' "$1"
}
argv() { python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "$@"; }
kernel=$(cat build/appliance/kernel-version)
rm -f "$tmp/argv.log"
"$FERRY" --log "$tmp/argv.log" cat "$img/os.img" /etc/hostname >/dev/null
expect audit_log_command_is_argv_as_typed \
    "$(argv "$FERRY" --log "$tmp/argv.log" cat "$img/os.img" /etc/hostname) '$kernel'" "$(record "$tmp/argv.log")"
"$FERRY" --log "$tmp/argv.log" -a "$img/os.img" cat /etc/hostname >/dev/null
expect audit_log_command_is_argv_with_a \
    "$(argv "$FERRY" --log "$tmp/argv.log" -a "$img/os.img" cat /etc/hostname) '$kernel'" "$(record "$tmp/argv.log")"
# --version (and version): one line each for ferry, protocol, kernel and
# qemu, no blank line, the kernel as the record names it
for v in --version:option version:command; do
    "$FERRY" ${v%%:*} > "$tmp/version"
    expect "version_lines_${v#*:}" "ferry protocol kernel qemu|0|kernel $kernel" \
        "$(cut -d' ' -f1 "$tmp/version" | tr '\n' ' ' | sed 's/ $//')|$(awk 'NF == 0' "$tmp/version" | wc -l)|$(
           grep '^kernel' "$tmp/version")"
done

# ---- no trace on the host: ferry and its qemu create, change or remove
# no file anywhere (traced: what the rest of the machine does is not ours)
trace() { strace -f -qq -o "$tmp/strace" -e trace=%file,%desc -e signal=none "$@"; }
trace "$FERRY" ls "$img/ext4.img" -R / >/dev/null
trace_ls=$(python3 tests/writes.py "$tmp/strace")
opened=$(grep -c 'ext4.img' "$tmp/strace")
trace "$FERRY" cat "$img/os.img" /etc/os-release >/dev/null
expect no_files_left_on_the_host "images-opened||" \
    "$([ "$opened" -gt 0 ] && echo images-opened)|$trace_ls|$(python3 tests/writes.py "$tmp/strace")"

# ---- corrupted filesystems: each run ends within its timeout, with a
# listing or a clear error, never a crash or a hang (fixed seed)
python3 - "$img" "$tmp" <<'EOF'
import random, shutil, sys
img, out = sys.argv[1], sys.argv[2]
rnd = random.Random(20261121)
# where each filesystem keeps what its mount and a listing read first
regions = {
    "ext4": ("ext4.img", [(1024, 1024), (4096, 65536), (1 << 20, 1 << 20)]),
    "xfs": ("fs-xfs.img", [(0, 4096), (4096, 65536), (64 << 20, 1 << 20)]),
    "btrfs": ("fs-btrfs.img", [(65536, 4096), (1 << 20, 4 << 20), (20 << 20, 8 << 20)]),
    "vfat": ("fs-vfat.img", [(0, 512), (512, 65536), (65536, 1 << 20)]),
    "ntfs": ("fs-ntfs.img", [(0, 512), (4096, 1 << 20), (16 << 20, 4 << 20)]),
}
for fs, (name, spans) in regions.items():
    for i, (start, length) in enumerate(spans):
        path = f"{out}/corrupt-{fs}-{i}.img"
        shutil.copyfile(f"{img}/{name}", path)
        with open(path, "r+b") as f:
            for _ in range(64):
                f.seek(start + rnd.randrange(length))
                f.write(bytes([rnd.randrange(256)]))
EOF
for c in "$tmp"/corrupt-*.img; do
    name=$(basename "$c" .img)
    start=$(date +%s)
    timeout 150 "$FERRY" --timeout 30 ls "$c" -R / >/dev/null 2>"$tmp/corrupt.err"
    status=$?
    took=$(( $(date +%s) - start ))
    case $status in
    0|1) pass "${name}_ends_cleanly" ;;
    *) fail "${name}_ends_cleanly" "status $status after $took s: $(tail -2 "$tmp/corrupt.err")" ;;
    esac
done

# ---- faults
# qemu killed in the middle of a download, an upload and a listing
head -c 200000000 /dev/urandom > "$tmp/big.bin"
truncate -s 1G "$tmp/fault.img" && mkfs.xfs -q "$tmp/fault.img"
"$FERRY" --rw upload "$tmp/fault.img" "$tmp/big.bin" /big.bin
# a directory long enough to list for more than a moment
mkdir -p "$tmp/many/many" && (cd "$tmp/many/many" && seq -f "entry-%06g" 10000 | xargs touch)
truncate -s 256M "$tmp/many.img" && mkfs.ext4 -q -F -d "$tmp/many" "$tmp/many.img"
killed_midway() {   # NAME CMD...: kill the run's qemu once the call has begun
    local name=$1 start status killed=
    shift
    start=$(date +%s)
    rm -f "$tmp/trace"
    "$@" 2>"$tmp/trace" >/dev/null &
    local fp=$!
    for i in $(seq 500); do
        grep -q "call $name (" "$tmp/trace" 2>/dev/null && break
        sleep 0.01
    done
    sleep 0.05
    killed=$(qemus)
    [ -n "$killed" ] && kill -9 $killed
    wait $fp; status=$?
    err=$(grep -v '^ferry: call\|->' "$tmp/trace")
    local took=$(( $(date +%s) - start ))
    case "$status $err" in
    "1 "*"closed the channel"*) [ -n "$killed" ] && [ $took -lt 15 ] && pass "qemu_killed_during_$name" ||
        fail "qemu_killed_during_$name" "qemu [$killed], took $took s" ;;
    *) fail "qemu_killed_during_$name" "status $status: $err" ;;
    esac
}
# (--no-direct: small chunks through the guest make the transfer last)
FERRY_CHUNK_SIZE=4096 killed_midway download \
    "$FERRY" -x --no-direct download "$tmp/fault.img" /big.bin "$tmp/part.bin"
expect killed_download_leaves_no_file "" "$(ls "$tmp" | grep part.bin)"
FERRY_CHUNK_SIZE=4096 killed_midway upload \
    "$FERRY" -x --rw upload "$tmp/fault.img" "$tmp/big.bin" /big2.bin
FERRY_CHUNK_SIZE=4096 killed_midway list "$FERRY" -x ls "$tmp/many.img" -l /many
# SIGTERM and SIGINT in the middle of a transfer
for sig in TERM INT; do
    FERRY_CHUNK_SIZE=4096 "$FERRY" --no-direct download "$tmp/fault.img" /big.bin "$tmp/sig.bin" 2>/dev/null &
    pid=$!
    sleep 2.5
    running=$(qemus)
    kill -$sig $pid
    wait $pid
    status=$?
    sleep 0.5
    # ferry dies of the signal (128 + its number), after shutting qemu down
    expect "sig${sig}_stops_transfer" "qemu-was-running $((128 + $(kill -l $sig))) qemu-gone no-file" \
        "$([ -n "$running" ] && echo qemu-was-running) $status $([ -z "$(qemus)" ] && echo qemu-gone) $(
           [ -e "$tmp/sig.bin" ] || ls "$tmp" | grep -q sig.bin || echo no-file)"
done
echo "the old contents" > "$tmp/old.txt"
"$FERRY" --rw upload "$tmp/fault.img" "$tmp/old.txt" /target
FERRY_CHUNK_SIZE=4096 "$FERRY" --rw upload "$tmp/fault.img" "$tmp/big.bin" /target 2>/dev/null &
pid=$!
sleep 3
kill -TERM $pid
wait $pid
got=$("$FERRY" cat "$tmp/fault.img" /target | sha256sum | cut -d' ' -f1)
case $got in
"$(sha "$tmp/old.txt")"|"$(sha "$tmp/big.bin")") pass sigterm_upload_keeps_old_or_new ;;
*) fail sigterm_upload_keeps_old_or_new "/target is neither the old nor the new file" ;;
esac
# a full disk on the host, and a reader that goes away
if [ "$(id -u)" = 0 ]; then
    mkdir -p "$tmp/full" && mount -t tmpfs -o size=512k tmpfs "$tmp/full"
    err=$(timeout 120 "$FERRY" download "$img/ext4.img" /data/random.bin "$tmp/full/out.bin" 2>&1)
    status=$?
    expect enospc_is_reported "1 ferry: download: No space left on device" "$status $err"
    expect enospc_leaves_no_file "" "$(ls "$tmp/full")"
    umount "$tmp/full"
else
    echo "SKIP enospc: not root (tmpfs mount needed)"
fi
expect no_qemu_left_behind "" "$(qemus)"

# ---- many readers of one image at once
for i in 1 2 3 4 5 6 7 8; do
    ( "$FERRY" --launch-timeout 120 --timeout 120 cat "$img/ext4.img" /data/small.txt > "$tmp/conc.$i" 2>&1 ) &
done
wait
ok=0
for i in 1 2 3 4 5 6 7 8; do [ "$(cat "$tmp/conc.$i")" = "small file" ] && ok=$((ok + 1)); done
expect eight_concurrent_readers 8 "$ok"

finish
