#!/usr/bin/env python3
"""bench.py: ferry against guestfish, side by side in one run.

Each figure is the median of several runs of the whole command, as a user
would type it. Peak memory is the host process's own (VmHWM, polled), not
qemu's. Transfer rates subtract the median time of the same tool's `cat` of
a small file (launch, mount, one file; for an upload a writable one, which
ferry boots instead of resuming) from the time of the transfer. A
download goes to a file that does not exist yet (ext4 flushes a file written
over another one at the rename or the truncate: the same for both tools).
guestfish runs with LIBGUESTFS_BACKEND=direct, and TCG forced when ferry
would not use KVM either.
"""
import os
import shutil
import statistics
import subprocess
import sys
import time

FERRY = os.path.abspath("build/ferry")
WORK = os.path.abspath("build/bench")
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
BIG = 256 * 1024 * 1024


def run(cmd, env=None, stdout=subprocess.DEVNULL):
    """Run cmd; return (seconds, peak RSS of that process in KiB)."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, env=env, stdout=stdout, stderr=subprocess.PIPE)
    hwm = 0
    while p.poll() is None:
        try:
            with open(f"/proc/{p.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        hwm = max(hwm, int(line.split()[1]))
        except OSError:
            pass
        time.sleep(0.005)
    dt = time.monotonic() - t0
    if p.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd)} failed: {p.stderr.read().decode()[-500:]}")
    return dt, hwm


def median_of(cmd, runs=RUNS, env=None, before=None):
    times, mems = [], []
    for _ in range(runs):
        if before:
            before()
        dt, mem = run(cmd, env)
        times.append(dt)
        mems.append(mem)
    return statistics.median(times), max(mems)


def make_image():
    img = os.path.join(WORK, "bench.img")
    if os.path.exists(img):
        return img
    os.makedirs(os.path.join(WORK, "root/etc"), exist_ok=True)
    os.makedirs(os.path.join(WORK, "root/data"), exist_ok=True)
    with open(os.path.join(WORK, "root/etc/os-release"), "w") as f:
        f.write('PRETTY_NAME="Bench Linux"\n')
    with open(os.path.join(WORK, "root/data/big.bin"), "wb") as f:
        f.write(os.urandom(BIG))
    subprocess.run(["truncate", "-s", "1G", img], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-d", os.path.join(WORK, "root"), img], check=True)
    return img


def make_tree_image():
    """A debootstrapped Debian 12 minbase tree on ext4 (the throughput
    issue's whole-tree case: 5,329 files, 206 MB), or None when debootstrap
    cannot reach Debian's archive."""
    img = os.path.join(WORK, "minbase.img")
    if os.path.exists(img):
        return img
    tree = os.path.join(WORK, "minbase")
    mirror = "http://deb.debian.org/debian"
    for line in open("/etc/apt/sources.list.d/debian.sources").read().splitlines() \
            if os.path.exists("/etc/apt/sources.list.d/debian.sources") else []:
        if line.startswith("URIs:"):
            mirror = line.split()[1]
            break
    shutil.rmtree(tree, ignore_errors=True)
    r = subprocess.run(["debootstrap", "--variant=minbase", "bookworm", tree, mirror],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if r.returncode != 0:
        return None
    subprocess.run(["truncate", "-s", "600M", img + ".tmp"], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-d", tree, img + ".tmp"], check=True)
    shutil.rmtree(tree, ignore_errors=True)
    os.rename(img + ".tmp", img)
    return img


def make_qcow2(img):
    """The bench image as qcow2: the bytes go through the guest."""
    q = os.path.join(WORK, "bench.qcow2")
    if not os.path.exists(q):
        subprocess.run(["qemu-img", "convert", "-O", "qcow2", img, q], check=True)
    return q


def ferry_launch_ms():
    """ferry's own figure: from its start to the first reply (median)."""
    out = []
    img = os.path.join(WORK, "bench.img")
    for _ in range(max(RUNS, 10)):
        r = subprocess.run([FERRY, "ping", img], capture_output=True, text=True, check=True)
        out.append(float(r.stdout.split("first reply ")[1].split(" ms")[0]))
    return statistics.median(out)


def kvm_usable():
    try:
        fd = os.open("/dev/kvm", os.O_RDWR)
        os.close(fd)
    except OSError:
        return False
    flags = open("/proc/cpuinfo").read()
    return " vmx" in flags or " svm" in flags


def ferry_accel(img):
    """The accelerator ferry's appliance really ran under (it may fall
    back from KVM to TCG): from what -v says."""
    r = subprocess.run([FERRY, "-v", "ping", img], capture_output=True, text=True)
    for line in r.stderr.splitlines():
        if "appliance up (" in line:
            return line.split("appliance up (")[1].split(",")[0]
    return "unknown"


QEMU_QUIT = b'{"execute":"qmp_capabilities"}\n{"execute":"quit"}\n'


def qemu_start(qemu, bios):
    """One start of a qemu to its first QMP answer and its exit, seconds."""
    t0 = time.monotonic()
    subprocess.run([qemu, "-machine", "microvm,x-option-roms=off,isa-serial=on,acpi=on,rtc=on",
                    "-accel", "tcg", "-bios", bios, "-display", "none", "-nodefaults",
                    "-no-user-config", "-S", "-qmp", "stdio"], input=QEMU_QUIT,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.monotonic() - t0


def carried_against_system(img):
    """The qemu ferry carries against Debian's, interleaved runs, medians."""
    system = shutil.which("qemu-system-x86_64")
    ours = os.path.abspath("build/qemu/qemu-system-x86_64")
    if not system or not os.path.exists(ours):
        return []
    bios = os.path.abspath("build/qemu/bios-microvm.bin")
    tests = [("qemu start and quit (QMP)", lambda q: qemu_start(q, bios)),
             ("ferry ping", lambda q: run([FERRY] + (["--qemu", q] if q == system else []) +
                                          ["ping", img])[0]),
             ("ferry cat /etc/os-release", lambda q: run([FERRY] + (["--qemu", q] if q == system else [])
                                                         + ["cat", img, "/etc/os-release"])[0])]
    rows = []
    for name, fn in tests:
        a, b = [], []
        for _ in range(max(RUNS, 7)):
            a.append(fn(ours))
            b.append(fn(system))
        rows.append((name, statistics.median(a), statistics.median(b)))
    return rows


def run_charged(cmd):
    """Run cmd in a memory cgroup of its own; return (seconds, peak bytes
    charged: ferry, qemu, the memory files, page cache), or None for the
    bytes where no cgroup can be made here."""
    group = None
    for line in open("/proc/self/cgroup"):
        hid, ctrl, path = line.rstrip("\n").split(":", 2)
        if ctrl == "memory" and os.path.isdir(f"/sys/fs/cgroup/memory{path}"):
            group, peak = f"/sys/fs/cgroup/memory{path}/ferry-bench-{os.getpid()}", "memory.max_usage_in_bytes"
        elif hid == "0" and os.path.exists(f"/sys/fs/cgroup{path}/cgroup.controllers") and group is None:
            group, peak = f"/sys/fs/cgroup{path.rstrip('/')}/ferry-bench-{os.getpid()}", "memory.peak"
    try:
        os.mkdir(group)
    except (OSError, TypeError):
        return run(cmd)[0], None
    try:
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             preexec_fn=lambda: open(f"{group}/cgroup.procs", "w").write("0"))
        p.wait()
        dt = time.monotonic() - t0
        used = int(open(f"{group}/{peak}").read())
    finally:
        for _ in range(50):
            try:
                os.rmdir(group)
                break
            except OSError:
                time.sleep(0.1)
    if p.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd)} failed: {p.stderr.read().decode()[-500:]}")
    return dt, used


def peak_tree(cmd):
    """Run cmd; return the peak resident memory (KiB) of ferry and of its
    qemu, polled."""
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = [0, 0]
    while p.poll() is None:
        try:
            kids = open(f"/proc/{p.pid}/task/{p.pid}/children").read().split()
        except OSError:
            kids = []
        for i, pid in enumerate([p.pid] + kids[:1]):
            try:
                for line in open(f"/proc/{pid}/status"):
                    if line.startswith("VmHWM:"):
                        peak[i] = max(peak[i], int(line.split()[1]))
            except OSError:
                pass
        time.sleep(0.02)
    return peak


def many_images(count=16):
    """Many small images, one ferry per image, N at a time (what xargs -P
    does): wall time for each N, and the memory one run is charged."""
    base = os.path.join(WORK, "small.img")
    if not os.path.exists(base):
        subprocess.run(["truncate", "-s", "64M", base], check=True)
        subprocess.run(["mkfs.ext4", "-q", "-F", base], check=True)
        subprocess.run([FERRY, "--rw", "upload", base, os.path.join(WORK, "root/etc/os-release"),
                        "/os-release"], check=True, stdout=subprocess.DEVNULL)
    imgs = []
    for i in range(count):
        p = os.path.join(WORK, f"many-{i:02}.img")
        if not os.path.exists(p):
            subprocess.run(["cp", "--sparse=always", base, p], check=True)
        imgs.append(p)
    cmd = lambda p: [FERRY, "cat", p, "/os-release"]
    rows = []
    for n in (1, 2, 4):
        t0 = time.monotonic()
        procs, queue = [], list(imgs)
        while queue or procs:
            while queue and len(procs) < n:
                procs.append(subprocess.Popen(cmd(queue.pop(0)), stdout=subprocess.DEVNULL))
            pid, status = os.wait()  # whichever ends first, as xargs does
            if status != 0:
                sys.exit("bench: a parallel ferry failed")
            procs = [p for p in procs if p.pid != pid]
        rows.append((n, time.monotonic() - t0))
    charged = [run_charged(cmd(imgs[0]))[1] for _ in range(3)]
    return rows, (statistics.median(charged) if None not in charged else None)


def quick_median(cmd, runs, env):
    """Median time of a command of milliseconds: run()'s 20 ms polling would
    round it up, so no memory is sampled here."""
    times = []
    for _ in range(runs):
        t0 = time.monotonic()
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=True)
        times.append(time.monotonic() - t0)
    return statistics.median(times)


def sessions(img, genv, have_gf, runs=21):
    """One command in a session: ferry session / guestfish --listen, medians."""
    out = {}
    env = dict(os.environ)
    start = subprocess.run([FERRY, "session", "start", img], capture_output=True, text=True,
                           check=True).stdout
    env["FERRY_SESSION"] = start.split("'")[1]
    try:
        run([FERRY, "cat", "/etc/os-release"], env)  # the first command mounts
        out["ferry"] = quick_median([FERRY, "cat", "/etc/os-release"], runs, env)
    finally:
        subprocess.run([FERRY, "session", "stop"], env=env, capture_output=True)
    if have_gf:
        # the guestfish left behind keeps the pipe open: read its one line
        p = subprocess.Popen(["guestfish", "--listen", "--ro", "-a", img, "-m", "/dev/sda"],
                             env=genv, stdout=subprocess.PIPE, text=True)
        start = p.stdout.readline()
        p.stdout.close()
        p.wait()
        genv = dict(genv, GUESTFISH_PID=start.split("=")[1].split(";")[0])
        try:
            out["guestfish"] = quick_median(["guestfish", "--remote", "cat", "/etc/os-release"],
                                            runs, genv)
        finally:
            subprocess.run(["guestfish", "--remote", "exit"], env=genv, capture_output=True)
    return out


def main():
    os.makedirs(WORK, exist_ok=True)
    img = make_image()
    rw = os.path.join(WORK, "rw.img")
    local = os.path.join(WORK, "root/data/big.bin")
    out = os.path.join(WORK, "out.bin")
    have_gf = shutil.which("guestfish") is not None
    genv = dict(os.environ, LIBGUESTFS_BACKEND="direct")
    if not kvm_usable():
        genv["LIBGUESTFS_BACKEND_SETTINGS"] = "force_tcg"
    fresh_rw = lambda: shutil.copyfile(img, rw)

    rows = []

    def row(name, ferry_cmd, gf_cmd, before=None, unit="s"):
        f = median_of(ferry_cmd, before=before)
        g = median_of(gf_cmd, env=genv, before=before) if have_gf else None
        rows.append((name, f, g))
        return f, g

    launch_ms = ferry_launch_ms()
    f_launch, g_launch = row("launch (ferry ping / guestfish run)", [FERRY, "ping", img],
                             ["guestfish", "-a", "/dev/null", "run"])
    f_cat, g_cat = row("cat /etc/os-release", [FERRY, "cat", img, "/etc/os-release"],
                       ["guestfish", "--ro", "-a", img, "-m", "/dev/sda", "cat", "/etc/os-release"])
    no_out = lambda: os.path.exists(out) and os.remove(out)
    f_down, g_down = row("download 256 MiB", [FERRY, "download", img, "/data/big.bin", out],
                         ["guestfish", "--ro", "-a", img, "-m", "/dev/sda", "download",
                          "/data/big.bin", out], before=no_out)
    f_sum, g_sum = row("checksum (sha256) 256 MiB", [FERRY, "checksum", img, "/data/big.bin"],
                       ["guestfish", "--ro", "-a", img, "-m", "/dev/sda", "checksum", "sha256",
                        "/data/big.bin"])
    # a writable run boots (the saved appliance's disks are read-only): the
    # base of an upload's rate is a writable run that mounts and reads a file
    f_rwcat, g_rwcat = row("cat /etc/os-release, writable (--rw)",
                           [FERRY, "--rw", "cat", rw, "/etc/os-release"],
                           ["guestfish", "-a", rw, "-m", "/dev/sda", "cat", "/etc/os-release"],
                           before=fresh_rw)
    f_up, g_up = row("upload 256 MiB", [FERRY, "--rw", "upload", rw, local, "/data/up.bin"],
                     ["guestfish", "-a", rw, "-m", "/dev/sda", "upload", local, "/data/up.bin"],
                     before=fresh_rw)
    qcow = make_qcow2(img)
    f_qdown, g_qdown = row("download 256 MiB, qcow2 image", [FERRY, "download", qcow,
                                                             "/data/big.bin", out],
                           ["guestfish", "--ro", "-a", qcow, "-m", "/dev/sda", "download",
                            "/data/big.bin", out], before=no_out)
    # the same through the guest, as before qemu exported the disk to the host
    f_qguest = median_of([FERRY, "--no-direct", "download", qcow, "/data/big.bin", out],
                         before=no_out)
    rows.append(("download, qcow2, --no-direct (guest)", f_qguest, None))
    f_qsum, g_qsum = row("checksum (sha256) 256 MiB, qcow2", [FERRY, "checksum", qcow,
                                                               "/data/big.bin"],
                         ["guestfish", "--ro", "-a", qcow, "-m", "/dev/sda", "checksum", "sha256",
                          "/data/big.bin"])
    tree = make_tree_image()
    if tree:
        row("minbase tree: timeline --hash/checksums",
            [FERRY, "timeline", "--hash", "sha256", tree],
            ["guestfish", "--ro", "-a", tree, "-m", "/dev/sda", "checksums-out", "sha256", "/",
             "/dev/null"])
        row("minbase tree: tar-out / -", [FERRY, "tar-out", tree, "/", "-"],
            ["guestfish", "--ro", "-a", tree, "-m", "/dev/sda", "tar-out", "/", "/dev/null"])

    def rate(total, base):
        return BIG / 1e6 / max(total - base, 1e-3)

    print(f"ferry {subprocess.run([FERRY, '--version'], capture_output=True, text=True).stdout.split()[1]}"
          f" against {'guestfish (libguestfs, direct backend)' if have_gf else 'nothing: guestfish is not installed'};"
          f" ferry's appliance ran under {ferry_accel(img)}; medians of {RUNS} runs\n")
    if not tree:
        print("(no minbase tree: debootstrap could not reach Debian's archive)\n")
    print(f"{'':38} {'ferry':>10} {'guestfish':>10} {'ratio':>8}")
    for name, f, g in rows:
        gs = f"{g[0]:9.2f}s" if g else f"{'-':>10}"
        ratio = f"{g[0] / f[0]:7.1f}x" if g else f"{'-':>8}"
        print(f"{name:38} {f[0]:9.2f}s {gs} {ratio}")
    print(f"{'ferry: start to first reply':38} {launch_ms / 1000:9.2f}s")
    for name, f, g, fb, gb in (("download", f_down, g_down, f_cat, g_cat),
                               ("checksum", f_sum, g_sum, f_cat, g_cat),
                               ("upload", f_up, g_up, f_rwcat, g_rwcat),
                               ("download, qcow2", f_qdown, g_qdown, f_cat, g_cat),
                               ("download, qcow2, --no-direct", f_qguest, None, f_cat, None),
                               ("checksum, qcow2", f_qsum, g_qsum, f_cat, g_cat)):
        gr = f"{rate(g[0], gb[0]):10.0f}" if have_gf and g else f"{'-':>10}"
        print(f"{name + ' transfer rate, MB/s':38} {rate(f[0], fb[0]):10.0f} {gr}")
    peak_f = max(r[1][1] for r in rows)
    peak_g = max(r[2][1] for r in rows if r[2]) if have_gf else 0
    print(f"{'peak memory of the host process, MiB':38} {peak_f / 1024:10.1f} "
          f"{peak_g / 1024 if have_gf else 0:10.1f}")
    print(f"{'size of build/ferry, MB':38} {os.path.getsize(FERRY) / 1e6:10.1f}")
    s = sessions(img, genv, have_gf)
    gs = f"{s['guestfish'] * 1000:8.1f}ms" if "guestfish" in s else f"{'-':>10}"
    ratio = f"{s['guestfish'] / s['ferry']:7.1f}x" if "guestfish" in s else f"{'-':>8}"
    print(f"{'session: cat, one command (median of 21)':38} {s['ferry'] * 1000:8.1f}ms {gs} {ratio}")
    rows, charged = many_images()
    print(f"\nmany images: 16 images, one `ferry cat` each, N at a time ({os.cpu_count()} cores)\n")
    print(f"{'N at a time':38} {'seconds':>10} {'images/min':>10}")
    for n, t in rows:
        print(f"{n:<38} {t:10.2f} {16 * 60 / t:10.1f}")
    if charged:
        print(f"{'memory charged to one cat (cgroup), MiB':38} {charged / 2**20:10.1f}")
    for name, cmd in (("cat", ["cat", img, "/etc/os-release"]),
                      ("download 256 MiB", ["download", img, "/data/big.bin", out]),
                      ("checksum 256 MiB", ["checksum", img, "/data/big.bin"])):
        f, q = peak_tree([FERRY] + cmd)
        print(f"{'peak memory, ' + name + ', MiB':38} {'ferry':>6} {f / 1024:5.1f} {'qemu':>6} {q / 1024:5.1f}")
    rows = carried_against_system(img)
    if rows:
        print(f"\nthe qemu ferry carries against Debian's (interleaved runs, medians)\n")
        print(f"{'':38} {'carried':>10} {'Debian':>10} {'ratio':>8}")
        for name, a, b in rows:
            print(f"{name:38} {a:9.3f}s {b:9.3f}s {b / a:7.2f}x")


if __name__ == "__main__":
    main()
