#!/usr/bin/env python3
"""mkbad.py DIR: a qcow2 image with unreadable clusters in files, as a
damaged disk has them.

Makes DIR/bad.qcow2 (ext4, 4 KiB blocks) holding /small.bin (2 MiB) and
/big.bin (8 MiB) of random bytes, and DIR/small.bin, DIR/big.bin, copies of
them. In each file the qcow2 cluster (64 KiB) that holds its byte at 1 MiB
is made unreadable: its L2 entry is moved 512 bytes off its cluster, and
qemu then fails reads of that cluster with EIO. Prints a line per file:
NAME FIRST_BAD_OFFSET BAD_LENGTH (in file offsets)."""
import os, struct, subprocess, sys

d = sys.argv[1]
tree = os.path.join(d, "tree")
os.makedirs(tree, exist_ok=True)
sizes = {"small.bin": 2 << 20, "big.bin": 8 << 20}
for name, size in sizes.items():
    data = os.urandom(size)
    for where in (tree, d):
        open(os.path.join(where, name), "wb").write(data)
raw = os.path.join(d, "bad.raw")
run = lambda *a: subprocess.run(a, check=True, capture_output=True, text=True).stdout
open(raw, "wb").truncate(64 << 20)
run("mkfs.ext4", "-q", "-F", "-b", "4096", "-d", tree, raw)
qcow = os.path.join(d, "bad.qcow2")
run("qemu-img", "convert", "-O", "qcow2", "-o", "cluster_size=65536", raw, qcow)

img = bytearray(open(qcow, "rb").read())
l1_size, l1_off = struct.unpack(">IQ", img[36:48])
MASK = 0x00FFFFFFFFFFFE00
for name, size in sizes.items():
    # the file's blocks on the filesystem, from debugfs
    out = run("debugfs", "-R", "blocks /" + name, raw)
    blocks = [int(b) for b in out.split()]
    cluster = blocks[(1 << 20) // 4096] * 4096 // 65536
    inside = [i for i, b in enumerate(blocks) if b * 4096 // 65536 == cluster]
    start, end = min(inside) * 4096, min((max(inside) + 1) * 4096, size)
    l2_off = struct.unpack(">Q", img[l1_off + 8 * (cluster // 8192):][:8])[0] & MASK
    at = l2_off + 8 * (cluster % 8192)
    entry = struct.unpack(">Q", img[at:at + 8])[0]
    assert entry & MASK, "the cluster is not allocated"
    img[at:at + 8] = struct.pack(">Q", entry + 512)
    print(name, start, end - start)
open(qcow, "wb").write(img)
os.unlink(raw)
