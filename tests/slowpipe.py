#!/usr/bin/env python3
"""slowpipe.py in|out: a pipe end that takes its time (about 1.5 MB/s),
so that a transfer lasts long enough for ferry's progress bar.
  in:  read stdin and throw it away;  out N: write N bytes to stdout."""
import os
import sys
import time

STEP = 64 * 1024
if sys.argv[1] == "in":
    with open(sys.argv[2], "wb") if len(sys.argv) > 2 else open(os.devnull, "wb") as keep:
        while (b := os.read(0, STEP)):
            keep.write(b)
            time.sleep(0.04)
else:
    left = int(sys.argv[2])
    while left:
        n = min(STEP, left)
        os.write(1, b"p" * n)
        left -= n
        time.sleep(0.04)
