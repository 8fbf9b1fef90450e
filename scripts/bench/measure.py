#!/usr/bin/env python3
"""Runs a command and prints `<wall seconds> <peak RSS in KiB>` of it (and its children).

Usage: measure.py [--stdin FILE] [--] COMMAND ARGS...
Its output goes to /dev/null; a non-zero exit is reported and passed on.
"""
import os
import resource
import subprocess
import sys
import time


def main() -> int:
    args = sys.argv[1:]
    stdin = subprocess.DEVNULL
    if args[:1] == ["--stdin"]:
        stdin = open(args[1], "rb")
        args = args[2:]
    if args[:1] == ["--"]:
        args = args[1:]
    start = time.monotonic()
    proc = subprocess.run(args, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.monotonic() - start
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr.decode(errors="replace"))
        sys.stderr.write(f"measure.py: {args[0]} exited {proc.returncode}\n")
        return proc.returncode
    print(f"{wall:.3f} {rss}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
