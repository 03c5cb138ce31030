#!/usr/bin/env python3
"""status.py: expect calls in the shell tests that read $? after a command
substitution in an earlier argument: bash sets $? from that substitution,
so such a check sees 0 whatever the command did. Prints FILE:LINE for
each, then "N found"."""
import re
import sys

found = 0
for path in sys.argv[1:]:
    lines = open(path).read().split("\n")
    i = 0
    while i < len(lines):
        if not re.match(r"\s*expect\b", lines[i]):
            i += 1
            continue
        j, stmt = i, lines[i]
        while stmt.rstrip().endswith("\\") and j + 1 < len(lines):
            j += 1
            stmt = stmt.rstrip()[:-1] + " " + lines[j]
        at = min((k for k in (stmt.find('"$? '), stmt.find('"$?"')) if k >= 0), default=-1)
        if at >= 0 and "$(" in stmt[:at]:
            print(f"{path}:{i + 1}")
            found += 1
        i = j + 1
print(f"{found} found")
