#!/bin/bash
# demo.sh: a sample disk (GPT: an ext4 root with /etc/os-release, and a FAT
# partition) made with the real tools, and ferry at work on it.
set -euo pipefail
cd "$(dirname "$0")/.."
img=build/demo/disk.img
mkdir -p build/demo
tests/images.sh build/test-images
cp build/test-images/gpt.img "$img"
ferry=build/ferry
run() {
    printf '\n$ %s\n' "$*"
    "$@"
}
run $ferry filesystems "$img"
run $ferry -m /dev/sda1 ls "$img" -l /
run $ferry -m /dev/sda1 cat "$img" /etc/os-release
run $ferry -m /dev/sda1 download "$img" /data/random.bin build/demo/random.bin
echo "(downloaded $(stat -c %s build/demo/random.bin) bytes to build/demo/random.bin)"
echo "hello from the host, $(date -u +%FT%TZ)" > build/demo/hello.txt
run $ferry --rw -m /dev/sda1 upload "$img" build/demo/hello.txt /hello.txt
run $ferry -m /dev/sda1 cat "$img" /hello.txt
run $ferry -m /dev/sda2 ls "$img" -R /
printf '\nThe sample image is %s; try: %s help\n' "$img" "$ferry"
