#!/bin/bash
# Build the appliance kernel from Debian's linux-source-6.1 package.
#
#   build-kernel.sh OUTDIR
#
# Writes OUTDIR/vmlinux (uncompressed ELF, booted through its PVH entry) and
# OUTDIR/kernel-version. The build takes minutes, so the result is cached in
# $FERRY_CACHE (default ~/.cache/ferry-build) under a key made of the source
# package version, the config fragment and this script: an unchanged kernel is
# never rebuilt.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build-kernel.sh OUTDIR}
cache=${FERRY_CACHE:-$HOME/.cache/ferry-build}
fragment=$here/kernel.config
tarball=/usr/src/linux-source-6.1.tar.xz

# ---- key: what the kernel is built from
[ -f "$tarball" ] || { echo "build-kernel: $tarball missing (apt-get install linux-source-6.1)" >&2; exit 1; }
srcver=$(dpkg-query -W -f '${Version}' linux-source-6.1)
key=$( { echo "$srcver"; cat "$fragment" "$0"; } | sha256sum | cut -c1-16)
cached=$cache/kernel-$key

if [ ! -f "$cached/vmlinux" ]; then
    # ---- unpack
    work=$cache/work-$key
    rm -rf "$work"
    mkdir -p "$work"
    echo "build-kernel: unpacking linux-source $srcver (key $key)" >&2
    tar -C "$work" -xJf "$tarball"
    src=$(echo "$work"/linux-source-6.1)

    # ---- configure: tinyconfig + fragment, then verify every symbol
    make -s -C "$src" tinyconfig
    "$src/scripts/kconfig/merge_config.sh" -m -O "$src" "$src/.config" "$fragment" >/dev/null
    make -s -C "$src" olddefconfig
    bad=0
    while IFS= read -r line; do
        case $line in
        CONFIG_*=*) want=$line ;;
        "# CONFIG_"*" is not set") want=$line ;;
        *) continue ;;
        esac
        if ! grep -qxF "$want" "$src/.config"; then
            echo "build-kernel: config did not take: $want" >&2
            bad=1
        fi
    done < "$fragment"
    [ $bad = 0 ] || exit 1

    # ---- build: reproducible (no date, user or host of this machine in it)
    export KBUILD_BUILD_TIMESTAMP="Thu Jan  1 00:00:00 UTC 1970" KBUILD_BUILD_USER=ferry \
           KBUILD_BUILD_HOST=ferry KBUILD_BUILD_VERSION=1
    echo "build-kernel: building vmlinux (several minutes)" >&2
    make -s -C "$src" -j"$(nproc)" vmlinux
    make -s -C "$src" kernelrelease > "$work/kernel-version"

    mkdir -p "$cached.tmp"
    cp "$src/vmlinux" "$src/.config" "$work/kernel-version" "$cached.tmp/"
    strip --strip-debug "$cached.tmp/vmlinux"
    rm -rf "$cached" && mv "$cached.tmp" "$cached"
    rm -rf "$work"
fi

mkdir -p "$out"
cp "$cached/vmlinux" "$cached/kernel-version" "$out/"
