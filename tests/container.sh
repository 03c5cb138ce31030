#!/bin/bash
# container.sh: build the Dockerfile with podman (--isolation chroot; no
# Docker engine needed) and check that the image's ferry lists a sample
# image from inside the image's root. Slow (the container compiles the
# kernel), so it is './build.sh container', not part of './build.sh test'.
cd "$(dirname "$0")/.."
. tests/lib.sh
set -o pipefail

# podman here needs higher ulimits than its defaults allow
if ! grep -qs default_ulimits /etc/containers/containers.conf; then
    mkdir -p /etc/containers
    printf '[containers]\ndefault_ulimits = ["nofile=20000:20000","nproc=32768:32768"]\n' \
        >> /etc/containers/containers.conf
fi
# no registry is reachable: make debian:bookworm-slim from Debian's archive
if ! podman image exists docker.io/library/debian:bookworm-slim; then
    base=$(mktemp -d)
    debootstrap --variant=minbase bookworm "$base" http://deb.debian.org/debian >/dev/null
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

# podman run does not work here (cgroups): run the image's ferry in a
# chroot of a container's root (writable, unlike an image mount), as
# 'docker run -v' would, with /dev and /proc
tests/images.sh build/test-images
ctr=$(podman create localhost/ferry:test)
dir=$(podman mount "$ctr")
mkdir -p "$dir/work" && cp build/test-images/ext4.qcow2 "$dir/work/disk.qcow2" &&
    mount --bind /dev "$dir/dev" && mount -t proc proc "$dir/proc"
out=$(chroot "$dir" /usr/local/bin/ferry -a /work/disk.qcow2 ls /data 2>&1)
umount "$dir/proc" "$dir/dev"
podman umount "$ctr" >/dev/null
podman rm "$ctr" >/dev/null
expect container_ferry_lists_an_image "link random.bin small.txt sparse.bin sub" "$(echo $out)"
size=$(podman image inspect localhost/ferry:test --format '{{.Size}}')
echo "image size: $((size / 1000000)) MB"
finish
