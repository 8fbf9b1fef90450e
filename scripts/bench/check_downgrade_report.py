#!/usr/bin/env python3
"""Checks a `test-downgrade --format json` report of a generated chain (gen_downgrade_chain.py).

Usage: check_downgrade_report.py REPORT.json COUNT EXIT [--broken FILE]

Without --broken every one of the COUNT migrations must have passed and the exit status EXIT
must be 0. With --broken (the generator's `<version> <flavour>` list) exactly the listed
migrations must have failed, each in its flavour's way (`reup-fails`: the re-up failed;
`differs`: the re-up gave another schema, and no step failed with an error), every other one
must have passed, and EXIT must be 8. Prints `<the report's millis> <its lanes>`; otherwise
exits non-zero with what differs (the first ten migrations' problems).
"""

import json
import sys

ERROR_STEPS = {"up-failed", "down-failed", "up-not-reapplicable"}


def main():
    args = sys.argv[1:]
    broken = {}
    if args[3:4] == ["--broken"] and len(args) == 5:
        with open(args[4]) as f:
            for line in f:
                version, flavour = line.split()
                broken[int(version)] = flavour
    elif len(args) != 3:
        sys.exit(__doc__)
    path, count, code = args[0], int(args[1]), int(args[2])
    try:
        with open(path) as f:
            report = json.load(f)
    except Exception as e:  # noqa: BLE001 (any unreadable report is the same failure)
        sys.exit(f"not a JSON report (exit {code}): {e}")

    wrong = []
    for m in report["migrations"]:
        version = int(m["name"].split("_", 1)[0])
        steps = {p["step"] for p in m["problems"]}
        flavour = broken.get(version)
        if flavour is None:
            ok = m["outcome"] == "passed"
        elif flavour == "reup-fails":
            ok = m["outcome"] == "failed" and "up-not-reapplicable" in steps
        else:
            ok = m["outcome"] == "failed" and "up-not-identical" in steps and not steps & ERROR_STEPS
        if not ok:
            expected = f"failed ({flavour})" if flavour else "passed"
            wrong.append(f"{m['name']}: {m['outcome']}, expected {expected}:"
                         f" {json.dumps(m['problems'])[:600]}")
    want_code = 8 if broken else 0
    counts = (report["passed"], report["failed"], report["not_checked"], report["irreversible"])
    if wrong or len(report["migrations"]) != count or code != want_code or \
            counts != (count - len(broken), len(broken), 0, 0):
        lines = [f"exit {code} (expected {want_code}); passed {counts[0]}, failed {counts[1]},"
                 f" not checked {counts[2]}, irreversible {counts[3]} of"
                 f" {len(report['migrations'])} reported, {count} generated,"
                 f" {len(broken)} broken on purpose"]
        lines += wrong[:10]
        sys.exit("\n".join(lines))
    print(report["millis"], report["lanes"])


if __name__ == "__main__":
    main()
