#!/bin/bash
# session.sh: `ferry session start` keeps an appliance for many commands;
# each command with FERRY_SESSION set borrows it, gets what a run of its
# own would give, and leaves it clean for the next; the socket is private;
# a stopped, idle, killed or dead session says so and leaves nothing.
cd "$(dirname "$0")/.."
. tests/lib.sh

img=build/test-images
tests/images.sh "$img"
work=$(mktemp -d "$PWD/build/session-XXXXXX")
export XDG_RUNTIME_DIR=$work/run # sessions of this test live here alone
mkdir -m 0700 "$XDG_RUNTIME_DIR"
cleanup() {
    [ -n "$FERRY_SESSION" ] && "$FERRY" session stop >/dev/null 2>&1
    pkill -f "$work" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
unset FERRY_SESSION

# the ferry behind the session at $1
server_pid() { pgrep -f -- "session start.*$1" | head -1; }
sockets() { find "$XDG_RUNTIME_DIR" -type s 2>/dev/null | wc -l; }

out=$("$FERRY" session start -a "$img/os.img")
expect start_sets_the_variable "FERRY_SESSION='$XDG_RUNTIME_DIR/ferry/session-X'; export FERRY_SESSION;" \
    "$(sed 's/session-[0-9a-f]\{16\}/session-X/' <<<"$out")"
eval "$out"
expect socket_dir_is_private "700 $(id -u)" "$(stat -c '%a %u' "$XDG_RUNTIME_DIR/ferry" 2>&1)"

# what a command gives in a session is what it gives on its own
alone=$(FERRY_SESSION= "$FERRY" cat "$img/os.img" /etc/hostname /etc/fstab 2>&1)
expect cat_in_a_session_as_alone "$alone" "$("$FERRY" cat /etc/hostname /etc/fstab 2>&1)"
expect second_command_finds_its_mounts 1 \
    "$("$FERRY" -v ls / 2>&1 >/dev/null | grep -c 'its filesystems are mounted already')"
expect no_qemu_of_its_own 0 \
    "$("$FERRY" -v ls / 2>&1 >/dev/null | grep -c 'qemu: qemu-system')"
# other mounts, then the automatic ones again: never the last command's
alone3=$(FERRY_SESSION= "$FERRY" -m /dev/sda3 ls "$img/os.img" / 2>&1)
expect other_mounts_are_mounted_afresh "$alone3" "$("$FERRY" -m /dev/sda3 ls / 2>&1)"
alone_root=$(FERRY_SESSION= "$FERRY" ls "$img/os.img" / 2>&1)
expect automatic_mounts_come_back "$alone_root" "$("$FERRY" ls / 2>&1)"
# inspect mounts as it goes: it needs nothing mounted, and leaves nothing
alone_os=$(FERRY_SESSION= "$FERRY" inspect "$img/os.img" 2>&1)
expect inspect_in_a_session "$alone_os" "$("$FERRY" inspect 2>&1)"
expect ls_after_inspect "$alone_root" "$("$FERRY" ls / 2>&1)"
expect_status images_are_the_sessions 2 "$FERRY" -a "$img/ext4.img" ls /
expect_status read_only_session_refuses_writes 2 "$FERRY" mkdir /new
expect empty_variable_runs_alone "small file" \
    "$(FERRY_SESSION= "$FERRY" cat "$img/ext4.img" /data/small.txt 2>&1)"
# --log hashes the session's images, named from /
"$FERRY" --log "$work/audit.json" cat /etc/hostname >/dev/null 2>&1
expect log_names_the_sessions_image 1 \
    "$(grep -c "\"$(realpath "$img/os.img")\"" "$work/audit.json" 2>/dev/null)"

# Only its owner: the directory keeps others out; opened up, the server
# still talks to no one else.
chmod 0711 "$work" "$XDG_RUNTIME_DIR" # ferry's own directory alone keeps others out now
expect_status other_user_cannot_enter 1 setpriv --reuid=65534 --regid=65534 --clear-groups \
    env FERRY_SESSION="$FERRY_SESSION" "$FERRY" ls /
chmod 0755 "$XDG_RUNTIME_DIR/ferry"
chmod 0777 "$FERRY_SESSION"
expect client_refuses_a_stranger_server 1 \
    "$(setpriv --reuid=65534 --regid=65534 --clear-groups env FERRY_SESSION="$FERRY_SESSION" \
        "$FERRY" ls / 2>&1 | grep -c 'the process there is not yours')"
# a stranger's well-formed request (ferry itself would not send it): no answer
version=$("$FERRY" --version | awk 'NR == 1 { print $2 }')
expect server_refuses_a_stranger "closed" "$(setpriv --reuid=65534 --regid=65534 --clear-groups \
    /usr/bin/python3 - "$FERRY_SESSION" "ferry-session $version/1" <<'EOF' 2>&1
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.settimeout(15)
try:
    s.send(sys.argv[2].encode().ljust(32, b"\0") + struct.pack("=II", 1, 1) + b"\0" * 4096)
    print("closed" if s.recv(65536) == b"" else "answered")
except (BrokenPipeError, ConnectionResetError):
    print("closed")
EOF
)"
chmod 0700 "$work" "$XDG_RUNTIME_DIR" "$XDG_RUNTIME_DIR/ferry"
expect session_serves_on_after_a_stranger "$alone_root" "$("$FERRY" ls / 2>&1)"
# a directory others may enter, or a symlink, is not used
mkdir -m 0700 "$work/open" "$work/linked"
mkdir -m 0777 "$work/open/ferry" "$work/elsewhere"
ln -s "$work/elsewhere" "$work/linked/ferry"
expect_status shared_directory_is_refused 1 env XDG_RUNTIME_DIR="$work/open" \
    "$FERRY" session start "$img/ext4.img"
expect_status symlinked_directory_is_refused 1 env XDG_RUNTIME_DIR="$work/linked" \
    "$FERRY" session start "$img/ext4.img"
expect nothing_listens_there "0 0" \
    "$(find "$work/open" "$work/elsewhere" -type s | wc -l) $(pgrep -fc "session start $img/ext4.img")"

# A command killed in the middle of a transfer: the next one still gets
# the right bytes (the server resynchronises the channel).
mkfifo "$work/fifo"
(exec 3<"$work/fifo"; sleep 20) &
reader=$!
"$FERRY" -m /dev/sda1 cat /data/random.bin >"$work/fifo" 2>/dev/null &
cat_pid=$!
sleep 2
kill -9 "$cat_pid" 2>/dev/null
wait "$cat_pid" 2>/dev/null
kill "$reader" 2>/dev/null
want=$(FERRY_SESSION= "$FERRY" -m /dev/sda1 cat "$img/os.img" /data/random.bin | sha256sum)
expect killed_command_leaves_a_clean_channel "$want" \
    "$("$FERRY" -m /dev/sda1 cat /data/random.bin 2>/dev/null | sha256sum)"

pid=$(server_pid "$img/os.img")
out=$("$FERRY" session stop 2>&1)
for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null && sleep 0.2; done
expect stop_unsets_the_variable "unset FERRY_SESSION;" "$out"
expect stop_leaves_nothing "0 0 0" \
    "$(sockets) $(find "$XDG_RUNTIME_DIR" -mindepth 1 | wc -l) $(kill -0 "$pid" 2>/dev/null && echo 1 || echo 0)"
expect_status command_after_stop_fails 1 "$FERRY" ls /
expect command_after_stop_says_so 1 "$("$FERRY" ls / 2>&1 | grep -c 'is over')"
unset FERRY_SESSION

# Writes: each writing command is on the image when it ends, clean enough
# for a read-only run, even if the session is then killed.
cp --sparse=always "$img/ext4.img" "$work/rw.img"
eval "$("$FERRY" session start --rw "$work/rw.img")"
echo "written in a session" >"$work/note"
"$FERRY" upload "$work/note" /note.txt
expect session_reads_its_write "written in a session" "$("$FERRY" cat /note.txt 2>&1)"
kill -9 "$(server_pid "$work/rw.img")"
sleep 0.5
expect write_survives_a_killed_session "written in a session" \
    "$(FERRY_SESSION= "$FERRY" cat "$work/rw.img" /note.txt 2>&1)"
expect killed_session_is_said_and_removed "1 0" \
    "$("$FERRY" ls / 2>&1 | grep -c 'is dead') $(sockets)"
unset FERRY_SESSION

# A command killed in the middle of sending a frame: the appliance is left
# waiting for the rest of it, and the server's resync still gets through.
truncate -s 1G "$work/big.img"
mkfs.ext4 -q -F "$work/big.img"
eval "$("$FERRY" session start --rw "$work/big.img")"
head -c 400M /dev/urandom | "$FERRY" upload - /big &
up=$!
sleep 1.2
kill -9 "$up"
wait "$up" 2>/dev/null
expect killed_upload_leaves_a_clean_channel "lost+found" "$(timeout 30 "$FERRY" ls -a / 2>&1)"
"$FERRY" session stop >/dev/null
unset FERRY_SESSION

# An appliance that died: the next command hears it, and the session goes.
eval "$("$FERRY" session start "$img/ext4.img")"
qemu=$(pgrep -P "$(server_pid "$img/ext4.img")" | head -1)
kill -9 "$qemu"
sleep 0.5
expect dead_appliance_is_said 1 "$("$FERRY" ls / 2>&1 | grep -c "appliance died")"
sleep 0.5
expect dead_session_is_removed 0 "$(sockets)"
unset FERRY_SESSION

# Forgotten: the idle limit ends it.
eval "$("$FERRY" session start --idle-timeout 2 "$img/ext4.img")"
pid=$(server_pid "$img/ext4.img")
sleep 4
expect idle_session_ends "0 0" "$(sockets) $(kill -0 "$pid" 2>/dev/null && echo 1 || echo 0)"
unset FERRY_SESSION

finish
