#!/usr/bin/env bash
# Benchmarks `load-dump` against the manual ways, side by side in one run on one container,
# and its peak memory at two dump sizes.
#
# Usage: scripts/bench-load-dump.sh [--engine docker|podman] [--image IMAGE] [--size MB]
#                                   [--large MB] [--rounds N]
#
#   --engine   docker (default) or podman (its API service at /run/podman/podman.sock)
#   --image    PostgreSQL image in the official image's contract, present on the engine
#              (default localhost/packit-db-test/postgres:17)
#   --size     size of the plain dump compared against the baselines (default 100 MB)
#   --large    the second size whose peak memory is measured (default 400 MB)
#   --rounds   measured rounds, variants interleaved and rotated (default 3)
#
# What is compared (issue targets in brackets):
#   plain:  `load-dump DUMP.sql` (staging database, load, swap in; the previous database kept)
#           vs the documented manual way `<engine> exec -i CONTAINER psql -U ROLE -d DB < DUMP.sql`
#           into a fresh database [ratio <= 1.1]
#   custom: `load-dump --jobs 2 DUMP.dump` (copying the file in included) vs single-job
#           `<engine> exec CONTAINER pg_restore -U ROLE -d DB /tmp/DUMP.dump` with the file already
#           in the container [ratio < 1.0]
#   memory: peak RSS of the cargo-packit-db process loading the plain dump of --size and of
#           --large MB [<= 64 MB both]
# The dumps are made by pg_dump in the container (through `dump`) from a generated table of
# events with an index. Database creation and removal are outside the baselines' timing, the
# swap is inside ours. Times are printed, never asserted.
set -euo pipefail

BENCH_NAME=bench-load-dump
# shellcheck source=scripts/bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench/common.sh"
measure="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/bench/measure.py"

size=100
large=400
rounds=3
bench_options "engine image size large rounds" "$@"
[[ $size =~ ^[1-9][0-9]*$ && $large =~ ^[1-9][0-9]*$ ]] || fail "--size and --large are MB counts"
[[ $rounds =~ ^[1-9][0-9]*$ ]] || fail "--rounds must be a positive integer"

bench_setup "$engine" "$image"
role=$(python3 -c 'import sys, urllib.parse as u; print(u.unquote(u.urlparse(sys.argv[1]).username))' "$url")

# sql DB STATEMENT: through the tool's psql (the role and password stay in the container).
sql() { tool "$work/sql.log" psql -- -X -q -v ON_ERROR_STOP=1 -d "$1" -c "$2" || fail "SQL failed: $2" "$work/sql.log"; }
fresh_db() { sql postgres "DROP DATABASE IF EXISTS $1 WITH (FORCE)" && sql postgres "CREATE DATABASE $1"; }
drop_kept() {
	local kept
	kept=$(tool_out psql -- -X -At -d postgres -c "SELECT string_agg(quote_ident(datname), ',') FROM pg_database WHERE datname LIKE '${1}_before_%'")
	[[ -z $kept ]] || for db in ${kept//,/ }; do sql postgres "DROP DATABASE $db WITH (FORCE)"; done
}
tool_out() { (cd "$project" && "$bin" packit-db "$@") 2>>"$work/sql.log"; }

# make_dump MB: a generated database of about MB megabytes of COPY data in four tables of
# events (each with an index, as production tables have), dumped plain and custom into
# $work/MB.sql and $work/MB.dump.
make_dump() {
	local mb=$1 rows=$(($1 * 2500)) t ddl=""
	log "generating ~$mb MB of data (4 tables of $rows rows) and dumping it"
	fresh_db "gen_$mb"
	for t in 1 2 3 4; do
		ddl+="CREATE TABLE events_$t (id bigint PRIMARY KEY, account integer NOT NULL, kind text NOT NULL,
		  payload text, created_at timestamptz NOT NULL);
		INSERT INTO events_$t SELECT g, g % 5000, (ARRAY['signup','login','purchase','refund'])[1 + g % 4],
		  md5(g::text) || md5((g * $t)::text), '2026-01-01'::timestamptz + g * interval '1 second'
		FROM generate_series(1, $rows) g;
		CREATE INDEX events_${t}_account ON events_$t (account, created_at);"
	done
	sql "gen_$mb" "$ddl"
	tool "$work/dump.log" dump --database "gen_$mb" --format plain --out "$work/$mb.sql" || fail "dump failed" "$work/dump.log"
	tool "$work/dump.log" dump --database "gen_$mb" --format custom --out "$work/$mb.dump" || fail "dump failed" "$work/dump.log"
	sql postgres "DROP DATABASE gen_$mb"
	log "  plain $(du -m "$work/$mb.sql" | cut -f1) MB, custom $(du -m "$work/$mb.dump" | cut -f1) MB"
}

# run VARIANT: one timed run; appends "wall rss" to $work/VARIANT.times.
run() {
	local v=$1 out
	case $v in
	base_plain)
		fresh_db bench_base
		out=$("$measure" --stdin "$work/$size.sql" "${engine_cli[@]}" exec -i "$container" psql -X -q -v ON_ERROR_STOP=1 -U "$role" -d bench_base) ;;
	ours_plain)
		drop_kept bench_ours
		out=$(cd "$project" && "$measure" "$bin" packit-db load-dump --yes --database bench_ours "$work/$size.sql") ;;
	base_custom)
		fresh_db bench_base
		out=$("$measure" "${engine_cli[@]}" exec "$container" pg_restore -U "$role" -d bench_base /tmp/bench-baseline.dump) ;;
	ours_custom)
		drop_kept bench_ours
		out=$(cd "$project" && "$measure" "$bin" packit-db load-dump --yes --jobs 2 --database bench_ours "$work/$size.dump") ;;
	esac || fail "$v failed"
	echo "$out" >>"$work/$v.times"
}

make_dump "$size"
"${engine_cli[@]}" exec -i "$container" sh -c 'cat > /tmp/bench-baseline.dump' <"$work/$size.dump" ||
	fail "copying the custom dump into the container failed"
variants=(base_plain ours_plain base_custom ours_custom)
log "warm-up round, then $rounds measured rounds"
for v in "${variants[@]}"; do run "$v"; done
rm -f "$work"/*.times
for ((r = 0; r < rounds; r++)); do
	for ((i = 0; i < ${#variants[@]}; i++)); do
		run "${variants[$(((i + r) % ${#variants[@]}))]}"
	done
done
cp "$work/ours_plain.times" "$work/rss_small.times"
make_dump "$large"
drop_kept bench_ours
(cd "$project" && "$measure" "$bin" packit-db load-dump --yes --database bench_ours "$work/$large.sql") >"$work/rss_large.times" ||
	fail "loading the $large MB dump failed"

python3 - "$work" "$size" "$large" "$engine_line" "$image" "$rounds" <<'PY'
import statistics, sys, os
work, size, large, engine, image, rounds = sys.argv[1:]
def load(v):
    rows = [l.split() for l in open(os.path.join(work, v + ".times")) if l.strip()]
    return [float(r[0]) for r in rows], [int(r[1]) for r in rows]
t = {v: load(v) for v in ("base_plain", "ours_plain", "base_custom", "ours_custom", "rss_small", "rss_large")}
med = lambda v: statistics.median(t[v][0])
print(f"machine: {os.cpu_count()} cores; engine {engine}; image {image}; {rounds} rounds (median, min-max)")
for v, what in (("base_plain", f"exec -i psql < {size} MB plain dump"), ("ours_plain", f"load-dump {size} MB plain"),
                ("base_custom", "pg_restore single job, file in container"), ("ours_custom", "load-dump --jobs 2 custom")):
    w = t[v][0]
    print(f"  {what:<44} {med(v):7.2f} s  ({min(w):.2f}-{max(w):.2f})")
rp, rc = med("ours_plain") / med("base_plain"), med("ours_custom") / med("base_custom")
print(f"  ratio plain  load-dump / psql       {rp:5.2f}  (target <= 1.1: {'met' if rp <= 1.1 else 'NOT met'})")
print(f"  ratio custom load-dump -j2 / pg_restore {rc:5.2f}  (target < 1.0: {'met' if rc < 1.0 else 'NOT met'})")
small_rss = max(t["rss_small"][1]) / 1024
large_rss = max(t["rss_large"][1]) / 1024
print(f"  peak RSS of load-dump: {size} MB dump {small_rss:.1f} MB, {large} MB dump {large_rss:.1f} MB  (target <= 64 MB both: {'met' if max(small_rss, large_rss) <= 64 else 'NOT met'})")
PY
