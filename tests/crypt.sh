#!/bin/bash
# crypt.sh: encrypted volumes. LUKS1 and LUKS2 images (ext4 inside) are made
# on this host without device-mapper (cryptsetup reencrypt --encrypt works
# on an image file offline; convert makes LUKS1), then opened by ferry with
# --key-file, a wrong key, no key, and a header that would keep cryptsetup
# working for hours.
cd "$(dirname "$0")/.."
. tests/lib.sh

tmp=$(mktemp -d "$PWD/build/crypt-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
sha() { sha256sum < "$1" | cut -d' ' -f1; }
quiet() { "$@" >/dev/null 2>&1 || { echo "crypt.sh: failed: $*" >&2; exit 1; }; }

# ---- images: ext4 with spare room, encrypted in place
key=$tmp/key
printf 'correct horse battery staple' > "$key"
mkdir -p "$tmp/root/data" && echo "inside the volume" > "$tmp/root/data/secret.txt"
truncate -s 32M "$tmp/fs" && quiet mkfs.ext4 -q -F -L inner -d "$tmp/root" "$tmp/fs"
luks() {   # luks IMAGE PBKDF-OPTIONS...: IMAGE is the ext4 above, encrypted
    local img=$1
    shift
    cp "$tmp/fs" "$img" && truncate -s 64M "$img"
    quiet cryptsetup reencrypt --encrypt --type luks2 --reduce-device-size 32M --batch-mode \
        --key-file "$key" "$@" "$img"
}
luks "$tmp/luks2.raw" --pbkdf pbkdf2 --pbkdf-force-iterations 1000
# LUKS2 on the first partition of a GPT disk: /dev/sda1
truncate -s 80M "$tmp/luks2.img"
quiet sgdisk -n 1:1M:+64M -t 1:8309 "$tmp/luks2.img"
dd if="$tmp/luks2.raw" of="$tmp/luks2.img" bs=1M seek=1 conv=notrunc status=none
# LUKS1 on the whole disk: /dev/sda
luks "$tmp/luks1.img" --pbkdf pbkdf2 --pbkdf-force-iterations 1000
quiet cryptsetup convert --batch-mode --type luks1 "$tmp/luks1.img"

# ---- LUKS2 and LUKS1: listed, mounted, read, untouched
for v in luks2 luks1; do
    img=$tmp/$v.img
    dev=$([ $v = luks2 ] && echo /dev/mapper/luks-sda1 || echo /dev/mapper/luks-sda)
    before=$(sha "$img")
    out=$("$FERRY" --key-file "$key" filesystems "$img" 2>&1)
    expect "${v}_filesystems_show_the_inner_ext4" "$dev crypt ext4 inner" \
        "$(echo "$out" | awk -v d="$dev" '$1 == d { print $1, $2, $3, $5 }')"
    expect "${v}_automount_cat_inside" "inside the volume" \
        "$("$FERRY" --key-file "$key" cat "$img" /data/secret.txt 2>&1)"
    expect "${v}_m_names_the_opened_device" "inside the volume" \
        "$("$FERRY" --key-file "$key" -m "$dev" cat "$img" /data/secret.txt 2>&1)"
    expect "${v}_image_unchanged" "$before" "$(sha "$img")"
done
img=$tmp/luks2.img
before=$(sha "$img")

# ---- a wrong key: exit 1, said plainly
printf 'wrong' > "$tmp/bad"
out=$("$FERRY" --key-file "$tmp/bad" cat "$img" /data/secret.txt 2>&1)
expect wrong_key_exits_1 1 "$?"
expect wrong_key_says_so "ferry: cat: /dev/sda1: wrong passphrase for the LUKS volume" "$out"
# a key file with a newline at the end: the newline is part of the key (as
# cryptsetup --key-file), and the error says so
{ cat "$key"; echo; } > "$tmp/key-nl"
out=$("$FERRY" --key-file "$tmp/key-nl" cat "$img" /data/secret.txt 2>&1)
expect key_file_newline_is_named "1 yes" "$? $(echo "$out" | grep -q 'ends with a newline' && echo yes)"

# ---- no key on a non-terminal: closed, and how to give one
out=$("$FERRY" filesystems "$img" 2>&1 < /dev/null)
expect no_key_lists_the_closed_volume "0 crypto_LUKS" "$? $(echo "$out" | awk '$1 == "/dev/sda1" { print $3 }')"
expect no_key_says_how "yes" "$(echo "$out" | grep -q -- '--key-file FILE' && echo yes)"
out=$("$FERRY" cat "$img" /data/secret.txt 2>&1 < /dev/null)
expect no_key_cat_fails 1 "$?"

# ---- the key from standard input, exactly; not with a command that reads it too
expect key_from_stdin "inside the volume" \
    "$("$FERRY" --key-file - cat "$img" /data/secret.txt < "$key" 2>&1)"
expect_status key_stdin_and_upload_stdin_refused 2 \
    "$FERRY" --rw --key-file - upload "$img" - /data/x < "$key"

# ---- no key file, on a terminal: asked for on it, not echoed. The input
# waits for the prompt: what is typed before it is flushed, as the prompt
# turns echo off.
out=$( (sleep 4; echo "$(cat "$key")") |
    timeout 120 script -qec "$FERRY cat $img /data/secret.txt" /dev/null 2>&1 | tr -d '\r')
expect terminal_prompt_opens "Passphrase for /dev/sda1: |inside the volume" \
    "$(echo "$out" | head -2 | tr '\n' '|' | sed 's/|$//')"
expect terminal_passphrase_not_echoed no "$(echo "$out" | grep -q -F "$(cat "$key")" && echo yes || echo no)"

# ---- a key longer than FERRY_MAX_KEY is refused before the appliance starts
head -c 8193 /dev/zero > "$tmp/long"
out=$("$FERRY" --key-file "$tmp/long" cat "$img" /data/secret.txt 2>&1)
expect key_too_long "1 ferry: --key-file $tmp/long: longer than 8192 bytes" "$? $out"
expect_status key_file_missing 1 "$FERRY" --key-file "$tmp/none" cat "$img" /data/secret.txt

# ---- the key is in no command line or environment of what ferry runs
strace -f -v -qq -s 65536 -e trace=execve,execveat -o "$tmp/trace" \
    "$FERRY" --key-file "$key" cat "$img" /data/secret.txt >/dev/null 2>&1
expect key_not_in_any_exec "qemu yes, key no" \
    "qemu $(grep -q 'execve.*"qemu-system' "$tmp/trace" && echo yes), key $(grep -q -F "$(cat "$key")" "$tmp/trace" && echo yes || echo no)"
expect readonly_image_unchanged "$before" "$(sha "$img")"

# ---- --rw opens it read-write: a file written inside is there next time
cp "$img" "$tmp/rw.img"
echo "written in" > "$tmp/in.txt"
"$FERRY" --rw --key-file "$key" upload "$tmp/rw.img" "$tmp/in.txt" /data/in.txt >/dev/null 2>&1
expect rw_write_into_the_volume "0 written in" \
    "$? $("$FERRY" --key-file "$key" cat "$tmp/rw.img" /data/in.txt 2>&1)"

# ---- argon2 asking for more memory than the appliance has: say --memsize
cp "$tmp/luks2.raw" "$tmp/big.img"
quiet cryptsetup luksFormat --batch-mode --type luks2 --key-file "$key" --pbkdf argon2id \
    --pbkdf-memory 1048576 --pbkdf-force-iterations 4 --pbkdf-parallel 1 "$tmp/big.img"
out=$("$FERRY" --key-file "$key" filesystems "$tmp/big.img" 2>&1)
expect argon2_1g_says_raise_memsize "1 yes" "$? $(echo "$out" | grep -q 'raise --memsize' && echo yes)"

# ---- a hostile header: LUKS1 key slot 0 asking for 2^32-1 PBKDF2
# iterations (the header has no checksum over it) would keep cryptsetup
# busy for hours; ferryd gives up at its limit (5 s here) and goes on
cp "$tmp/luks1.img" "$tmp/hostile.img"
printf '\xff\xff\xff\xff' | dd of="$tmp/hostile.img" bs=1 seek=212 conv=notrunc status=none
start=$(date +%s)
out=$(FERRY_APPEND=ferry.crypt_limit_s=5 "$FERRY" --key-file "$key" filesystems "$tmp/hostile.img" 2>&1)
status=$?
took=$(($(date +%s) - start))
expect hostile_header_times_out "1 yes" "$status $(echo "$out" | grep -q 'gave up after 5 s' && echo yes)"
expect hostile_header_within_limit yes "$([ "$took" -lt 30 ] && echo yes || echo "no: $took s")"

# ---- BitLocker: the images of cryptsetup's own test suite (in Debian's
# source of the cryptsetup installed here, kept in the build cache), made
# on Windows. Their data areas were zeroed to pack them small, so what is
# inside decrypts to noise and does not mount: the NTFS serial number that
# blkid reads from the decrypted boot sector is what shows the key worked.
bitlk_images() {
    local ver dir
    ver=$(dpkg-query -W -f '${source:Version}' cryptsetup-bin) || return 1
    dir=${FERRY_CACHE:-$HOME/.cache/ferry-build}/bitlk-images-$ver
    if [ ! -f "$dir/images.conf" ]; then
        appliance-builder/debian-source.sh "cryptsetup=$ver" "$tmp/src" >/dev/null &&
            mkdir -p "$dir.tmp" &&
            tar -C "$dir.tmp" --strip-components=1 -xJf "$tmp/src/cryptsetup/tests/bitlk-images.tar.xz" &&
            rm -rf "$dir" && mv "$dir.tmp" "$dir" || return 1
    fi
    echo "$dir"
}
# conf IMAGE FIELD: a value of images.conf's section for IMAGE
conf() { awk -F= -v s="[$1]" -v k="$2" '$0 == s { in_s = 1; next } /^\[/ { in_s = 0 } in_s && $1 == k { print substr($0, length(k) + 2) }' "$bl/images.conf"; }
if bl=$(bitlk_images); then
    for b in bitlk-aes-xts-128 bitlk-aes-cbc-128; do
        cp "$bl/$b.img" "$tmp/$b.img"
        before=$(sha "$tmp/$b.img")
        printf '%s' "$(conf "$b" PW)" > "$tmp/pw"
        out=$("$FERRY" --key-file "$tmp/pw" filesystems "$tmp/$b.img" 2>&1)
        status=$? # (the expected text's $(...) would reset $?)
        expect "${b}_opens_with_its_password" "0 /dev/mapper/bitlk-sda crypt ntfs $(conf "$b" UUID)" \
            "$status $(echo "$out" | awk '$1 == "/dev/mapper/bitlk-sda" { print $1, $2, $3, $6 }')"
        expect "${b}_image_unchanged" "$before" "$(sha "$tmp/$b.img")"
    done
    b=bitlk-aes-xts-128
    printf '%s' "$(conf $b RP)" > "$tmp/rp"
    out=$("$FERRY" --key-file "$tmp/rp" filesystems "$tmp/$b.img" 2>&1)
    status=$?
    expect bitlk_opens_with_the_recovery_password "0 $(conf $b UUID)" \
        "$status $(echo "$out" | awk '$1 == "/dev/mapper/bitlk-sda" { print $6 }')"
    out=$("$FERRY" --key-file "$tmp/bad" filesystems "$tmp/$b.img" 2>&1)
    expect bitlk_wrong_key_says_so "1 ferry: filesystems: /dev/sda: wrong passphrase for the BitLocker volume" \
        "$? $out"
    out=$("$FERRY" filesystems "$tmp/$b.img" 2>&1 < /dev/null)
    expect bitlk_no_key_listed_closed "0 BitLocker yes" \
        "$? $(echo "$out" | awk '$1 == "/dev/sda" { print $3 }') $(echo "$out" | grep -q -- '--key-file FILE' && echo yes)"
else
    fail bitlk_images "cryptsetup's test images could not be had from Debian's source"
fi

finish
