#!/usr/bin/env bash
# Benchmarks what broken migrations cost `cargo packit-db test-downgrade`: the same generated
# chain checked with nothing broken and with every Kth down leaving residue, in one run and
# one container, on one scratch database (--jobs 1) and on the default lanes (issue 12,
# "Performance": at most 1.5x the wall time of the unbroken chain).
#
# Usage: scripts/bench-test-downgrade-recovery.sh [--engine docker|podman] [--image IMAGE]
#                                                 [--count 300] [--every 10] [--rounds 3]
#                                                 [--warmup 0] [--seed N]
#
#   --engine   docker (default; DOCKER_HOST=unix:///var/run/docker.sock) or podman
#              (DOCKER_HOST=unix:///run/podman/podman.sock, its API service)
#   --image    PostgreSQL image in the official image's contract, present on the engine
#              (default localhost/packit-db-test/postgres:17)
#   --count    migrations in the chain (default 300)
#   --every    the down of every Kth migration is broken (default 10: 30 of 300)
#   --rounds   measured rounds (default 3)
#   --warmup   discarded rounds before them (default 0)
#   --seed     seed of the generated chains (default: the generator's)
#
# Chains: scripts/bench/gen_downgrade_chain.py writes the chain twice from the same seed:
# `clean` (every down restores the schema, the chain scripts/bench-test-downgrade.sh uses)
# and `broken` (--break-every K): the same files except the downs of migrations K, 2K, ...,
# which leave residue in two alternating flavours with as many statements as the clean down:
# `reup-fails` (the down's DROP misses the object, so the re-up fails "already exists") and
# `differs` (the down renames the object aside, so the re-up succeeds but the schema still
# differs after it). See the generator's header.
#
# Variants, each timed as a whole with $EPOCHREALTIME (the whole CLI process: engine
# connection, scratch databases created and dropped, the check), interleaved (every round runs
# every variant, the order rotating from round to round):
#   --jobs 1, clean    `test-downgrade --all --format json --jobs 1` on the clean chain
#   --jobs 1, broken   the same on the broken chain
#   lanes, clean       `test-downgrade --all --format json` (default lanes) on the clean chain
#   lanes, broken      the same on the broken chain
# Every report is checked (scripts/bench/check_downgrade_report.py): clean, all COUNT passed
# and exit 0; broken, exactly the COUNT/K broken migrations failed, each in its flavour's
# way (re-up failed; re-up gave another schema), every other one passed, and exit 8. Else the
# bench fails.
#
# Prints machine info first, then per lanes setting the median / min / max wall time of the
# clean and the broken chain, the reports' own `millis` (check loop only), and the ratio
# median(broken) / median(clean) with the issue's target (<= 1.5), PASS or FAIL.
#
# Steps: builds the release binary (CARGO_TARGET_DIR, default /var/tmp/packit-target);
# creates a temporary project (packit-db.toml with the label io.github.packit-db.test=bench);
# starts PostgreSQL with `up --no-migrate`; an EXIT trap runs `down --volumes --yes` and
# removes the temporary project. While it runs it holds /tmp/packit-db-test.lock, the lock of
# scripts/test.sh, whose clean-up removes every container labelled io.github.packit-db.test
# (ours included).
#
# Times are printed, never asserted (a FAIL ratio does not change the exit status): the exit
# status is non-zero only when a step fails (its output is printed), including a report that
# is not what the generated chain must give.
set -euo pipefail

BENCH_NAME=bench-test-downgrade-recovery
# shellcheck source=scripts/bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench/common.sh"
LC_NUMERIC=C # $EPOCHREALTIME with a '.'

count=300
every=10
rounds=3
warmup=0
seed=
bench_options "engine image count every rounds warmup seed" "$@"
bench_check_options
[[ $count =~ ^[1-9][0-9]{0,3}$ ]] || fail "--count must be a number from 1 to 9999"
if [[ ! $every =~ ^[1-9][0-9]*$ ]] || ((every > count)); then
	fail "--every must be a number from 1 to --count"
fi
downgrade_prelude

bench_setup "$engine" "$image" 'migrations = "clean"'
results=$work/results.tsv
downgrade_generate clean "$count"
downgrade_generate broken "$count" --break-every "$every"
broken_count=$(wc -l <"$project/broken.broken")
log "generated a chain of $count migrations, clean and with $broken_count broken downs (every ${every}th: $(cut -d' ' -f2 "$project/broken.broken" | sort | uniq -c | awk '{print $1, $2}' | paste -sd, | sed 's/,/, /g'))"

server_version=$(cd "$project" && "$bin" packit-db psql -- -X -At -c 'SHOW server_version' 2>"$work/psql.err") ||
	fail "reading the server's version through \`psql\` failed" "$work/psql.err"
info=$(bench_machine "server PostgreSQL $server_version")
log "machine: $info"

# --- measurement -----------------------------------------------------------------------------

# Variants: LANES:CHAIN; LANES `1` runs with --jobs 1, `default` without --jobs.
variants=(1:clean 1:broken default:clean default:broken)
: >"$results"
total=$((warmup + rounds))
for ((round = 1; round <= total; round++)); do
	bench_round "$round"
	log "$round_name (${order[*]})"
	for variant in "${order[@]}"; do
		lanes=${variant%%:*} chain=${variant#*:}
		jobs=()
		[[ $lanes == default ]] || jobs=(--jobs "$lanes")
		downgrade_run "$chain" "$count" "$chain-$lanes-$round" "${jobs[@]}"
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$lanes" "$chain" "$run" "$T0" "$T1" "$check" >>"$results"
	done
done

# --- report ----------------------------------------------------------------------------------

python3 - "$results" "$info" "$rounds" "$warmup" "$count" "$every" "$broken_count" \
	"$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import statistics, sys

path, info = sys.argv[1], sys.argv[2]
rounds, warmup, count, every, broken = (int(a) for a in sys.argv[3:8])
load_end = sys.argv[8]
walls, inner, lanes_seen = {}, {}, {}
for line in open(path):
    lanes, chain, run, t0, t1, check = line.rstrip("\n").split("\t")
    if int(run) <= 0:
        continue
    millis, lanes_used = check.split()
    walls.setdefault((lanes, chain), []).append(float(t1) - float(t0))
    inner.setdefault((lanes, chain), []).append(int(millis) / 1000)
    lanes_seen.setdefault(lanes, set()).add(int(lanes_used))

med = statistics.median
print()
print(f"machine: {info}")
print(f"load average at the end: {load_end} (other work on the machine slows every variant;"
      f" interleaving spreads it, the medians resist some of it)")
print(f"{rounds} measured rounds per variant, interleaved, order rotating"
      f" (+{warmup} warm-up round(s) discarded); wall seconds")
print(f"N = {count} migrations; broken chain: the down of every {every}th leaves residue"
      f" ({broken} failed, exit 8; clean chain: 0 failed, exit 0)")
ratios = []
for lanes in ("1", "default"):
    used = "/".join(str(n) for n in sorted(lanes_seen[lanes]))
    title = "--jobs 1" if lanes == "1" else f"default lanes ({used} scratch databases)"
    print(f"{title}")
    print(f"  {'variant':<62} {'median':>8} {'min':>8} {'max':>8}")
    for chain, label in (("clean", "clean chain (nothing broken)"),
                         ("broken", f"broken chain ({broken} downs leave residue)")):
        for values, name in ((walls, label), (inner, "  check loop only (JSON millis)")):
            w = values[(lanes, chain)]
            print(f"  {name:<62} {med(w):8.3f} {min(w):8.3f} {max(w):8.3f}")
    clean, bad = med(walls[(lanes, "clean")]), med(walls[(lanes, "broken")])
    r = bad / clean
    ratios.append(r)
    print(f"  ratio broken / clean {r:6.2f}  (target <= 1.5: {'PASS' if r <= 1.5 else 'FAIL'});"
          f" {1000 * (bad - clean) / broken:.0f} ms more per broken migration")
print(f"overall: {'PASS' if all(r <= 1.5 for r in ratios) else 'FAIL'}"
      f" (ratios {', '.join(f'{r:.2f}' for r in ratios)}; target <= 1.5)")
PY
