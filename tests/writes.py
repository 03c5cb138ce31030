#!/usr/bin/env python3
"""writes.py TRACE: the file-system changes an strace -f log shows: every
call that succeeded in creating, changing or removing a path (opens for
writing included), except the devices a run needs (/dev/null, /dev/kvm).
Prints one per line; nothing when the run left no trace."""
import re, sys

CHANGES = ("mkdir", "mkdirat", "rename", "renameat", "renameat2", "link", "linkat", "symlink",
           "symlinkat", "unlink", "unlinkat", "rmdir", "truncate", "mknod", "mknodat", "creat",
           "chmod", "fchmodat", "chown", "fchownat", "lchown", "utimensat", "setxattr",
           "lsetxattr")
ALLOWED = ("/dev/null", "/dev/kvm")
call = re.compile(r'^\d+\s+(\w+)\((.*)\)\s+=\s+(-?\d+)')
for line in open(sys.argv[1]):
    m = call.match(line)
    if not m or int(m.group(3)) < 0:
        continue
    name, args = m.group(1), m.group(2)
    paths = re.findall(r'"([^"]*)"', args)
    if name in ("open", "openat", "openat2"):
        if not re.search(r"O_WRONLY|O_RDWR|O_CREAT|O_TRUNC", args) or (paths and paths[0] in ALLOWED):
            continue
    elif name not in CHANGES or name == "utimensat" and not paths:
        continue
    print(line.rstrip())
