#!/usr/bin/env python3
"""bench.py: ferry against guestfish, side by side in one run.

Each figure is the median of several runs of the whole command, as a user
would type it. Peak memory is the host process's own (VmHWM, polled), not
qemu's. Transfer rates subtract the median time of a command that launches
and does nothing else. guestfish runs with LIBGUESTFS_BACKEND=direct, and
TCG forced when ferry would not use KVM either.
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
        time.sleep(0.02)
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
    f_down, g_down = row("download 256 MiB", [FERRY, "download", img, "/data/big.bin", out],
                         ["guestfish", "--ro", "-a", img, "-m", "/dev/sda", "download",
                          "/data/big.bin", out])
    f_up, g_up = row("upload 256 MiB", [FERRY, "--rw", "upload", rw, local, "/data/up.bin"],
                     ["guestfish", "-a", rw, "-m", "/dev/sda", "upload", local, "/data/up.bin"],
                     before=fresh_rw)

    def rate(total, base):
        return BIG / 1e6 / max(total - base, 1e-3)

    print(f"ferry {subprocess.run([FERRY, '--version'], capture_output=True, text=True).stdout.split()[1]}"
          f" against {'guestfish (libguestfs, direct backend)' if have_gf else 'nothing: guestfish is not installed'};"
          f" accelerator: {'KVM' if kvm_usable() else 'TCG'}; medians of {RUNS} runs\n")
    print(f"{'':38} {'ferry':>10} {'guestfish':>10} {'ratio':>8}")
    for name, f, g in rows:
        gs = f"{g[0]:9.2f}s" if g else f"{'-':>10}"
        ratio = f"{g[0] / f[0]:7.1f}x" if g else f"{'-':>8}"
        print(f"{name:38} {f[0]:9.2f}s {gs} {ratio}")
    print(f"{'ferry: start to first reply':38} {launch_ms / 1000:9.2f}s")
    g_rate = lambda t, base: f"{rate(t, base):8.0f}" if have_gf else f"{'-':>8}"
    print(f"{'download transfer rate, MB/s':38} {rate(f_down[0], f_launch[0]):10.0f} "
          f"{g_rate(g_down[0], g_cat[0]) if have_gf else '-':>10}")
    print(f"{'upload transfer rate, MB/s':38} {rate(f_up[0], f_launch[0]):10.0f} "
          f"{g_rate(g_up[0], g_cat[0]) if have_gf else '-':>10}")
    peak_f = max(r[1][1] for r in rows)
    peak_g = max(r[2][1] for r in rows) if have_gf else 0
    print(f"{'peak memory of the host process, MiB':38} {peak_f / 1024:10.1f} "
          f"{peak_g / 1024 if have_gf else 0:10.1f}")
    print(f"{'size of build/ferry, MB':38} {os.path.getsize(FERRY) / 1e6:10.1f}")


if __name__ == "__main__":
    main()
