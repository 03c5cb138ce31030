#!/bin/bash
# resume.sh: ferry resumes the appliance its build saved instead of booting
# it; each run is its own: the host's time, fresh random state, its own
# disks named as after a boot; and whatever cannot resume boots, saying so
# under -v.
cd "$(dirname "$0")/.."
. tests/lib.sh

img=build/test-images
tests/images.sh "$img"
work=$(mktemp -d "$PWD/build/resume-XXXXXX")
trap 'rm -rf "$work"' EXIT

# -v says how the appliance came up
how() { "$FERRY" -v "$@" 2>&1 >/dev/null | grep -ao 'appliance up ([^)]*)' | head -1; }

expect resumed_by_default "appliance up (TCG, microvm, resumed)" "$(how ping "$img/ext4.img")"
expect no_resume_boots "appliance up (TCG, microvm, booted)" \
    "$(FERRY_NO_RESUME=1 how ping "$img/ext4.img")"
expect host_qemu_boots "ferry: booting the appliance: a qemu of the system was chosen" \
    "$("$FERRY" -v --qemu qemu-system-x86_64 ping "$img/ext4.img" 2>&1 | grep -a 'booting the')"
expect other_memsize_boots "appliance up (TCG, microvm, booted)" \
    "$(how --memsize 320 ping "$img/ext4.img")"
# the saved disk slots are read-only (qemu refuses a writable disk in
# them): --rw boots at once, with no failed resume first
cp --sparse=always "$img/ext4.img" "$work/rw0.img"
"$FERRY" -v --rw mkdir "$work/rw0.img" /d 2>"$work/err"
expect rw_boots_without_a_failed_resume "0 1 1" \
    "$(grep -ac 'the saved appliance did not start' "$work/err") $(grep -ac 'booting the appliance: --rw' "$work/err") $(grep -ac 'ferry: qemu: qemu-system' "$work/err")"
five=$(for i in 1 2 3 4 5; do printf -- '-a %s ' "$img/ext4.img"; done)
# shellcheck disable=SC2086
expect five_images_boot "appliance up (TCG, microvm, booted)" "$(how $five filesystems)"

# The disks of this run, named as a boot names them: partitions, LVM, the
# order of -a, in every slot.
disks="-a $img/lvm.img -a $img/gpt.img -a $img/mbr.img -a $img/ext4.qcow2"
# shellcheck disable=SC2086
booted=$(FERRY_NO_RESUME=1 "$FERRY" $disks filesystems 2>&1)
# shellcheck disable=SC2086
expect disks_named_as_after_a_boot "$booted" "$("$FERRY" $disks filesystems 2>&1)"
expect one_disk_named_sda "/dev/sda" \
    "$("$FERRY" -a "$img/gpt.img" filesystems | awk 'NR == 2 { print $1 }')"
expect files_read_after_resume "small file" \
    "$("$FERRY" cat "$img/ext4.img" /data/small.txt 2>&1)"

# The clock is the host's: a directory made now has the host's time.
cp --sparse=always "$img/ext4.img" "$work/rw.img"
before=$(date +%s)
"$FERRY" --rw mkdir "$work/rw.img" /now
after=$(date +%s)
made=$(date -d "$("$FERRY" stat "$work/rw.img" /now | sed -n 's/^Modify: //p')" +%s 2>/dev/null)
if [ -n "$made" ] && [ "$made" -ge "$before" ] && [ "$made" -le "$after" ]; then
    pass clock_is_the_hosts
else
    fail clock_is_the_hosts "made at [$made], the command ran from $before to $after"
fi
expect writes_of_a_resumed_run_are_clean 0 \
    "$(e2fsck -fn "$work/rw.img" >/dev/null 2>&1; echo $?)"

# Random state is fresh each run: the same saved machine, woken twice,
# gives two different samples of its generator.
sample() { "$FERRY" -v ping "$img/ext4.img" 2>&1 | grep -ao 'random sample [0-9a-f]*' | head -1; }
a=$(sample)
b=$(sample)
if [ -n "$a" ] && [ -n "$b" ] && [ "$a" != "$b" ]; then
    pass random_state_differs_between_runs
else
    fail random_state_differs_between_runs "[$a] then [$b]"
fi

# A saved state that will not load: ferry boots instead and says why.
zstd -q -d -c build/appliance/state.zst | head -c 3000000 > "$work/cut.state"
out=$(FERRY_TEST_STATE="$work/cut.state" "$FERRY" -v cat "$img/ext4.img" /data/small.txt 2>"$work/err")
expect damaged_state_boots_instead "small file" "$out"
expect damaged_state_is_said "1" \
    "$(grep -ac 'the saved appliance did not start' "$work/err")"
# but a damaged image is qemu's own failure: no second qemu, no such line
cp "$img/ext4.qcow2" "$work/bad.qcow2"
printf '\377\377\377\377' | dd of="$work/bad.qcow2" bs=1 seek=20 conv=notrunc status=none
"$FERRY" -v ls "$work/bad.qcow2" / > /dev/null 2> "$work/err"
expect damaged_image_no_boot_after_resume "0 1" \
    "$(grep -ac 'the saved appliance did not start' "$work/err") $(grep -ac 'ferry: qemu: qemu-system' "$work/err")"
finish
