#!/bin/bash
# build.sh: ferry's one entry point.
#
#   ./build.sh              build build/ferry
#   ./build.sh demo         build, make a sample disk image, show ferry at work on it
#   ./build.sh test         build and run every test; the last line is "N passed, N failed"
#   ./build.sh fuzz [SECS]  run each libFuzzer harness for SECS seconds (default 600)
#   ./build.sh fuzz-images [SECS]  fuzz the filesystems: mutated images through
#                           the real appliance (default 1800)
#   ./build.sh bench        benchmarks, side by side with guestfish when it is installed
#   ./build.sh container    build the Dockerfile with podman and test the image (slow)
#   ./build.sh clean        remove build/
#
# Run as root on Debian, it installs the Debian packages it needs; otherwise
# it prints the apt-get line to run and stops. The kernel is cached in
# $FERRY_CACHE (default ~/.cache/ferry-build), keyed by what it is built from.
set -euo pipefail
cd "$(dirname "$0")"

# ---- packages
# to build ferry and its appliance
PKGS_BUILD="make gcc libc6-dev musl-tools rpcsvc-proto libtirpc-dev libzstd-dev zstd libmd-dev libssl-dev dpkg-dev
            meson ninja-build pkg-config python3 libglib2.0-dev libpixman-1-dev libseccomp-dev
            libfdt-dev qemu-system-data
            zlib1g-dev liblzma-dev libhivex-dev libewf-dev libarchive-dev g++ libtsk-dev
            linux-source-6.1 bc bison flex libelf-dev libssl-dev xz-utils cpio
            tar util-linux lvm2 file cryptsetup-bin"
# to run it: nothing (ferry carries its qemu); the tests also use Debian's
# qemu, as a user's qemu of the system (--qemu)
PKGS_RUN=""
# to make the images the tests and the demo use
PKGS_TEST="qemu-system-x86 e2fsprogs dosfstools mtools xfsprogs btrfs-progs fdisk gdisk qemu-utils python3 procps
           exfatprogs ntfs-3g xorriso udftools squashfs-tools sleuthkit ewf-tools
           bsdutils libwin-hivex-perl clang-format strace isolinux python3-yaml attr"
# to fuzz
PKGS_FUZZ="clang libclang-rt-14-dev"

need() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$p")
    done
    [ ${#missing[@]} = 0 ] && return 0
    local cmd="apt-get install -y --no-install-recommends ${missing[*]}"
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "build.sh: installing ${missing[*]}" >&2
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $cmd -qq >/dev/null
    else
        echo "build.sh: missing packages; as root, run:" >&2
        echo "    $cmd" >&2
        exit 1
    fi
}

# ---- build
jobs=$(nproc)
build() {
    # shellcheck disable=SC2086
    need $PKGS_BUILD $PKGS_RUN
    make -s -j"$jobs" build/ferryd
    # the static tar ferryd runs confined (beside ferryd for host tests)
    appliance-builder/build-tar.sh build
    # rebuilt only when what goes into it changed
    appliance-builder/build-appliance.sh build/ferryd build/tar build/appliance
    # the qemu ferry carries, from Debian's source (cached like the kernel)
    appliance-builder/build-qemu.sh build/qemu
    # compressed again only when the file itself changed (its hash beside it)
    for f in qemu:qemu-system-x86_64 bios:bios-microvm.bin; do
        sum=$(sha256sum < "build/qemu/${f#*:}")
        if [ "$(cat "build/appliance/${f%%:*}.zst.src" 2>/dev/null)" != "$sum" ]; then
            zstd -q -f -19 -T0 "build/qemu/${f#*:}" -o "build/appliance/${f%%:*}.zst"
            echo "$sum" > "build/appliance/${f%%:*}.zst.src"
        fi
    done
    cmp -s build/qemu/qemu-version build/appliance/qemu-version ||
        cp build/qemu/qemu-version build/appliance/qemu-version
    for f in state.zst state.sig; do
        [ -e "build/appliance/$f" ] || : > "build/appliance/$f"
    done
    make -s -j"$jobs" build/ferry
    # the saved appliance (docs/appliance.md): this ferry boots its appliance
    # and its qemu saves it; made again when what goes into it changed
    key=$(cat build/appliance/{qemu,bios,vmlinux,initrd}.zst cli/launch/*.[ch] proto/wake.[ch] |
          sha256sum)
    if [ "$(cat build/appliance/state.key 2>/dev/null)" != "$key" ]; then
        FERRY_SAVE_STATE=build/state build/ferry
        zstd -q -f -19 -T0 build/state -o build/appliance/state.zst
        mv build/state.sig build/appliance/state.sig
        rm -f build/state
        echo "$key" > build/appliance/state.key
        make -s -j"$jobs" build/ferry
    fi
    build/ferry help --man > build/ferry.1
    build/ferry help --bash-completion > build/ferry.bash-completion
}

case ${1:-build} in
build)
    build
    echo "build.sh: built build/ferry ($(stat -c %s build/ferry) bytes)" >&2
    ;;
demo)
    build
    # shellcheck disable=SC2086
    need $PKGS_TEST
    tests/demo.sh
    ;;
test)
    build
    # shellcheck disable=SC2086
    need $PKGS_TEST
    make -s -j"$jobs" tests
    tests/run.sh
    ;;
fuzz)
    build
    # shellcheck disable=SC2086
    need $PKGS_FUZZ
    tests/fuzz/run.sh "${2:-600}"
    ;;
fuzz-images)
    build
    # shellcheck disable=SC2086
    need $PKGS_TEST
    tests/images.sh build/test-images
    python3 tests/fuzz/images.py "${2:-1800}"
    ;;
bench)
    build
    # shellcheck disable=SC2086
    need $PKGS_TEST
    bench/run.sh
    ;;
container)
    build
    # shellcheck disable=SC2086
    need $PKGS_TEST podman debootstrap
    tests/container.sh
    ;;
clean)
    rm -rf build
    ;;
*)
    sed -n '2,/^set /p' "$0" | sed -e '/^set /d' -e 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
