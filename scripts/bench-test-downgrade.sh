#!/usr/bin/env bash
# Benchmarks `cargo packit-db test-downgrade --all` (the round-trip check of every migration)
# against executing the same up, down and up SQL files through psql with no checking, on
# generated chains of reversible migrations, in one run and one container (issue 4,
# "Performance").
#
# Usage: scripts/bench-test-downgrade.sh [--engine docker|podman] [--image IMAGE]
#                                        [--counts 200,400] [--rounds 3] [--warmup 0]
#                                        [--seed N]
#
#   --engine   docker (default; DOCKER_HOST=unix:///var/run/docker.sock) or podman
#              (DOCKER_HOST=unix:///run/podman/podman.sock, its API service)
#   --image    PostgreSQL image in the official image's contract, present on the engine
#              (default localhost/packit-db-test/postgres:17)
#   --counts   chain lengths, comma separated (default 200,400; the growth ratio compares
#              the last to the first)
#   --rounds   measured rounds (default 3)
#   --warmup   discarded rounds before them (default 0)
#   --seed     seed of the generated chains (default: the generator's)
#
# Chains: scripts/bench/gen_downgrade_chain.py writes, per count N, a sqlx-layout folder of N
# reversible migrations (create table with a primary key and sometimes a foreign key, add
# column with a default, create index, enum type plus a column of it, create or replace a
# view over an earlier table; see its header). Same seed: the longer chain starts with the
# shorter one.
#
# Variants, each timed as a whole with $EPOCHREALTIME, interleaved (every round runs every
# count and variant, the order of the variants rotating from round to round):
#   ours      `cargo-packit-db packit-db test-downgrade --all --format json`: the whole CLI
#             process (engine connection, scratch database created and dropped through the
#             container's psql, the check: up, snapshot, down, snapshot, up, snapshot per
#             migration). Its JSON must say failed 0 and passed N, else the bench fails.
#   per-file  baseline 1, the manual way: one host `psql -X -q -v ON_ERROR_STOP=1 -1 -f FILE`
#             process per file, up(1) down(1) up(1) up(2) down(2) up(2) ...
#   session   baseline 2, the cheapest way: ONE host psql session running a driver file of
#             `BEGIN; \i up(1) COMMIT; BEGIN; \i down(1) COMMIT; ...` (ON_ERROR_STOP on),
#             the same statements and transactions as per-file, without 3N connections.
# Each baseline runs against a fresh empty database `bench_baseline_<N>` created (TEMPLATE
# template0, like the tool's scratch database) on the app database with host psql before
# the timer starts and dropped after it stops: creation and removal are NOT timed for the
# baselines (they are for ours), which only favours the baselines. After each baseline run
# the database's end state (numbers of tables, columns, views, indexes, enum types) is
# checked against what the generator expects.
#
# Prints machine info first, then per count and variant the median / min / max wall time,
# the ratios ours/per-file and ours/session (issue's target: <= 1.5 against "executing the
# same SQL files through psql with no checking"), ours' own JSON `millis` (check loop only)
# and the growth ratio median(last count) / median(first count) of every variant (issue's
# target for ours: <= 2.3 for 400 vs 200).
#
# Steps: builds the release binary (CARGO_TARGET_DIR, default /var/tmp/packit-target);
# creates a temporary project (packit-db.toml with the label io.github.packit-db.test=bench);
# starts PostgreSQL with `up --no-migrate`; reads the URL with `url` (its password reaches
# the baselines' psql through PGPASSWORD, never argv); an EXIT trap runs
# `down --volumes --yes` and removes the temporary project. While it runs it holds
# /tmp/packit-db-test.lock, the lock of scripts/test.sh, whose clean-up removes every
# container labelled io.github.packit-db.test (ours included).
#
# Times are printed, never asserted: the exit status is non-zero only when a step fails (its
# output is printed), including a check that does not pass every generated migration.
set -euo pipefail

BENCH_NAME=bench-test-downgrade
# shellcheck source=scripts/bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench/common.sh"
LC_NUMERIC=C # $EPOCHREALTIME with a '.'

counts=200,400
rounds=3
warmup=0
seed=
bench_options "engine image counts rounds warmup seed" "$@"
bench_check_options
[[ $counts =~ ^[1-9][0-9]{0,3}(,[1-9][0-9]{0,3})*$ ]] || fail "--counts must be numbers 1 to 9999, comma separated"
IFS=, read -r -a count_list <<<"$counts"
if [[ $(printf '%s\n' "${count_list[@]}" | sort -u | wc -l) -ne ${#count_list[@]} ]]; then
	fail "--counts has duplicates"
fi

command -v psql >/dev/null || fail "psql is needed on the host (apt-get install postgresql-client)"
# Nor may the tool or psql see other settings, or another server, user or service than the
# one set below (bench_setup clears PACKIT_DB_*, DATABASE_URL and CONTAINER_HOST).
downgrade_prelude

# --- project, database, chains ---------------------------------------------------------------

bench_setup "$engine" "$image" "migrations = \"m${count_list[0]}\""
results=$work/results.tsv

for n in "${count_list[@]}"; do
	downgrade_generate "m$n" "$n"
	# The driver of the one-session baseline: each file in its own transaction, like psql -1.
	{
		echo '\set ON_ERROR_STOP 1'
		for up in "$project/m$n"/*.up.sql; do
			down=${up%.up.sql}.down.sql
			printf 'BEGIN;\n\\i '"'"'%s'"'"'\nCOMMIT;\n' "$up" "$down" "$up"
		done
	} >"$project/m$n.driver.sql"
done
log "generated chains of ${counts//,/, } migrations ($(tr '\n' ' ' <"$project/m${count_list[-1]}.expected")for ${count_list[-1]})"

# The URL's parts as libpq environment variables: the password never goes through argv.
eval "$(
	python3 - "$url" <<'PY'
import shlex, sys
from urllib.parse import urlsplit, unquote
u = urlsplit(sys.argv[1])
for key, value in (("PGHOST", u.hostname), ("PGPORT", u.port), ("PGUSER", u.username),
                   ("PGPASSWORD", u.password), ("PGDATABASE", u.path.lstrip("/"))):
    if value is not None and str(value) != "":
        print(f"export {key}={shlex.quote(unquote(str(value)))}")
PY
)" || fail "cannot parse the URL \`url\` printed"
app_db=${PGDATABASE:-postgres}
# app_psql SQL: one statement on the application database.
app_psql() { psql -X -q -v ON_ERROR_STOP=1 -d "$app_db" -Atc "$1"; }
server_version=$(app_psql 'SHOW server_version' 2>"$work/psql.err") ||
	fail "host psql cannot reach the server" "$work/psql.err"

info=$(bench_machine "server PostgreSQL $server_version; host $(psql --version)")
log "machine: $info"

# --- the variants ----------------------------------------------------------------------------

# record VARIANT N RUN T0 T1 EXTRA
record() {
	local IFS=$'\t'
	printf '%s\n' "$*" >>"$results"
}

# The end state of a baseline database, in the generator's terms.
readonly END_STATE_SQL="
SELECT 'tables ' || count(*) FILTER (WHERE c.relkind = 'r') || E'\n' ||
       'views ' || count(*) FILTER (WHERE c.relkind = 'v') || E'\n' ||
       'indexes ' || (SELECT count(*) FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
                      WHERE t.relnamespace = 'public'::regnamespace AND NOT i.indisprimary)
       || E'\n' ||
       'enums ' || (SELECT count(*) FROM pg_type WHERE typnamespace = 'public'::regnamespace
                    AND typtype = 'e') || E'\n' ||
       'columns ' || (SELECT count(*) FROM pg_attribute a JOIN pg_class t ON t.oid = a.attrelid
                      WHERE t.relnamespace = 'public'::regnamespace AND t.relkind = 'r'
                        AND a.attnum > 0 AND NOT a.attisdropped)
FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace"

baseline_db() { printf 'bench_baseline_%s' "$1"; }

baseline_create() {
	local db
	db=$(baseline_db "$1")
	app_psql "DROP DATABASE IF EXISTS $db WITH (FORCE)" >>"$2" 2>&1 ||
		fail "dropping a leftover database $db failed" "$2"
	app_psql "CREATE DATABASE $db TEMPLATE template0" >>"$2" 2>&1 ||
		fail "creating database $db failed" "$2"
}

# baseline_finish N LOG: checks the end state, then drops the database.
baseline_finish() {
	local n=$1 logfile=$2 db state
	db=$(baseline_db "$n")
	state=$(PGDATABASE=$db psql -X -q -v ON_ERROR_STOP=1 -Atc "$END_STATE_SQL" 2>>"$logfile") ||
		fail "reading the end state of $db failed" "$logfile"
	if [[ $state != "$(cat "$project/m$n.expected")" ]]; then
		printf 'end state:\n%s\nexpected:\n%s\n' "$state" "$(cat "$project/m$n.expected")" >>"$logfile"
		fail "$db does not end in the state the generator expects" "$logfile"
	fi
	app_psql "DROP DATABASE $db WITH (FORCE)" >>"$logfile" 2>&1 || fail "dropping $db failed" "$logfile"
}

run_ours() {
	downgrade_run "m$1" "$1" "ours-$1-$2"
	record ours "$1" "$2" "$T0" "$T1" "${check%% *}"
}

run_per_file() {
	local n=$1 run=$2 logfile="$work/perfile-$1-$2.log" db up down
	: >"$logfile"
	db=$(baseline_db "$n")
	baseline_create "$n" "$logfile"
	T0=$EPOCHREALTIME
	for up in "$project/m$n"/*.up.sql; do
		down=${up%.up.sql}.down.sql
		for file in "$up" "$down" "$up"; do
			PGDATABASE=$db psql -X -q -v ON_ERROR_STOP=1 -1 -f "$file" >>"$logfile" 2>&1 ||
				fail "psql -1 -f $file failed" "$logfile"
		done
	done
	T1=$EPOCHREALTIME
	record per-file "$n" "$run" "$T0" "$T1" -
	baseline_finish "$n" "$logfile"
}

run_session() {
	local n=$1 run=$2 logfile="$work/session-$1-$2.log" db
	: >"$logfile"
	db=$(baseline_db "$n")
	baseline_create "$n" "$logfile"
	T0=$EPOCHREALTIME
	PGDATABASE=$db psql -X -q -v ON_ERROR_STOP=1 -f "$project/m$n.driver.sql" >>"$logfile" 2>&1 ||
		fail "the one-session psql run failed" "$logfile"
	T1=$EPOCHREALTIME
	record session "$n" "$run" "$T0" "$T1" -
	baseline_finish "$n" "$logfile"
}

# --- measurement -----------------------------------------------------------------------------

variants=(run_ours run_per_file run_session)
: >"$results"
total=$((warmup + rounds))
for ((round = 1; round <= total; round++)); do
	bench_round "$round"
	for n in "${count_list[@]}"; do
		log "$round_name, N=$n (${order[*]#run_})"
		for variant in "${order[@]}"; do
			"$variant" "$n" "$run"
		done
	done
done

# --- report ----------------------------------------------------------------------------------

python3 - "$results" "$info" "$rounds" "$warmup" "$counts" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import statistics, sys

path, info, rounds, warmup = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
counts = [int(c) for c in sys.argv[5].split(",")]
load_end = sys.argv[6]
walls, inner = {}, {}
for line in open(path):
    variant, n, run, t0, t1, extra = line.rstrip("\n").split("\t")
    if int(run) <= 0:
        continue
    walls.setdefault((variant, int(n)), []).append(float(t1) - float(t0))
    if variant == "ours":
        inner.setdefault(int(n), []).append(int(extra) / 1000)

med = statistics.median
names = {
    "ours": "ours: test-downgrade --all --format json (whole CLI process)",
    "per-file": "baseline 1: one psql -1 -f process per file (3N processes)",
    "session": "baseline 2: one psql session, BEGIN; \\i file; COMMIT; x 3N",
}
print()
print(f"machine: {info}")
print(f"load average at the end: {load_end} (other work on the machine slows every variant;"
      f" interleaving spreads it, the medians resist some of it)")
print(f"{rounds} measured rounds per count and variant, interleaved, order rotating"
      f" (+{warmup} warm-up round(s) discarded); wall seconds")
for n in counts:
    print(f"N = {n} migrations ({3 * n} files executed per variant)")
    print(f"  {'variant':<62} {'median':>8} {'min':>8} {'max':>8}")
    for v in ("ours", "per-file", "session"):
        w = walls[(v, n)]
        print(f"  {names[v]:<62} {med(w):8.3f} {min(w):8.3f} {max(w):8.3f}")
    i = inner[n]
    print(f"  {'  ours, check loop only (JSON millis)':<62} {med(i):8.3f} {min(i):8.3f} {max(i):8.3f}")
    ours = med(walls[("ours", n)])
    for v, label in (("per-file", "baseline 1, per-file psql"), ("session", "baseline 2, one psql session")):
        r = ours / med(walls[(v, n)])
        print(f"  ratio ours / {label:<30} {r:6.2f}  (target <= 1.5: {'met' if r <= 1.5 else 'NOT met'})")
    print(f"  ours per migration: {1000 * ours / n:.1f} ms wall,"
          f" {1000 * med(i) / n:.1f} ms in the check loop;"
          f" session baseline: {1000 * med(walls[('session', n)]) / n:.1f} ms")
if len(counts) >= 2:
    lo, hi = counts[0], counts[-1]
    print(f"growth median(N={hi}) / median(N={lo}) (x{hi / lo:g} migrations):")
    for v in ("ours", "per-file", "session"):
        g = med(walls[(v, hi)]) / med(walls[(v, lo)])
        target = (f"  (target <= 2.3: {'met' if g <= 2.3 else 'NOT met'})"
                  if v == "ours" and (lo, hi) == (200, 400) else "")
        print(f"  {names[v]:<62} {g:6.2f}{target}")
    g = med(inner[hi]) / med(inner[lo])
    print(f"  {'  ours, check loop only (JSON millis)':<62} {g:6.2f}")
PY
