#!/usr/bin/env python3
"""images.py SECONDS [RECIPE...]: fuzz the filesystems hostile images bring.

Mutates the test images (every filesystem, the partition tables, LVM; the
regions their drivers read first, most of the time) and runs, in one launch
per mutant, `ls -lR /`, `timeline --hash sha256 /` and `copy-out /` (which
reads every file). Each run must end within its limit with output or a
one-line message; a kernel crash must be said as one; the host program must
not crash; no qemu may be left behind. A mutant that breaks one of these is
kept as a recipe (base image, seed, mutation count) in build/fuzz-images/.

With RECIPE files, replays them instead (the committed regressions) and
prints PASS/FAIL lines and "N passed, N failed"."""
import glob, os, random, re, shutil, signal, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FERRY = os.environ.get("FERRY", os.path.join(ROOT, "build/ferry"))
IMAGES = os.path.join(ROOT, "build/test-images")
OUT = os.path.join(ROOT, "build/fuzz-images")
# base image: (the -m it needs, regions read first: (offset, length))
BASES = {
    "ext4.img": ("", [(1024, 1024), (4096, 65536), (1 << 20, 1 << 20)]),
    "fs-ext2.img": ("", [(1024, 1024), (4096, 65536)]),
    "fs-ext3.img": ("", [(1024, 1024), (4096, 65536)]),
    "fs-xfs.img": ("", [(0, 4096), (4096, 65536), (64 << 20, 1 << 20)]),
    "fs-btrfs.img": ("", [(65536, 4096), (1 << 20, 4 << 20), (20 << 20, 8 << 20)]),
    "fs-vfat.img": ("", [(0, 512), (512, 65536), (65536, 1 << 20)]),
    "fs-exfat.img": ("", [(0, 4096), (4096, 1 << 20)]),
    "fs-ntfs.img": ("", [(0, 512), (4096, 1 << 20), (16 << 20, 4 << 20)]),
    "fs-udf.img": ("", [(32768, 8192), (1 << 20, 1 << 20)]),
    "fs-iso9660.img": ("", [(32768, 8192), (40960, 65536)]),
    "fs-squashfs.img": ("", [(0, 96), (96, 65536)]),
    "fs-hfsplus.img": ("", [(1 << 20, 4096), ((1 << 20) + 4096, 1 << 20)]),
    "gpt.img": ("-m /dev/sda1", [(0, 34 * 512), (1 << 20, 1 << 20)]),
    "mbr.img": ("", [(0, 512), (1 << 20, 1 << 20)]),
    "lvm.img": ("", [(0, 1 << 20), (1 << 20, 1 << 20)]),
    "iso-hybrid-mbr.img": ("", [(0, 512), (32768, 8192), (40960, 65536)]),
    "btrfs-subvol.img": ("", [(65536, 4096), (1 << 20, 4 << 20)]),
}
LIMIT = 180   # seconds a run may take, all told


def mutate(data, seed, n):
    """n mutations, seeded: most in the base's first-read regions."""
    rnd = random.Random(seed)
    name = rnd.choice(sorted(BASES))
    regions = BASES[name][1]
    data = bytearray(data[name])
    for _ in range(n):
        if rnd.random() < 0.8:
            start, length = rnd.choice(regions)
        else:
            start, length = 0, len(data)
        at = min(start + rnd.randrange(length), len(data) - 16)
        kind = rnd.random()
        if kind < 0.6:
            data[at] = rnd.randrange(256)
        elif kind < 0.8:
            data[at:at + 4] = rnd.choice([b"\xff\xff\xff\xff", b"\0\0\0\0", b"\x7f\xff\xff\xff"])
        else:
            src = rnd.randrange(len(data) - 512)
            data[at:at + 16] = data[src:src + 16]
    return name, bytes(data)


def run(name, path, tag, work):
    """One launch on the mutant; (verdict, detail)."""
    dest = os.path.join(work, "out")
    shutil.rmtree(dest, ignore_errors=True)
    os.mkdir(dest)
    script = "-ls -lR /\n-timeline --hash sha256 /\n-copy-out / %s\n" % dest
    opts = BASES[name][0].split()
    env = dict(os.environ, FERRY_APPEND=tag)
    start = time.time()
    try:
        p = subprocess.run([FERRY, "--timeout", "30"] + opts + ["shell", path], input=script,
                           capture_output=True, text=True, errors="replace", timeout=LIMIT, env=env)
        status, err = p.returncode, p.stderr
    except subprocess.TimeoutExpired:
        status, err = "hang", ""
    took = time.time() - start
    left = subprocess.run(["pgrep", "-f", tag], capture_output=True, text=True).stdout.split()
    for pid in left:
        os.kill(int(pid), signal.SIGKILL)
    if status == "hang":
        return "hang", "no end within %d s" % LIMIT
    if left:
        return "qemu-left", "qemu left behind"
    if status not in (0, 1) and status != 2:
        return "host-crash", "exit status %s: %s" % (status, err[-300:])
    if "kernel crashed" in err:
        return "kernel-crash", re.search(r"kernel crashed: .*", err).group(0)
    if status == 1 and not err.strip():
        return "silent", "failed without a word"
    if re.search(r"kernel BUG|Kernel panic|Oops", err) and "kernel crashed" not in err:
        return "unsaid-crash", "a crash not reported as one"
    return "clean", "%.1f s" % took


def main():
    secs = int(sys.argv[1]) if len(sys.argv) > 1 else 600
    recipes = sys.argv[2:]
    data = {n: open(os.path.join(IMAGES, n), "rb").read() for n in BASES}
    work = tempfile.mkdtemp(prefix="ferry-fuzz-")
    os.makedirs(OUT, exist_ok=True)
    # a copy of its own: a rebuild of build/ferry during a long run changes nothing
    global FERRY
    shutil.copy2(FERRY, os.path.join(work, "ferry"))
    FERRY = os.path.join(work, "ferry")
    tag = "ferryfuzz.run=%d" % os.getpid()
    counts, passed, failed = {}, 0, 0
    try:
        if recipes:
            for r in recipes:
                fields = dict(kv.split("=", 1) for kv in open(r).read().split())
                name, mutant = mutate(data, int(fields["seed"]), int(fields["n"]))
                path = os.path.join(work, "mutant.img")
                open(path, "wb").write(mutant)
                verdict, detail = run(name, path, tag, work)
                # a kernel that crashes on it is Linux's bug: ferry must say so
                ok = verdict in ("clean", "kernel-crash")
                print("%s fuzz_image_%s: %s %s" % ("PASS" if ok else "FAIL",
                                                   os.path.basename(r), verdict, detail))
                passed, failed = passed + ok, failed + (not ok)
            print("%d passed, %d failed" % (passed, failed))
            return 1 if failed else 0
        end = time.time() + secs
        seed = int(time.time())
        while time.time() < end:
            seed += 1
            n = random.Random(seed).choice([1, 4, 16, 64])
            name, mutant = mutate(data, seed, n)
            path = os.path.join(work, "mutant.img")
            open(path, "wb").write(mutant)
            verdict, detail = run(name, path, tag, work)
            counts.setdefault(name, {}).setdefault(verdict, 0)
            counts[name][verdict] += 1
            total = sum(sum(v.values()) for v in counts.values())
            if total % 25 == 0:
                print("%d mutants so far" % total, flush=True)
            if verdict != "clean":
                recipe = os.path.join(OUT, "%s-%s-%d.recipe" % (verdict, name, seed))
                open(recipe, "w").write("base=%s seed=%d n=%d\n" % (name, seed, n))
                # the base images are made afresh (new UUIDs), so keep the bytes too
                subprocess.run(["zstd", "-q", "-19", "-f", path, "-o", recipe[:-7] + ".img.zst"])
                print("found: %s %s seed=%d n=%d: %s" % (verdict, name, seed, n, detail),
                      flush=True)
        total = sum(sum(v.values()) for v in counts.values())
        total = sum(sum(v.values()) for v in counts.values())
        print("%d mutants in %d s" % (total, secs))
        for name in sorted(counts):
            print("  %-18s %s" % (name, " ".join("%s %d" % kv for kv in sorted(counts[name].items()))))
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


sys.exit(main())
