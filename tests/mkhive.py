#!/usr/bin/env python3
"""mkhive.py FILE: write an empty Windows registry hive (regf), for tests.

Debian has tools that read and change hives (hivex) but none that starts
one, so this writes the smallest hive they accept: the base block, one
4 KiB bin holding the root key, its security cell, and free space.
hivexregedit --merge then adds the keys and values the tests need.
"""
import struct
import sys

BIN = 4096
FILETIME = 133000000000000000        # a fixed time: images stay reproducible


def cell(body):
    """An allocated cell: negative size (header included), 8-byte aligned."""
    size = (4 + len(body) + 7) & ~7
    return struct.pack("<i", -size) + body + bytes(size - 4 - len(body))


def root_key(name, sk_at):
    return cell(b"nk" + struct.pack(
        "<HQIIIIIIIIIIIIIIIHH",
        0x2C,               # hive entry | no delete | ASCII name
        FILETIME, 0,
        0,                  # parent
        0, 0,               # subkeys, volatile subkeys
        0xFFFFFFFF, 0xFFFFFFFF,
        0, 0xFFFFFFFF,      # values: none
        sk_at,              # security cell
        0xFFFFFFFF,         # no class name
        0, 0, 0, 0, 0,      # largest name/class/value lengths, work var
        len(name), 0) + name)


def security(at):
    # self-relative descriptor with no owner, group or ACLs
    sd = struct.pack("<BBHIIII", 1, 0, 0x8000, 0, 0, 0, 0)
    return cell(b"sk" + struct.pack("<HIIII", 0, at, at, 1, len(sd)) + sd)


def main(path):
    nk = root_key(b"ROOT", 0)
    sk_at = 0x20 + len(nk)
    nk = root_key(b"ROOT", sk_at)
    cells = nk + security(sk_at)
    free = BIN - 0x20 - len(cells)
    hbin = (b"hbin" + struct.pack("<IIQQI", 0, BIN, 0, FILETIME, 0) + cells +
            struct.pack("<i", free) + bytes(free - 4))
    base = bytearray(BIN)
    struct.pack_into("<4sIIQIIIIIII", base, 0, b"regf", 1, 1, FILETIME,
                     1, 3, 0, 1, 0x20, BIN, 1)
    csum = 0
    for (word,) in struct.iter_unpack("<I", bytes(base[:0x1FC])):
        csum ^= word
    struct.pack_into("<I", base, 0x1FC, {0: 1, 0xFFFFFFFF: 0xFFFFFFFE}.get(csum, csum))
    with open(path, "wb") as f:
        f.write(bytes(base) + hbin)


if __name__ == "__main__":
    main(sys.argv[1])
