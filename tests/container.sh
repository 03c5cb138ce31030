#!/bin/bash
# container.sh: build the Dockerfile with podman (--isolation chroot; no
# Docker engine needed), check that the image holds ferry alone and is
# small, and that its ferry lists a sample image in a root like the one
# 'docker run' gives it. Slow (the container compiles the kernel and qemu),
# so it is './build.sh container', not part of './build.sh test'.
cd "$(dirname "$0")/.."
. tests/lib.sh
set -o pipefail

# podman here needs higher ulimits than its defaults allow
if ! grep -qs default_ulimits /etc/containers/containers.conf; then
    mkdir -p /etc/containers
    printf '[containers]\ndefault_ulimits = ["nofile=20000:20000","nproc=32768:32768"]\n' \
        >> /etc/containers/containers.conf
fi
# no registry is reachable: make debian:bookworm-slim from Debian's archive,
# through the mirror this machine's own apt sources name
if ! podman image exists docker.io/library/debian:bookworm-slim; then
    mirror=$( { cat /etc/apt/sources.list.d/*.sources 2>/dev/null
                sed -n 's/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*\) bookworm .*/URIs: \2/p' \
                    /etc/apt/sources.list 2>/dev/null; } |
              awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}')
    base=$(mktemp -d)
    debootstrap --variant=minbase bookworm "$base" "$mirror" >/dev/null
    tar -C "$base" -c . | podman import - docker.io/library/debian:bookworm-slim >/dev/null
    rm -rf "$base"
fi
if podman build --isolation chroot --pull=never -t localhost/ferry:test . > build/container-build.log 2>&1; then
    pass container_image_builds
else
    fail container_image_builds "see build/container-build.log: $(tail -3 build/container-build.log)"
    finish
    exit 1
fi

size=$(podman image inspect localhost/ferry:test --format '{{.Size}}')
[ "$size" -le 30000000 ] && pass container_image_under_30mb ||
    fail container_image_under_30mb "$size bytes"
echo "image size: $size bytes"
# podman run does not work here (cgroups): the image's files, in a root with
# what 'docker run' adds (/proc, /dev/null, /dev/urandom) and a volume
tests/images.sh build/test-images
ctr=$(podman create localhost/ferry:test)
dir=$(podman mount "$ctr")
expect container_holds_ferry_alone "./ferry" "$(cd "$dir" && find . ! -type d | sort | tr '\n' ' ' | sed 's/ $//')"
mkdir -p "$dir/work" "$dir/proc" "$dir/dev" && cp build/test-images/ext4.qcow2 "$dir/work/disk.qcow2"
mknod -m 666 "$dir/dev/null" c 1 3 && mknod -m 444 "$dir/dev/urandom" c 1 9
mount -t proc proc "$dir/proc"
out=$(timeout 300 chroot "$dir" /ferry -a /work/disk.qcow2 ls /data 2>&1)
umount "$dir/proc"
podman umount "$ctr" >/dev/null
podman rm "$ctr" >/dev/null
expect container_ferry_lists_an_image "link random.bin small.txt sparse.bin sub" "$(echo $out)"
finish
