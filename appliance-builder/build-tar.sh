#!/bin/bash
# build-tar.sh OUTDIR: a static GNU tar (musl) from Debian's own source,
# for the appliance. ferryd runs tar chrooted into the image (daemon/run.c),
# where no shared library can be found and none from the image may be
# loaded: so the program must need none.
#
# Writes OUTDIR/tar. Cached in $FERRY_CACHE (default ~/.cache/ferry-build)
# under a key made of the source version and this script.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build-tar.sh OUTDIR}
cache=${FERRY_CACHE:-$HOME/.cache/ferry-build}

# ---- key: the version of Debian's tar on this machine, this script, and
# the one function ferry replaces in it (tar-fchmodat.c says why)
ver=$(dpkg-query -W -f '${source:Version}' tar)
key=$( { echo "$ver"; cat "$0" "$here/tar-fchmodat.c"; } | sha256sum | cut -c1-16)
cached=$cache/tar-$key

if [ ! -x "$cached/tar" ]; then
    work=$cache/work-tar-$key
    rm -rf "$work"
    mkdir -p "$work"
    echo "build-tar: Debian's tar $ver (key $key)" >&2
    src=$("$here/debian-source.sh" "tar=$ver" "$work")   # the exact version installed

    # ---- build: musl, static, nothing optional
    echo "build-tar: building a static tar" >&2
    # an archive, not an object: tar's link line names LIBS twice
    musl-gcc -O2 -c -o "$work/tar-fchmodat.o" "$here/tar-fchmodat.c"
    ar rcs "$work/libferrytar.a" "$work/tar-fchmodat.o"
    (cd "$src" && FORCE_UNSAFE_CONFIGURE=1 ./configure -q CC=musl-gcc LDFLAGS=-static \
        LIBS="-L$work -lferrytar" --disable-nls --without-selinux --without-posix-acls >/dev/null &&
     make -s -j"$(nproc)" >/dev/null 2>&1)
    file "$src/src/tar" | grep -q 'statically linked' ||
        { echo "build-tar: $src/src/tar is not static" >&2; exit 1; }

    mkdir -p "$cached.tmp"
    strip -o "$cached.tmp/tar" "$src/src/tar"
    rm -rf "$cached" && mv "$cached.tmp" "$cached"
    rm -rf "$work"
fi

mkdir -p "$out"
cp "$cached/tar" "$out/tar"
