#!/bin/bash
# Build the appliance's qemu: a small, static qemu-system-x86_64 made from
# Debian's own qemu source package, holding only what ferry uses.
#
#   build-qemu.sh OUTDIR
#
# Writes OUTDIR/qemu-system-x86_64 (static, stripped), OUTDIR/bios-microvm.bin
# (qboot, from qemu-system-data), OUTDIR/qemu-version and OUTDIR/contents.txt
# (what the binary was configured with). The build takes minutes, so the result
# is cached in $FERRY_CACHE (default ~/.cache/ferry-build) under a key made of
# the Debian source version and this script, which holds the whole
# configuration: an unchanged qemu is never rebuilt, and a cache hit needs no
# network.
#
# Packages it needs (build.sh installs them):
#   gcc make libc6-dev dpkg-dev meson ninja-build pkg-config python3 xz-utils
#   libglib2.0-dev libpixman-1-dev libseccomp-dev libfdt-dev zlib1g-dev
#   libzstd-dev qemu-system-data
set -euo pipefail

out=${1:?usage: build-qemu.sh OUTDIR}
out=$(mkdir -p "$out" && cd "$out" && pwd)
cache=${FERRY_CACHE:-$HOME/.cache/ferry-build}
# Debian's tools only: a python or meson earlier in PATH (pyenv, pip) must not
# take part in the build.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
firmware=/usr/share/qemu/bios-microvm.bin

say() { echo "build-qemu: $*" >&2; }
die() { say "$*"; exit 1; }
trap 'say "failed at line $LINENO"' ERR

# ---- packages: say every missing one at once
need="gcc make libc6-dev dpkg-dev meson ninja-build pkg-config python3 xz-utils
      libglib2.0-dev libpixman-1-dev libseccomp-dev libfdt-dev zlib1g-dev
      libzstd-dev qemu-system-data"
missing=
for p in $need; do
    dpkg-query -W -f '${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed ||
        missing="$missing $p"
done
[ -z "$missing" ] || die "missing packages (apt-get install$missing)"

# ---- key: the source version of the firmware package, so that the firmware
# and the binary come from the same Debian upload
srcver=$(dpkg-query -W -f '${source:Version}' qemu-system-data)
key=$( { echo "$srcver"; cat "$0"; } | sha256sum | cut -c1-16)
cached=$cache/qemu-$key

if [ ! -f "$cached/qemu-system-x86_64" ]; then
    work=$cache/work-qemu-$key
    rm -rf "$work"
    mkdir -p "$work"

    # ---- source: Debian's, through a private apt setup (debian-source.sh)
    say "fetching qemu $srcver source (key $key)"
    src=$("$(dirname "$0")/debian-source.sh" "qemu=$srcver" "$work")

    # ---- patch: with microvm as the only x86 machine, qemu 7.2 defines
    # pc_madt_cpu_entry() twice (the stub for builds without CONFIG_PC, and the
    # real one microvm uses) and the link fails. Upstream dropped the stub in
    # 8.0; Debian's own microvm build keeps q35 in to dodge it.
    sed -i '/^void pc_madt_cpu_entry/,/^}/d' "$src/hw/acpi/acpi-x86-stub.c"

    # ---- configure: one target, two accelerators, one machine, and the few
    # devices ferry attaches. microvm itself selects virtio-mmio, isa-serial,
    # the RTC, ACPI (hw-reduced), and also a PCIe host bridge and an xHCI
    # controller that stay off unless pcie=on / usb=on.
    cat > "$src/configs/devices/x86_64-softmmu/ferry.mak" <<'EOF'
CONFIG_MICROVM=y
CONFIG_VIRTIO_BLK=y
CONFIG_VIRTIO_SERIAL=y
CONFIG_VIRTIO_SCSI=y
CONFIG_VIRTIO_RNG=y
EOF
    # --static gives a static-pie (qemu's default, as in Debian's
    # qemu-user-static): no interpreter, no shared libraries, and still ASLR
    # for a process that parses untrusted images; +0.3 MB compressed.
    # CONFIG_MICROVM_DEFAULT: Debian's patch for its own microvm build, which
    # makes microvm the default machine (there is no other).
    # Block drivers: the image formats, "file" and "host_device" for fds from
    # -add-fd, "nbd" for the client. The whitelist also refuses the drivers
    # qemu builds unconditionally (quorum, blkdebug, null-co, ...), so neither
    # a command line nor an image's metadata can bring them in.
    # shellcheck disable=SC2054  # the commas are the whitelists' own
    conf=(--target-list=x86_64-softmmu --static
          --with-pkgversion="Debian $srcver"
          --extra-cflags=-DCONFIG_MICROVM_DEFAULT=1
          --without-default-features --without-default-devices
          --with-devices-x86_64=ferry
          --disable-user --disable-modules --disable-plugins --disable-docs
          --disable-tools --disable-guest-agent --disable-install-blobs
          --disable-debug-info --audio-drv-list=
          --enable-kvm --enable-tcg --enable-seccomp --enable-zstd
          --enable-fdt=system
          --enable-qcow1 --enable-vdi --enable-cloop --enable-bochs --enable-dmg
          --enable-qed --enable-parallels --disable-vvfat
          --disable-replication --disable-live-block-migration
          --block-drv-rw-whitelist=file,host_device,raw,qcow2,qcow,vmdk,vdi,vhdx,vpc,qed,parallels,nbd
          --block-drv-ro-whitelist=dmg,bochs,cloop)
    say "configuring"
    mkdir -p "$work/build"
    (cd "$work/build" && "$src/configure" --meson=/usr/bin/meson "${conf[@]}") \
        > "$work/configure.log" 2>&1 || die "configure failed, see $work/configure.log"

    # ---- build: a kernel build may be running on the same cores; wait for it
    # rather than slow both down
    if pgrep -f 'make.*vmlinux' >/dev/null; then
        say "waiting for a kernel build to finish"
        while pgrep -f 'make.*vmlinux' >/dev/null; do sleep 10; done
    fi
    say "building qemu-system-x86_64 (about 4 minutes on 2 cores)"
    make -C "$work/build" -j"$(nproc)" qemu-system-x86_64 > "$work/build.log" 2>&1 ||
        die "build failed, see $work/build.log"
    bin=$work/build/qemu-system-x86_64
    strip "$bin"

    # ---- check: really static, and it starts, answers QMP and quits
    ! readelf -lW "$bin" | grep -q INTERP || die "$bin is not statically linked"
    reply=$(printf '%s\n' '{"execute":"qmp_capabilities"}' '{"execute":"quit"}' |
        timeout 30 "$bin" -machine microvm -accel tcg -bios "$firmware" -display none \
            -nodefaults -no-user-config -S -qmp stdio) || die "$bin does not start"
    case $reply in *'"SHUTDOWN"'*) ;; *) die "$bin did not quit over QMP: $reply" ;; esac

    # ---- contents: the configuration, and what the binary itself reports
    {
        echo "qemu $("$bin" -version | sed -n 's/^QEMU emulator version //p')"
        echo; echo "configure$(printf ' %q' "${conf[@]}")"
        echo; echo "devices file configs/devices/x86_64-softmmu/ferry.mak:"
        sed 's/^/  /' "$src/configs/devices/x86_64-softmmu/ferry.mak"
        echo; echo "Kconfig result:"
        grep '=y$' "$work/build/x86_64-softmmu-config-devices.mak" | sed 's/^/  /'
        echo; "$bin" -accel help
        echo; "$bin" -machine help
        echo; "$bin" -drive format=help
        echo; "$bin" -device help | sed '/^CPU devices:/,$d'
    } > "$work/contents.txt"
    sed -n 's/^QEMU emulator version //p' <("$bin" -version) > "$work/qemu-version"

    mkdir -p "$cached.tmp"
    cp "$bin" "$work/qemu-version" "$work/contents.txt" "$cached.tmp/"
    cp -L "$firmware" "$cached.tmp/bios-microvm.bin"
    rm -rf "$cached" && mv "$cached.tmp" "$cached"
    rm -rf "$work"
    say "done: $(du -h "$cached/qemu-system-x86_64" | cut -f1) in $cached"
fi

cp -p "$cached/qemu-system-x86_64" "$cached/bios-microvm.bin" \
   "$cached/qemu-version" "$cached/contents.txt" "$out/"
