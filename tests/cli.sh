#!/bin/bash
# cli.sh: the ferry command line against a host ferryd serving a scratch
# directory (--test-root): messages, exit statuses, local files, pipes.
cd "$(dirname "$0")/.."
. tests/lib.sh

tmp=$(mktemp -d /tmp/ferry-cli-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
mkdir -p "$root/etc" "$root/dir"
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$root/etc/passwd"
head -c 3000000 /dev/urandom > "$root/blob"
truncate -s 300M "$root/sparse" && printf 'tail' >> "$root/sparse"
f() { "$FERRY" --test-root "$root" "$@"; }

# ---- errors and exit statuses
err=$(f ls /nope 2>&1 >/dev/null); status=$?
expect error_message_names_command_and_path "ferry: ls: /nope: No such file or directory" "$err"
expect error_exit_status_is_1 1 "$status"
expect_status unknown_command_is_usage_error 2 f frobnicate
expect_status missing_argument_is_usage_error 2 f cat
err=$(f mkdir /x 2>&1); status=$?
expect writes_need_rw "2 ferry: mkdir writes to the image: add --rw to allow it" "$status $err"
expect_status no_image_is_usage_error 2 "$FERRY" cat
# options may stand before the image: disk.img is still taken as the image
err=$("$FERRY" checksum --alg md5 disk.img /x 2>&1); status=$?
expect image_is_first_operand_after_options "1 ferry: disk.img: No such file or directory" \
    "$status $err"
expect_status no_arguments_is_usage_error 2 "$FERRY"
expect_status help_succeeds 0 "$FERRY" help
expect command_help_shows_usage "usage: ferry [OPTIONS] mkdir [-p] [-m MODE] PATH..." \
    "$("$FERRY" mkdir --help | head -1)"

# ---- reading
expect cat_prints_file "root:x:0:0:root:/root:/bin/sh" "$(f cat /etc/passwd)"
f download /blob "$tmp/blob.out"
cmp -s "$root/blob" "$tmp/blob.out" && pass download_is_identical || fail download_is_identical differ
(cd "$tmp" && f download /blob) && cmp -s "$root/blob" "$tmp/blob" &&
    pass download_defaults_to_basename || fail download_defaults_to_basename "no $tmp/blob"
# a device or a fifo given as the local file is written as it is, never
# replaced by a regular file (a private null device stands in for /dev/null)
mkfifo "$tmp/fifo"
timeout 60 cat "$tmp/fifo" > "$tmp/from-fifo" &
reader=$!
f download /blob "$tmp/fifo"; status=$?
[ -p "$tmp/fifo" ] || kill "$reader" 2>/dev/null # replaced: nobody will write to it
wait "$reader"
expect download_into_a_fifo "0 fifo same" \
    "$status $(stat -c %F "$tmp/fifo") $(cmp -s "$root/blob" "$tmp/from-fifo" && echo same)"
if [ "$(id -u)" = 0 ]; then
    mknod "$tmp/null" c 1 3
    f download /blob "$tmp/null"; s1=$?
    f tar-out /etc "$tmp/null"; s2=$?
    expect download_and_tar_out_into_a_device "0 0 character special file" \
        "$s1 $s2 $(stat -c %F "$tmp/null")"
fi
rm -f "$tmp/fifo" "$tmp/from-fifo" "$tmp/null"
# appended to a file (>>): the writes go to its end, so a hole cannot be
# skipped there; it must come as zeros, and nothing is cut off after
printf 'head' > "$tmp/appended"
f cat /sparse >> "$tmp/appended"
expect cat_appends_a_sparse_file "0 314572808 head tail" \
    "$? $(stat -c %s "$tmp/appended") $(head -c 4 "$tmp/appended") $(tail -c 4 "$tmp/appended")"
rm -f "$tmp/appended"
mkdir "$tmp/into"
f download /etc/passwd "$tmp/into" && [ -f "$tmp/into/passwd" ] &&
    pass download_into_directory || fail download_into_directory "no $tmp/into/passwd"
expect download_dash_is_stdout "$(cat "$root/etc/passwd")" "$(f download /etc/passwd -)"
f download /sparse "$tmp/sparse.out"
cmp -s "$root/sparse" "$tmp/sparse.out" && [ "$(stat -c %b "$tmp/sparse.out")" -lt 1000 ] &&
    pass sparse_download_stays_sparse ||
    fail sparse_download_stays_sparse "$(stat -c '%s bytes, %b blocks' "$tmp/sparse.out")"
expect checksum_matches_sha256sum "$(cd "$root" && sha256sum etc/passwd | sed 's| etc/| /etc/|')" \
    "$(f checksum /etc/passwd)"
expect checksum_md5 "$(md5sum < "$root/blob" | cut -d' ' -f1)  /blob" "$(f checksum --alg md5 /blob)"
expect ls_lists_names "blob dir etc sparse" "$(f ls / | tr '\n' ' ' | sed 's/ $//')"

# ---- pipes: the reader going away stops the transfer at once. A wrapper
# samples how much the daemon has read, until it exits.
cat > "$tmp/counting-ferryd" <<EOF
#!/bin/sh
"$PWD/build/ferryd" "\$@" &
pid=\$!
echo 0 > "$tmp/rchar"
while sed -n 's/^rchar: //p' /proc/\$pid/io > "$tmp/rchar.tmp" 2>/dev/null &&
      [ -s "$tmp/rchar.tmp" ]; do
    mv "$tmp/rchar.tmp" "$tmp/rchar"
    sleep 0.01
done
wait
EOF
chmod +x "$tmp/counting-ferryd"
head -c 400000000 /dev/zero > "$root/big"
out=$(FERRY_DAEMON="$tmp/counting-ferryd" f cat /big | head -c 100 | wc -c)
read_bytes=$(cat "$tmp/rchar" 2>/dev/null || echo 999999999999)
[ "$out" = 100 ] && [ "$read_bytes" -lt 50000000 ] && pass cat_into_head_stops_early ||
    fail cat_into_head_stops_early "$out bytes out; the daemon read $read_bytes of 400000000"
FERRY_TEST_CHUNK_SIZE=4096 f cat /big | head -c 1 >/dev/null
expect reader_gone_ends_like_sigpipe 141 "${PIPESTATUS[0]}"
rm -f "$root/big"

# ---- writing
printf 'from stdin\n' | f --rw upload - /dir/new
expect upload_from_stdin "0 from stdin" "$? $(cat "$root/dir/new")"
f --rw upload "$tmp/sparse.out" /sparse2 && cmp -s "$root/sparse" "$root/sparse2" &&
    [ "$(stat -c %b "$root/sparse2")" -lt 1000 ] && pass upload_round_trip_sparse ||
    fail upload_round_trip_sparse "$(stat -c '%s bytes, %b blocks' "$root/sparse2")"
f --rw mkdir -p /a/b/c && [ -d "$root/a/b/c" ] && pass mkdir_parents || fail mkdir_parents missing
f --rw chmod 700 /a
expect chmod_sets_mode "0 700" "$? $(stat -c %a "$root/a")"
f --rw rm -r /a && [ ! -e "$root/a" ] && pass rm_recursive || fail rm_recursive "still there"
expect_status rm_missing_fails 1 f --rw rm /a
expect_status rm_force_missing_succeeds 0 f --rw rm -f /a
f --rw ln -s ../etc/passwd /dir/pw
expect ln_makes_symlink "0 ../etc/passwd" "$? $(readlink "$root/dir/pw")"
expect ls_long_shows_link_target "lrwxrwxrwx pw -> ../etc/passwd" \
    "$(f ls -l /dir | awk '/pw/ {print $1, $(NF-2), $(NF-1), $NF}')"
f --rw mv /dir/new /dir/renamed && [ -f "$root/dir/renamed" ] && [ ! -e "$root/dir/new" ] &&
    pass mv_renames || fail mv_renames "$(ls "$root/dir")"
f --rw touch -d 2001-02-03T04:05:06.123456789Z /dir/renamed /dir/made
expect touch_sets_nanosecond_times "0 2001-02-03 04:05:06.123456789 +0000 2001-02-03 04:05:06.123456789 +0000" \
    "$? $(TZ=UTC stat -c '%y' "$root/dir/renamed") $(TZ=UTC stat -c '%y' "$root/dir/made")"
expect_status touch_c_missing_is_quiet 0 f --rw touch -c /dir/absent
[ ! -e "$root/dir/absent" ] && pass touch_c_creates_nothing || fail touch_c_creates_nothing "created"
mkdir -p "$tmp/tree/sub" && echo one > "$tmp/tree/sub/one"
tar -C "$tmp/tree" -cf "$tmp/tree.tar" . && f --rw mkdir /t && f --rw tar-in "$tmp/tree.tar" /t
expect tar_in_extracts "0 one" "$? $(cat "$root/t/sub/one")"
expect tar_out_lists "./sub/one" "$(f tar-out /t - | tar -tf - | grep one)"

# tar-out writes the archive on the host (libarchive) from the tree read in
# one call: unpacked by GNU tar, it is the tree, metadata, holes and links
# kept; a socket is left out with a word
a=$root/arch
long=$(printf 'd%.0s' {1..150})/$(printf 'n%.0s' {1..200})
mkdir -p "$a/sub" "$a/${long%/*}"
head -c 100000 /dev/urandom > "$a/streamed"          # over the inline size
head -c 5000 /dev/urandom > "$a/sub/small"           # inline
truncate -s 64M "$a/sparse" && head -c 70000 /dev/urandom |
    dd of="$a/sparse" bs=1M seek=20 conv=notrunc status=none && printf 'tail' >> "$a/sparse"
truncate -s 10M "$a/allhole"
: > "$a/empty"
echo linked > "$a/one" && ln "$a/one" "$a/sub/two"
ln -s "$(printf 't%.0s' {1..300})" "$a/longlink"
mkfifo "$a/fifo"
[ "$(id -u)" = 0 ] && mknod "$a/null" c 1 3
echo long > "$a/$long"
printf 'bytes' > "$a/"$'\xff\xfe-not-utf8'
touch -d 2001-02-03T04:05:06.123456789Z "$a/sub/small"
/usr/bin/python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$a/sock"
mkdir "$tmp/unpacked"
f tar-out /arch - 2>"$tmp/tar.err" | tar -xpf - --numeric-owner -C "$tmp/unpacked"
expect tar_out_status_and_socket_word "0 0 ferry: tar-out: /arch/sock: a socket: left out" \
    "${PIPESTATUS[0]} ${PIPESTATUS[1]} $(cat "$tmp/tar.err")"
meta() { (cd "$1" && find . ! -type s -printf '%P %y %m %U %G %s %T@ %l %n\n' | sort); }
expect tar_out_metadata_as_the_tree "$(meta "$a")" "$(meta "$tmp/unpacked")"
same=yes
while IFS= read -r -d '' p; do cmp -s "$a/$p" "$tmp/unpacked/$p" || same="no: $p"; done \
    < <(cd "$a" && find . -type f -print0)
expect tar_out_bytes_as_the_tree yes "$same"
expect tar_out_keeps_holes "0 0" \
    "$(( $(du -k "$tmp/unpacked/sparse" | cut -f1) > 200 )) $(du -k "$tmp/unpacked/allhole" | cut -f1)"
expect tar_out_hard_link_is_one_file "$(stat -c %i "$tmp/unpacked/one")" \
    "$(stat -c %i "$tmp/unpacked/sub/two")"

# ---- copy-out and copy-in, and copy-out facing a hostile image
mkdir -p "$root/tree/sub" && echo a > "$root/tree/a" && echo b > "$root/tree/sub/b"
ln -s /etc/passwd "$root/tree/abs" && ln "$root/tree/a" "$root/tree/hard"
chmod 4755 "$root/tree/a" && touch -d 2001-01-01T00:00:00Z "$root/tree/sub/b"
mkfifo "$root/tree/fifo"
mkdir "$tmp/out"
err=$(f copy-out /tree "$tmp/out" 2>&1); status=$?
expect copy_out_refuses_fifo "1 ferry: copy-out: /tree/fifo: skipped: not a file, directory or symlink" \
    "$status $err"
rm "$root/tree/fifo"
diff -r --no-dereference "$root/tree" "$tmp/out/tree" >/dev/null && pass copy_out_tree_is_identical ||
    fail copy_out_tree_is_identical "$(diff -r --no-dereference "$root/tree" "$tmp/out/tree")"
expect copy_out_keeps_mtime "2001-01-01" "$(TZ=UTC stat -c %y "$tmp/out/tree/sub/b" | cut -c1-10)"
expect copy_out_drops_setuid 755 "$(stat -c %a "$tmp/out/tree/a")"
expect copy_out_outward_symlink_stays_a_link "/etc/passwd" "$(readlink "$tmp/out/tree/abs")"
expect copy_out_hard_link_becomes_a_file 1 "$(stat -c %h "$tmp/out/tree/hard")"
# symlinks planted in the target are replaced or refused, never written through
mkdir -p "$tmp/planted/tree" "$tmp/victimdir" && echo victim > "$tmp/victim"
ln -s "$tmp/victim" "$tmp/planted/tree/a" && ln -s "$tmp/victimdir" "$tmp/planted/tree/sub"
f copy-out /tree "$tmp/planted" 2>/dev/null
expect copy_out_planted_file_link_not_followed "victim a" "$(cat "$tmp/victim") $(cat "$tmp/planted/tree/a")"
expect copy_out_planted_dir_link_not_followed "" "$(ls "$tmp/victimdir")"
# names no filesystem can hold, from a daemon that lies
mkdir -p "$tmp/hostile/in"
err=$(cd "$tmp/hostile/in" && FERRY_DAEMON="$OLDPWD/build/tests/hostile-daemon" \
      "$FERRY" --test-root /unused copy-out / . 2>&1)
expect copy_out_refuses_bad_names "ok" "$(cd "$tmp/hostile" && find . -type f | sed 's|^\./in/||')"
expect copy_out_names_each_refusal 4 "$(echo "$err" | grep -c 'refusing a name')"
cp -a "$tmp/out/tree" "$tmp/in-tree"
f --rw copy-in "$tmp/in-tree" /dir && diff -r --no-dereference "$tmp/in-tree" "$root/dir/in-tree" &&
    pass copy_in_tree_is_identical || fail copy_in_tree_is_identical differ
expect copy_in_keeps_mtime "2001-01-01" "$(TZ=UTC stat -c %y "$root/dir/in-tree/sub/b" | cut -c1-10)"

# ---- a failed download leaves no file that looks complete
cat > "$tmp/dying-ferryd" <<EOF
#!/bin/sh
# ferryd that is killed a moment into its work
"$PWD/build/ferryd" "\$@" &
sleep 0.5
kill -9 \$!
EOF
chmod +x "$tmp/dying-ferryd"
head -c 400000000 /dev/zero > "$root/big"
err=$(FERRY_DAEMON="$tmp/dying-ferryd" FERRY_TEST_CHUNK_SIZE=4096 f download /big "$tmp/big.out" 2>&1)
status=$?
left=$(ls "$tmp" | grep -c 'big.out')
expect killed_daemon_fails_download "1 0" "$status $left"
case $err in *"closed the channel"*) pass killed_daemon_is_named ;;
    *) fail killed_daemon_is_named "$err" ;; esac
rm -f "$root/big"

# ---- Windows registry values, as regedit exports them
mkdir -p "$root/config"
python3 tests/mkhive.py "$root/config/SOFTWARE"
printf '%s\r\n' 'Windows Registry Editor Version 5.00' '' '[\Ferry]' '@="default one"' \
    '"Quote"="say \"hi\" \\ there"' '"Number"=dword:0000002a' '"Blob"=hex:01,ff' \
    '"Esc"="red\x1b[31m"' '' '[\Ferry\Sub]' > "$tmp/fill.reg"
# a real escape byte in the value named Esc
sed -i 's/\\x1b/\x1b/' "$tmp/fill.reg"
hivexregedit --merge "$root/config/SOFTWARE" "$tmp/fill.reg"
expect registry_prints_values_as_regedit \
    "$(printf '%s\n' '@="default one"' '"Quote"="say \"hi\" \\ there"' '"Number"=dword:0000002a' \
        '"Blob"=hex:01,ff' "\"Esc\"=\"red$(printf '\033')[31m\"")" \
    "$(f registry /config/SOFTWARE 'ferry')"
expect registry_empty_key "" "$(f registry /config/SOFTWARE 'Ferry\Sub')"
tty_out=$(script -qc "$FERRY --test-root $root registry /config/SOFTWARE Ferry" /dev/null)
case $tty_out in *$'\033[31m'*) fail registry_escaped_on_terminal "raw escape sequence" ;;
    *'red\x1b[31m'*) pass registry_escaped_on_terminal ;;
    *) fail registry_escaped_on_terminal "$tty_out" ;; esac
err=$(f registry /config/SOFTWARE 'Ferry\Nope' 2>&1); status=$?
expect registry_missing_key "1 ferry: registry: /config/SOFTWARE: key Ferry\\\\Nope: not found" \
    "$status $err"
err=$(f registry /etc/passwd 2>&1); status=$?
expect registry_not_a_hive "1 ferry: registry: /etc/passwd: not a registry hive" "$status $err"

# ---- the progress bar: on a terminal, for transfers lasting over a second
# script(1) gives ferry a terminal for stderr; slowpipe.py makes the
# transfer last about two seconds.
export FERRY_TEST_PROGRESS_MS=50
slow="python3 $PWD/tests/slowpipe.py"
bar=$(script -qec "$FERRY --test-root $root download /blob - | $slow in $tmp/slow.out" /dev/null)
case $bar in *'%'*' MiB '*' MB/s '*) pass progress_bar_on_terminal ;;
    *) fail progress_bar_on_terminal "no bar with a percentage in [$bar]" ;; esac
case $bar in *$'\r\033[K') pass progress_bar_wiped_at_end ;;
    *) fail progress_bar_wiped_at_end "ends [$(printf %s "$bar" | tail -c 20 | od -c | head -2)]" ;; esac
cmp -s "$root/blob" "$tmp/slow.out" && pass progress_bar_leaves_data_intact ||
    fail progress_bar_leaves_data_intact "slow download differs"
bar=$(script -qec "$slow out 3000000 | $FERRY --test-root $root --rw upload - /slow" /dev/null)
case $bar in *' MiB '*' MB/s '*) pass progress_bar_on_upload ;;
    *) fail progress_bar_on_upload "no bar in [$bar]" ;; esac
expect upload_with_bar_is_complete 3000000 "$(stat -c %s "$root/slow")"
bar=$(f download /blob - 2>&1 >/dev/null | $slow in)
expect no_progress_bar_off_terminal "" "$bar"
bar=$(script -qec "$FERRY --test-root $root cat /blob | $slow in" /dev/null)
expect no_progress_bar_for_cat "" "$bar"
bar=$(script -qec "$FERRY --test-root $root download /etc/passwd $tmp/quick" /dev/null)
expect no_progress_bar_for_a_quick_transfer "" "$bar"
unset FERRY_TEST_PROGRESS_MS

# ---- names with any bytes
mkdir "$root/names"
touch "$root/names/$(printf 'esc\033[31mred')" "$root/names/$(printf 'new\nline')" \
    "$root/names/$(printf 'bad\377utf8')" "$root/names/with space"
got=$(f ls --json /names | grep -c '"path"')
expect json_lists_every_name 4 "$got"
expect json_escapes_control_bytes 1 "$(f ls --json /names | grep -c '"/names/esc\\u001b\[31mred"')"
expect json_gives_hex_of_invalid_utf8 1 "$(f ls --json /names | grep -c '"path_hex":"2f6e616d65732f626164ff75746638"')"
# on a terminal the escape sequence must not reach it
tty_out=$(script -qc "$FERRY --test-root $root ls /names" /dev/null)
case $tty_out in *$'\033[31m'*) fail terminal_output_is_escaped "raw escape sequence" ;;
    *'esc\x1b[31mred'*) pass terminal_output_is_escaped ;;
    *) fail terminal_output_is_escaped "$tty_out" ;; esac

# ---- the command table drives the man page and completion
"$FERRY" help --man > "$tmp/ferry.1"
cmds=$("$FERRY" help | awk '/^  [a-z]/ {print $1}')
missing=$(for c in $cmds; do grep -q "^\.B ferry $c" "$tmp/ferry.1" || echo "$c"; done)
# as many as the table has (one line each: { "name", cmd_...)
table=$(grep -cE '^    \{ "[a-z-]+", cmd_' cli/commands.c)
expect man_page_has_every_command "$table commands, none missing" \
    "$(echo "$cmds" | wc -l) commands, ${missing:-none} missing"
cmp -s "$tmp/ferry.1" docs/ferry.1 && pass docs_man_page_is_current ||
    fail docs_man_page_is_current "docs/ferry.1 differs from 'ferry help --man'"
"$FERRY" help --bash-completion > "$tmp/comp.bash"
complete_words() {   # WORDS... : what completing the last word offers
    bash -c '. "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _ferry; echo "${COMPREPLY[*]}"' \
        "$tmp/comp.bash" "$@"
}
expect completion_offers_commands "download" "$(complete_words ferry downl)"
expect completion_offers_global_options "--launch-timeout --log" "$(complete_words ferry --l)"
expect completion_offers_test_root "--trace --timeout --test-root" "$(complete_words ferry --t)"
expect completion_offers_command_options "--checksum" "$(complete_words ferry -a x.img ls --ch)"
expect completion_knows_option_values "sha1 sha256 sha512" "$(complete_words ferry checksum --alg s)"
expect completion_knows_formats "qcow2 qcow qed" "$(complete_words ferry --format q)"

finish
