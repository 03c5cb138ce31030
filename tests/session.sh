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
# `ferry cat IMAGE PATH` typed out of habit: an image, not a path in the image
expect_status image_operand_is_refused 2 "$FERRY" cat "$img/ext4.img" /data/small.txt
expect_status own_image_operand_is_refused 2 "$FERRY" ls "$(realpath "$img/os.img")" /
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

# the session lends its raw images too: a command reads files' extents itself
expect session_command_reads_the_image_itself "1 $want" \
    "$("$FERRY" -v -m /dev/sda1 cat /data/random.bin 2>&1 >/dev/null | grep -c 'read directly from the image') \
$("$FERRY" -m /dev/sda1 cat /data/random.bin 2>/dev/null | sha256sum)"

pid=$(server_pid "$img/os.img")
out=$("$FERRY" session stop 2>&1)
for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null && sleep 0.2; done
expect stop_unsets_the_variable "unset FERRY_SESSION;" "$out"
expect stop_leaves_nothing "0 0 0" \
    "$(sockets) $(find "$XDG_RUNTIME_DIR" -mindepth 1 | wc -l) $(kill -0 "$pid" 2>/dev/null && echo 1 || echo 0)"
expect_status command_after_stop_fails 1 "$FERRY" ls /
expect command_after_stop_says_so 1 "$("$FERRY" ls / 2>&1 | grep -c 'is over')"
unset FERRY_SESSION

# The server holds nothing of the shell that started it: a lock or a pipe
# open there is not kept open by a session.
exec 9>"$work/lock"
eval "$("$FERRY" session start "$img/ext4.img")"
exec 9>&-
expect server_holds_no_inherited_fd 0 \
    "$(find "/proc/$(server_pid "$img/ext4.img")/fd" -lname "$work/lock" 2>/dev/null | wc -l)"
# a busy appliance (a shell holds it until its input ends): the next
# command waits, and says so with -v
sleep 2.5 | "$FERRY" shell >/dev/null 2>&1 &
sleep 0.5
expect waiting_command_says_so 1 \
    "$("$FERRY" -v ls / 2>&1 >/dev/null | grep -c 'waiting for the session')"
wait
"$FERRY" session stop >/dev/null
unset FERRY_SESSION

# A start interrupted while the appliance boots leaves no socket, no
# server and no qemu. (A stand-in qemu that never answers: a boot that
# lasts until the signal.)
printf '#!/bin/bash\nwhile :; do sleep 0.1; done\n' >"$work/slow-qemu"
chmod +x "$work/slow-qemu"
for sig in INT TERM; do
    FERRY_QEMU="$work/slow-qemu" "$FERRY" session start "$img/ext4.img" >/dev/null 2>&1 &
    starter=$!
    sleep 1
    alive=$(kill -0 "$starter" 2>/dev/null && echo 1 || echo 0)
    kill -"$sig" "$starter"
    for _ in $(seq 50); do kill -0 "$starter" 2>/dev/null && sleep 0.2; done
    sleep 0.5
    expect "interrupted_start_leaves_nothing_$sig" "1 0 0 0 0" \
        "$alive $(kill -0 "$starter" 2>/dev/null && echo 1 || echo 0) $(sockets) \
$(pgrep -fc -- "session start $img/ext4.img") $(pgrep -fc -- "$work/slow-qemu")"
    pkill -9 -f -- "$img/ext4.img"
    pkill -9 -f -- "$work/slow-qemu"
    find "$XDG_RUNTIME_DIR" -type s -delete
done

# Writes: each writing command is on the image when it ends, clean enough
# for a read-only run, even if the session is then killed.
cp --sparse=always "$img/ext4.img" "$work/rw.img"
eval "$("$FERRY" session start --rw "$work/rw.img")"
echo "written in a session" >"$work/note"
"$FERRY" upload "$work/note" /note.txt
# a write may change the fstab that chose the mounts: they are made again
expect mounts_after_a_write_are_made_afresh 0 \
    "$("$FERRY" -v cat /note.txt 2>&1 >/dev/null | grep -c 'mounted already')"
expect session_reads_its_write "written in a session" "$("$FERRY" cat /note.txt 2>&1)"
expect_status ro_command_in_rw_session_cannot_write 2 "$FERRY" --ro upload "$work/note" /ro.txt
expect ro_command_in_rw_session_reads "written in a session" "$("$FERRY" --ro cat /note.txt 2>&1)"
expect_status image_operand_is_not_acted_on 2 "$FERRY" rm -r -f "$work/rw.img" /data
expect image_operand_left_the_path 1 "$("$FERRY" ls /data 2>&1 | grep -c small.txt)"
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

# A killed command whose call runs on for seconds: the server waits for it
# while the appliance says it is alive (a keepalive each second), and the
# session goes on. Each resync try lasts 2.5 s here, not 7: the rm outlasts
# one.
eval "$(FERRY_TEST_RESYNC_MS=2500 "$FERRY" session start --rw "$work/big.img")"
/usr/bin/python3 - "$work/many.tar" <<'EOF'
import sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.GNU_FORMAT) as t:
    d = tarfile.TarInfo("many"); d.type = tarfile.DIRTYPE; d.mode = 0o755
    t.addfile(d)
    for i in range(50000):
        t.addfile(tarfile.TarInfo("many/f%05d" % i))
EOF
"$FERRY" tar-in "$work/many.tar" /
"$FERRY" rm -r /many &
rm_pid=$!
sleep 1
kill -9 "$rm_pid"
wait "$rm_pid" 2>/dev/null
expect killed_long_call_leaves_a_live_session "lost+found" "$(timeout 60 "$FERRY" ls -a / 2>&1)"
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
