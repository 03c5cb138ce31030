#!/bin/bash
# hostile.sh: the host program facing a guest that lies (tests/hostile-
# daemon.c): strings with escape sequences everywhere, a daemon that stops
# reading, floods events or junk, lies about its tree, its devices or a
# file's holes. Each must end promptly, with a message, and nothing from the
# guest may reach the terminal raw.
cd "$(dirname "$0")/.."
. tests/lib.sh

tmp=$(mktemp -d /tmp/ferry-hostile-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
h() {   # MODE ARGS...: ferry against the hostile daemon in that mode
    local mode=$1
    shift
    HOSTILE=$mode FERRY_DAEMON=$PWD/build/tests/hostile-daemon timeout 120 "$FERRY" --test-root /unused "$@"
}
on_tty() {   # MODE ARGS...: the same, with a terminal for stdout and stderr
    local mode=$1
    shift
    HOSTILE=$mode FERRY_DAEMON=$PWD/build/tests/hostile-daemon \
        script -qec "timeout 120 $FERRY --test-root /unused $*" /dev/null
}
raw_escape() { grep -c $'\033' || true; }
took() { echo $(( $(date +%s) - $1 )); }

# ---- every string from the guest is escaped on a terminal
out=$(on_tty escapes ping)
expect ping_versions_escaped "0 1" \
    "$(echo "$out" | raw_escape) $(echo "$out" | grep -c 'hostile\\x1b]0;owned\\x07\\x1b\[31m\\u202e')"
err=$(h escapes df /x 2>&1 >/dev/null)
expect error_message_escaped_off_terminal "ferry: df: message\\x1b]0;owned\\x07\\x1b[31m\\u202e" "$err"
err=$(h escapes -x df /x 2>&1 >/dev/null | grep -a 'statvfs ->')
expect trace_escapes_the_message "0 1" \
    "$(printf '%s' "$err" | raw_escape) $(printf '%s' "$err" | grep -c 'message\\x1b]0;owned')"
out=$(on_tty escapes filesystems)
expect device_fields_escaped "0 3" "$(echo "$out" | raw_escape) $(echo "$out" | grep -o 'x1b]0;owned' | wc -l)"
out=$(h escapes filesystems --json | grep sdb)
case $out in *'"type":"ext4\u001b]0;owned\u0007\u001b[31m\u202e"'*) pass device_fields_exact_in_json ;;
    *) fail device_fields_exact_in_json "$out" ;; esac
out=$(on_tty escapes readlink /x)
expect link_target_escaped "0 1" "$(echo "$out" | raw_escape) $(echo "$out" | grep -c 'target\\x1b')"
out=$(on_tty escapes ls -l /)
expect listing_escaped "0 1" "$(echo "$out" | raw_escape) $(echo "$out" | grep -c 'name\\x1b.* -> target\\x1b')"
# the digest is made on the host from the file's bytes: the appliance's own
# answer to a checksum call (here no digest at all) is never asked for
out=$(h escapes checksum /x 2>&1); status=$?
expect digest_is_made_on_the_host "0 $(printf 'pwned\n' | sha256sum | cut -d' ' -f1)  /x" \
    "$status $out"

# ---- a guest that stops reading during an upload: a timeout, not a hang
head -c 20000000 /dev/urandom > "$tmp/big"
start=$(date +%s)
err=$(h stop-reading --timeout 2 --rw upload "$tmp/big" /x 2>&1); status=$?
case "$status $err" in "1 ferry: upload: the appliance stopped reading"*)
    [ "$(took $start)" -lt 15 ] && pass upload_to_a_guest_that_stops_reading ||
        fail upload_to_a_guest_that_stops_reading "took $(took $start) s" ;;
    *) fail upload_to_a_guest_that_stops_reading "$status $err" ;; esac
# one that sends events instead of reading: events are no sign of reading
start=$(date +%s)
err=$(h events-not-reading --timeout 2 --rw upload "$tmp/big" /x 2>&1); status=$?
case "$status $err" in "1 ferry: upload: the appliance stopped reading (it only sent events)"*)
    [ "$(took $start)" -lt 15 ] && pass events_cannot_hold_an_upload ||
        fail events_cannot_hold_an_upload "took $(took $start) s" ;;
    *) fail events_cannot_hold_an_upload "$status $err" ;; esac
# a guest that refuses an upload at once and reads no more: its reason, at once
start=$(date +%s)
err=$(h early-reply --timeout 3 --rw upload "$tmp/big" /x 2>&1); status=$?
expect early_reply_ends_an_upload "1 ferry: upload: uploads are not served here fast" \
    "$status $(echo "$err" | head -1) $([ "$(took $start)" -lt 15 ] && echo fast || echo "slow: $(took $start) s")"

# ---- a guest that only says it is working, or only sends junk
start=$(date +%s)
err=$(h events --timeout 3 --call-limit 2 df /x 2>&1); status=$?
case "$status $err" in "1 ferry: df: statvfs: still not done after 2 s"*)
    [ "$(took $start)" -lt 15 ] && pass events_alone_cannot_hold_a_call ||
        fail events_alone_cannot_hold_a_call "took $(took $start) s" ;;
    *) fail events_alone_cannot_hold_a_call "$status $err" ;; esac
start=$(date +%s)
err=$(h junk --timeout 3 df /x 2>&1); status=$?
case "$status $err" in "1 ferry: df: statvfs: garbled reply"*"giving up on it"*)
    [ "$(took $start)" -lt 30 ] && pass junk_cannot_hold_a_call ||
        fail junk_cannot_hold_a_call "took $(took $start) s" ;;
    *) fail junk_cannot_hold_a_call "$status $err" ;; esac

# ---- lies about the tree, the devices, a file
mkdir "$tmp/out"
err=$(h root-file copy-out / "$tmp/out" 2>&1); status=$?
expect copy_out_of_a_root_that_is_no_directory "1 ferry: copy-out: /: not a directory" "$status $err"
expect device_named_like_a_prefix "/dev/sdb /dev/vd" \
    "$(h names filesystems | awk 'NR > 1 {print $1}' | tr '\n' ' ' | sed 's/ $//')"
err=$(h hole download /x "$tmp/x" 2>&1); status=$?
case "$status $err" in "1 ferry: download: "*"a hole beyond any file's size"*)
    [ ! -e "$tmp/x" ] && pass hole_past_any_file_refused || fail hole_past_any_file_refused "a file" ;;
    *) fail hole_past_any_file_refused "$status $err" ;; esac
# a download answered with extents the host never asked for: no image of
# its is read, and no byte passes as data
out=$(h extents cat /x 2>"$tmp/err"); status=$?
expect unasked_extents_refused "1 0 ferry: cat: /x: the appliance placed the file's bytes outside its image" \
    "$status ${#out} $(cat "$tmp/err")"
# a tree read whole (read_tree): a file whose bytes disagree with the entry
# is no file; nothing of it is hashed, and the call ends with the lie named
root_line='0|/|0|d/drwxr-xr-x|0|0|0|0|0|0|0'
for lie in "inline:the appliance's tree is malformed: inline bytes of another size" \
           "mid:the appliance's tree is malformed: a file's chunks announced in the middle of a batch" \
           "short:/f: the appliance ended the file early" \
           "long:the appliance's tree is malformed: more bytes than the file holds" \
           "dir:the appliance's tree is malformed: bytes for what is not a file" \
           "extents:/f: the appliance placed the file's bytes outside its image" \
           "hole:the appliance's tree is malformed: bytes where it said a hole is" \
           "ranges:the appliance's tree is malformed: a file's data ranges out of order or outside it" \
           "name:the appliance's tree is malformed: a name that leaves the tree" \
           "none:the appliance's tree is malformed: a file without its bytes"; do
    out=$(h "tree-${lie%%:*}" timeline --hash md5 / 2>"$tmp/err"); status=$?
    expect "tree_${lie%%:*}_refused" "1 $root_line ferry: timeline: ${lie#*:}" \
        "$status $out $(cat "$tmp/err")"
done
# the same lie to tar-out: nothing of the file is archived as data, and
# the archive gets no end
h tree-hole tar-out / - >"$tmp/lie.tar" 2>"$tmp/err"; status=$?
expect tree_hole_refused_by_tar_out \
    "1 ferry: tar-out: the appliance's tree is malformed: bytes where it said a hole is|no end" \
    "$status $(cat "$tmp/err")|$(tar -tf "$tmp/lie.tar" >/dev/null 2>&1 && echo an end || echo no end)" 
# an archive cut between two entries must not pass for a whole one
h tree-error tar-out / - >"$tmp/cut.tar" 2>"$tmp/err"; status=$?
expect tree_error_cuts_the_archive_visibly \
    "1 ferry: tar-out: /f: Permission denied|tar fails" \
    "$status $(cat "$tmp/err")|$(tar -tf "$tmp/cut.tar" >/dev/null 2>&1 && echo tar takes it || echo tar fails)"
# an honest error on one file: said, and the walk goes on to the next
out=$(h tree-error timeline --hash md5 / 2>"$tmp/err"); status=$?
expect tree_unreadable_file_said_and_walk_goes_on \
    "1 ferry: timeline: /f: Permission denied|0|/f|9fba564e229a2c83496c7ee12d96bb64|/ok" \
    "$status $(cat "$tmp/err")|$(echo "$out" | sed -n 2p | cut -d'|' -f1,2)|$(echo "$out" | sed -n 3p | cut -d'|' -f1,2)"
start=$(date +%s)
err=$(FERRY_TEST_MAX_ENTRIES=100000 HOSTILE=flood FERRY_DAEMON=$PWD/build/tests/hostile-daemon \
      timeout 120 "$FERRY" --test-root /unused --timeout 3 ls / 2>&1 >/dev/null); status=$?
case "$status $err" in
"1 ferry: ls: /: more entries than ferry takes from one listing (100000); refusing the rest"*)
    [ "$(took $start)" -lt 30 ] && pass endless_listing_refused ||
        fail endless_listing_refused "took $(took $start) s" ;;
*) fail endless_listing_refused "$status $err" ;; esac
finish
