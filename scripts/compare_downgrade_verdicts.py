#!/usr/bin/env python3
"""Compares `test-downgrade --format json` with the naive check's verdicts, per migration.

Usage: compare_downgrade_verdicts.py table ROW.json...   (prints the Markdown table)
       compare_downgrade_verdicts.py --history NAME --commit HASH --ours OURS.json
           --naive NAIVE.json --ours-seconds S --naive-seconds S
           --row ROW.json --disagreements PREFIX

Standard library only; used by scripts/check-real-histories.sh. Writes the history's row of
the table (ROW.json) and appends every disagreement, with both sides' details, to
PREFIX.jsonl (one JSON object a line) and PREFIX.txt (for people).
Exit 0 whatever it finds (the caller decides).

Matching (the issue's rules): a migration is broken for the naive check when a file fails or
the dump differs after its down or its re-up; for ours when its outcome is `failed`. Both
must agree on every migration. A down holding only comments is irreversible on both sides.
Column-order-only differences are broken on both sides, and labelled. Kinds of disagreement:
  false        ours failed where the naive check passed (or found it irreversible)
  missed       the naive check found it broken where ours passed (or skipped it)
  not-checked  ours did not check a migration the naive check gave a verdict
  irreversible one side skipped it as irreversible, the other passed it
  steps-differ both found it broken, but at other steps (say ours reports a residue where
               the dump shows only a column-order difference): objects one side reports
               and the other does not, a discrepancy too
"""

import argparse
import json

# Our steps, mapped to the naive check's.
OUR_STEPS = {
    "up-failed": "up-failed",
    "down-failed": "down-failed",
    "down-left-residue": "down-differs",
    "down-removed-too-much": "down-differs",
    "down-changed-objects": "down-differs",
    "column-order-only": "column-order-only-down",
    "up-not-reapplicable": "reup-failed",
    "up-not-identical": "reup-differs",
    "down-missing": "down-missing",
}


def our_side(m):
    outcome = m["outcome"]
    verdict = {
        "passed": "pass",
        "passed-ignoring-column-order": "pass",
        "irreversible": "irreversible",
        "failed": "broken",
        "not-checked": "not-checked",
    }[outcome]
    steps = set()
    for p in m.get("problems", []):
        step = OUR_STEPS.get(p["step"], p["step"])
        if step == "reup-differs" and p.get("changes") and all(
            ": position " in c for c in p["changes"]
        ):
            step = "column-order-only-reup"
        steps.add(step)
    # The naive check reports a mixed difference as a difference (not column order apart).
    if "down-differs" in steps:
        steps.discard("column-order-only-down")
    if "reup-differs" in steps:
        steps.discard("column-order-only-reup")
    if verdict == "broken" and steps and steps <= {"column-order-only-down", "column-order-only-reup"}:
        verdict = "column-order-only"
    return verdict, steps


def naive_side(m):
    verdict = m["verdict"]
    if verdict == "up-failed":
        verdict = "broken"
    steps = {s["step"] for s in m.get("steps", []) if s["step"] != "rebuild-failed"}
    return verdict, steps


BROKEN = {"broken", "column-order-only"}


def readable(r):
    """One disagreement for people: both sides' verdicts, then their details."""
    o, n = r["ours"], r["naive"]
    out = [
        "=" * 100,
        f"{r['history']} {r['migration']}: {r['kind']}",
        f"  ours:  {o['outcome']} {' '.join(o['steps'])} {o['note'] or ''}".rstrip(),
        f"  naive: {n['verdict']} {' '.join(s['step'] for s in n['steps'])} {n['note'] or ''}".rstrip(),
    ]
    for p in o["problems"]:
        out.append(f"  ours {p['step']}:")
        if p.get("message"):
            out.append(f"      {p['message']}")
        for c in p.get("changes", []):
            out.append("      " + c.replace("\n", "\n      "))
    for s in n["steps"]:
        out.append(f"  naive {s['step']}:")
        out.append("      " + (s.get("detail") or "").replace("\n", "\n      "))
    return "\n".join(out) + "\n"


def table(paths):
    rows = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            rows.append(json.load(f))
    print(
        "| history | commit | layout | migrations | broken (naive) | broken (ours) "
        "| false verdicts | missed | not checked | other disagreements | naive | ours |"
    )
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        def broken(total, order):
            return f"{total} ({order} column order)" if order else str(total)

        other = []
        if r["irreversible_mismatch"]:
            other.append(f"{r['irreversible_mismatch']} irreversible")
        if r["steps_differ"]:
            other.append(f"{r['steps_differ']} steps differ")
        print(
            f"| {r['history']} | `{r['commit'][:12]}` | {r['layout']} | {r['migrations']} "
            f"| {broken(r['broken_naive'], r['column_order_naive'])} "
            f"| {broken(r['broken_ours'], r['column_order_ours'])} "
            f"| {r['false']} | {r['missed']} | {r['not_checked']} | {', '.join(other) or 0} "
            f"| {r['naive_seconds']:.0f} s | {r['ours_seconds']:.0f} s |"
        )


def main():
    import sys

    if len(sys.argv) > 1 and sys.argv[1] == "table":
        table(sys.argv[2:])
        return
    ap = argparse.ArgumentParser()
    for name in ("--history", "--commit", "--ours", "--naive", "--row", "--disagreements"):
        ap.add_argument(name, required=True)
    ap.add_argument("--ours-seconds", type=float, required=True)
    ap.add_argument("--naive-seconds", type=float, required=True)
    ap.add_argument("--verify", default="")
    args = ap.parse_args()
    with open(args.ours, encoding="utf-8") as f:
        ours = json.load(f)
    with open(args.naive, encoding="utf-8") as f:
        naive = json.load(f)
    our_by_name = {m["name"]: m for m in ours["migrations"]}
    naive_by_name = {m["name"]: m for m in naive["migrations"]}
    if list(our_by_name) != list(naive_by_name):
        only_ours = sorted(set(our_by_name) - set(naive_by_name))
        only_naive = sorted(set(naive_by_name) - set(our_by_name))
        raise SystemExit(
            f"{args.history}: the two sides read different migrations (or orders): "
            f"only ours {only_ours[:5]}, only naive {only_naive[:5]}"
        )
    counts = {k: 0 for k in ("false", "missed", "not-checked", "irreversible", "steps-differ")}
    broken_naive = broken_ours = order_naive = order_ours = 0
    records = []
    for name, n in naive_by_name.items():
        o = our_by_name[name]
        nv, ns = naive_side(n)
        ov, os_ = our_side(o)
        broken_naive += nv in BROKEN
        broken_ours += ov in BROKEN
        order_naive += nv == "column-order-only"
        order_ours += ov == "column-order-only"
        kind = None
        if nv == "not-checked":
            kind = None if ov == "not-checked" else "not-checked"
        elif ov == "not-checked":
            kind = "not-checked"
        elif ov in BROKEN and nv not in BROKEN:
            kind = "false"
        elif nv in BROKEN and ov not in BROKEN:
            kind = "missed"
        elif nv != ov and {nv, ov} == {"pass", "irreversible"}:
            kind = "irreversible"
        elif nv in BROKEN and ov in BROKEN and ns != os_:
            kind = "steps-differ"
        if kind:
            counts[kind] += 1
            records.append(
                {
                    "history": args.history,
                    "migration": name,
                    "kind": kind,
                    "ours": {
                        "outcome": o["outcome"],
                        "steps": sorted(os_),
                        "note": o.get("note"),
                        "problems": o.get("problems", []),
                    },
                    "naive": {
                        "verdict": n["verdict"],
                        "steps": n.get("steps", []),
                        "note": n.get("note"),
                    },
                }
            )
    with open(args.disagreements + ".jsonl", "a", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
    with open(args.disagreements + ".txt", "a", encoding="utf-8") as f:
        for r in records:
            f.write(readable(r))
    row = {
        "history": args.history,
        "commit": args.commit,
        "layout": ours.get("layout"),
        "migrations": len(naive_by_name),
        "broken_naive": broken_naive,
        "broken_ours": broken_ours,
        "column_order_naive": order_naive,
        "column_order_ours": order_ours,
        "false": counts["false"],
        "missed": counts["missed"],
        "not_checked": counts["not-checked"],
        "irreversible_mismatch": counts["irreversible"],
        "steps_differ": counts["steps-differ"],
        "naive_seconds": args.naive_seconds,
        "ours_seconds": args.ours_seconds,
        "verify": args.verify,
    }
    with open(args.row, "w", encoding="utf-8") as f:
        json.dump(row, f)


if __name__ == "__main__":
    main()
