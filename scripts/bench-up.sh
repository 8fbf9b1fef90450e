#!/usr/bin/env bash
# Benchmarks `cargo packit-db up` against the manual shell way of starting PostgreSQL,
# on one container engine.
#
# Usage: scripts/bench-up.sh [--engine docker|podman] [--image IMAGE] [--runs N]
#                            [--warm-runs N] [--warmup N] [--timeout SECONDS]
#
#   --engine     docker (default; /var/run/docker.sock, `docker` CLI) or podman (its API
#                service at /run/podman/podman.sock, `podman --url ...` CLI)
#   --image      PostgreSQL image in the official image's contract, present on the engine
#                (default localhost/packit-db-test/postgres:17)
#   --runs       measured cold runs of each variant (default 5)
#   --warm-runs  measured `up` runs on an already running container (default 20)
#   --warmup     discarded rounds of the cold variants before measuring (default 1)
#   --timeout    seconds a baseline may wait for PostgreSQL (default 120)
#
# Builds the release binary first (CARGO_TARGET_DIR, default /var/tmp/packit-target).
#
# Cold variants, interleaved run by run (the order rotates every run) so that noise on a
# small machine hits them alike; each starts without container and volume:
#   up       `cargo-packit-db packit-db up` in a temporary project (packit-db.toml), timed
#            as a whole (the process, under /usr/bin/time for its peak RSS); then
#            `down --volumes --yes`, not timed.
#   strict   `<cli> run -d ... -p 127.0.0.1::5432 IMAGE`, `<cli> port`, then
#            `until PGPASSWORD=... psql -h 127.0.0.1 -p PORT ... -Atc 'select 1'; do sleep 0.1;
#            done`: as strict as `up`, a real query over the published TCP port.
#   isready  `<cli> run -d ...`, then `until <cli> exec X pg_isready; do sleep 0.1; done`, as
#            the issue words it. NOT equivalent: pg_isready inside the container also
#            answers for the image's temporary init server (unix socket only); the report
#            counts how often it said "ready" before a query over TCP worked.
# The data volume of the baselines is created (labelled) just before the timer starts;
# `docker run -v` would create it implicitly, so this only makes the baselines faster.
#
# Warm: `up` on the running container of a fourth project, --warm-runs times.
#
# Every container and volume carries the label io.github.packit-db.test=bench (the tool's
# through `[labels]` in packit-db.toml); an EXIT trap removes everything so labelled on the
# engine. The password of the baselines goes through the environment, never argv or output.
#
# Prints machine info and a table: medians, ratio up/baseline (target <= 1.2), warm
# median/p90 (target median < 0.3 s), peak RSS. Targets are reported, never asserted: the
# exit status is non-zero only when a step fails (its output is printed).
set -euo pipefail

readonly LABEL_KEY=io.github.packit-db.test
readonly LABEL_VALUE=bench
readonly LABEL="$LABEL_KEY=$LABEL_VALUE"
readonly READY_LINE='database system is ready to accept connections'
LC_NUMERIC=C # $EPOCHREALTIME with a '.'

LOG_NAME=bench-up
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# fail MESSAGE [LOGFILE]: prints MESSAGE and all the captured output, exits 1 (the trap cleans).
fail() {
	log "error: $1"
	if [[ -n ${2:-} && -s $2 ]]; then
		sed 's/^/    | /' "$2" >&2
	fi
	exit 1
}
usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
}

engine=docker
image=localhost/packit-db-test/postgres:17
runs=5
warm_runs=20
warmup=1
timeout=120
while (($#)); do
	case $1 in
	--engine | --image | --runs | --warm-runs | --warmup | --timeout)
		(($# >= 2)) || fail "$1 needs a value"
		case $1 in
		--engine) engine=$2 ;;
		--image) image=$2 ;;
		--runs) runs=$2 ;;
		--warm-runs) warm_runs=$2 ;;
		--warmup) warmup=$2 ;;
		--timeout) timeout=$2 ;;
		esac
		shift 2
		;;
	--engine=* | --image=* | --runs=* | --warm-runs=* | --warmup=* | --timeout=*)
		set -- "${1%%=*}" "${1#*=}" "${@:2}"
		;;
	-h | --help)
		usage
		exit 0
		;;
	*) fail "unknown argument '$1' (see --help)" ;;
	esac
done
[[ $engine == docker || $engine == podman ]] || fail "--engine must be docker or podman"
[[ $runs =~ ^[1-9][0-9]*$ ]] || fail "--runs must be a positive integer"
[[ $warm_runs =~ ^[1-9][0-9]*$ ]] || fail "--warm-runs must be a positive integer"
[[ $warmup =~ ^[0-9]+$ ]] || fail "--warmup must be a non-negative integer"
[[ $timeout =~ ^[1-9][0-9]*$ ]] || fail "--timeout must be a positive integer"
[[ $image =~ ^[A-Za-z0-9][A-Za-z0-9._/:@-]*$ ]] || fail "--image '$image' is not an image reference"

case $engine in
docker)
	socket=/var/run/docker.sock
	cli=(docker --host "unix://$socket")
	;;
podman)
	socket=/run/podman/podman.sock
	cli=(podman --url "unix://$socket")
	;;
esac

# --- prerequisites ---------------------------------------------------------------------

command -v python3 >/dev/null || fail "python3 is needed (timing statistics)"
command -v psql >/dev/null || fail "psql is needed on the host (apt-get install postgresql-client)"
command -v "${cli[0]}" >/dev/null || fail "the ${cli[0]} CLI is not installed"
if [[ ! -x /usr/bin/time ]]; then
	if ((EUID == 0)) && command -v apt-get >/dev/null; then
		log "installing GNU time (for peak RSS)"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null ||
			fail "apt-get install time failed"
	else
		fail "/usr/bin/time (GNU time) is needed: apt-get install time"
	fi
fi
[[ -S $socket ]] || fail "no $engine API socket at $socket"
"${cli[@]}" version >/dev/null 2>&1 || fail "$engine does not answer at $socket"
"${cli[@]}" image inspect "$image" >/dev/null 2>&1 ||
	fail "image $image is not present on $engine (build it with scripts/build-test-images.sh, or pass --image)"

# The tool must see only packit-db.toml and DOCKER_HOST: nothing from this environment.
while IFS= read -r var; do unset "$var"; done < <(compgen -e | grep -E '^PACKIT_DB_' || true)
unset DATABASE_URL CONTAINER_HOST
export DOCKER_HOST="unix://$socket"

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/packit-target}
bin=$CARGO_TARGET_DIR/release/cargo-packit-db

work=$(mktemp -d /tmp/packit-bench.XXXXXX)
project=$work/project
mkdir "$project"
results=$work/results.tsv
prefix="pkb$$"

# remove_labelled: removes every container and volume labelled bench on the engine.
remove_labelled() {
	local ids vols
	ids=$("${cli[@]}" ps -aq --filter "label=$LABEL" 2>/dev/null) || ids=
	if [[ -n $ids ]]; then
		# shellcheck disable=SC2086 # one id per word
		"${cli[@]}" rm -f $ids >/dev/null 2>&1 || log "warning: could not remove containers $ids"
	fi
	vols=$("${cli[@]}" volume ls -q --filter "label=$LABEL" 2>/dev/null) || vols=
	if [[ -n $vols ]]; then
		# shellcheck disable=SC2086
		"${cli[@]}" volume rm -f $vols >/dev/null 2>&1 || log "warning: could not remove volumes $vols"
	fi
}
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	set +e
	remove_labelled
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

refuse_config_above "$project"

leftover=$("${cli[@]}" ps -aq --filter "label=$LABEL")
if [[ -n $leftover ]]; then
	log "removing containers left labelled $LABEL by an earlier run"
	remove_labelled
fi

# --- build -------------------------------------------------------------------------------

log "building the release binary (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
(cd "$root" && cargo build --release --quiet) >"$work/build.log" 2>&1 ||
	fail "cargo build --release failed" "$work/build.log"
[[ -x $bin ]] || fail "no binary at $bin after the build"

# --- helpers -----------------------------------------------------------------------------

password=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')

# elapsed_ok START: true while less than --timeout seconds have passed since START.
elapsed_ok() { ((${EPOCHREALTIME%.*} - ${1%.*} < timeout)); }

# write_config NAME: the temporary project's packit-db.toml for container NAME.
write_config() {
	cat >"$project/packit-db.toml" <<-EOF
		image = "$image"
		container = "$1"
		port = 0

		[labels]
		"$LABEL_KEY" = "$LABEL_VALUE"
	EOF
}

# tool LOG ARGS...: runs the tool in the project directory, output appended to LOG.
tool() {
	local logfile=$1
	shift
	(cd "$project" && "$bin" packit-db "$@") >>"$logfile" 2>&1
}

# timed_up LOG: runs `up` under /usr/bin/time; sets T0, T1 and RSS_KB.
timed_up() {
	local logfile=$1
	T0=$EPOCHREALTIME
	(cd "$project" && /usr/bin/time -f '%M' -o "$work/rss" "$bin" packit-db up) >>"$logfile" 2>&1 ||
		fail "\`up\` failed" "$logfile"
	T1=$EPOCHREALTIME
	RSS_KB=$(tail -n 1 "$work/rss")
}

# ready_line NAME: the last "ready to accept connections" log line of container NAME.
ready_line() {
	{ "${cli[@]}" logs "$1" 2>&1 || true; } | grep -F "$READY_LINE" | tail -n 1 || true
}

# host_port NAME: the host port PostgreSQL's 5432 is published on.
host_port() {
	local out
	out=$("${cli[@]}" port "$1" 5432/tcp) || return 1
	out=${out%%$'\n'*}
	printf '%s\n' "${out##*:}"
}

# strict_query PORT: one `select 1` over TCP, as the baseline's user.
strict_query() {
	PGPASSWORD=$password PGCONNECT_TIMEOUT=3 psql -X -h 127.0.0.1 -p "$1" -U bench -d bench \
		-Atc 'select 1' >/dev/null 2>"$work/psql.err"
}

# record VARIANT RUN T0 T1 READY_LINE RSS_KB EXTRA
record() {
	local IFS=$'\t'
	printf '%s\n' "$*" >>"$results"
}

# --- the variants ------------------------------------------------------------------------

cold_up() {
	local run=$1
	local name="$prefix-up-$run" logfile="$work/up-$run.log"
	: >"$logfile"
	write_config "$name"
	timed_up "$logfile"
	grep -q "created and started \`$name\` ($engine," "$logfile" ||
		fail "\`up\` did not create \`$name\` on $engine" "$logfile"
	record up "$run" "$T0" "$T1" "$(ready_line "$name")" "$RSS_KB" -
	tool "$logfile" down --volumes --yes || fail "\`down --volumes --yes\` failed" "$logfile"
}

# baseline_create NAME LOG: the volume (not timed), then the timer, then `run -d`.
baseline_create() {
	local name=$1 logfile=$2
	"${cli[@]}" volume create --label "$LABEL" "$name-data" >>"$logfile" 2>&1 ||
		fail "volume create failed" "$logfile"
	T0=$EPOCHREALTIME
	POSTGRES_PASSWORD=$password "${cli[@]}" run -d --name "$name" --label "$LABEL" \
		-e POSTGRES_USER=bench -e POSTGRES_PASSWORD -e POSTGRES_DB=bench \
		-v "$name-data:/var/lib/postgresql/data" -p 127.0.0.1::5432 "$image" \
		>>"$logfile" 2>&1 || fail "$engine run failed" "$logfile"
}

# baseline_fail NAME LOG MESSAGE: adds the container's log to LOG and fails.
baseline_fail() {
	{
		echo "--- last psql error:"
		cat "$work/psql.err" 2>/dev/null || true
		echo "--- container log (tail):"
		"${cli[@]}" logs --tail 20 "$1" 2>&1 || true
	} >>"$2"
	fail "$3" "$2"
}

baseline_remove() {
	"${cli[@]}" rm -f "$1" >>"$2" 2>&1 || fail "rm -f $1 failed" "$2"
	"${cli[@]}" volume rm "$1-data" >>"$2" 2>&1 || fail "volume rm $1-data failed" "$2"
}

cold_strict() {
	local run=$1
	local name="$prefix-sql-$run" logfile="$work/sql-$run.log" port
	: >"$logfile"
	baseline_create "$name" "$logfile"
	port=$(host_port "$name" 2>>"$logfile") || fail "$engine port failed" "$logfile"
	until strict_query "$port"; do
		elapsed_ok "$T0" || baseline_fail "$name" "$logfile" "no answer to select 1 within $timeout s"
		sleep 0.1
	done
	T1=$EPOCHREALTIME
	record strict "$run" "$T0" "$T1" "$(ready_line "$name")" - -
	baseline_remove "$name" "$logfile"
}

cold_isready() {
	local run=$1
	local name="$prefix-isr-$run" logfile="$work/isr-$run.log" port t2
	: >"$logfile"
	baseline_create "$name" "$logfile"
	until "${cli[@]}" exec "$name" pg_isready >/dev/null 2>&1; do
		elapsed_ok "$T0" || baseline_fail "$name" "$logfile" "pg_isready did not succeed within $timeout s"
		sleep 0.1
	done
	T1=$EPOCHREALTIME
	# Not timed: how long after "ready" does a real query over TCP work?
	port=$(host_port "$name" 2>>"$logfile") || fail "$engine port failed" "$logfile"
	until strict_query "$port"; do
		elapsed_ok "$T0" || baseline_fail "$name" "$logfile" "no answer to select 1 within $timeout s"
		sleep 0.02
	done
	t2=$EPOCHREALTIME
	record isready "$run" "$T0" "$T1" "$(ready_line "$name")" - "$t2"
	baseline_remove "$name" "$logfile"
}

# --- measurement -------------------------------------------------------------------------

engine_version=$("${cli[@]}" version --format '{{.Server.Version}}' 2>/dev/null) || engine_version=unknown
cpu=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') || cpu=unknown
image_id=$("${cli[@]}" image inspect --format '{{.Id}}' "$image" 2>/dev/null) || image_id=unknown
image_id=${image_id#sha256:}
info="nproc $(nproc), CPU ${cpu:-unknown}, kernel $(uname -r), $engine $engine_version ($socket), image $image (${image_id:0:12})"
log "$info"

variants=(cold_up cold_strict cold_isready)
: >"$results"
total=$((warmup + runs))
for ((round = 1; round <= total; round++)); do
	run=$((round - warmup)) # <= 0: warm-up round, discarded by the report
	order=()
	for ((k = 0; k < ${#variants[@]}; k++)); do
		order+=("${variants[(round + k) % ${#variants[@]}]}")
	done
	if ((run <= 0)); then
		log "warm-up round $round/$warmup (${order[*]})"
	else
		log "cold run $run/$runs (${order[*]})"
	fi
	for variant in "${order[@]}"; do
		"$variant" "$run"
	done
done

log "warm: $warm_runs x \`up\` on a running container"
name="$prefix-warm"
logfile="$work/warm.log"
: >"$logfile"
write_config "$name"
tool "$logfile" up || fail "\`up\` (creating the warm container) failed" "$logfile"
for ((j = 1; j <= warm_runs; j++)); do
	: >"$logfile"
	timed_up "$logfile"
	grep -q "reused running \`$name\`" "$logfile" || fail "\`up\` did not reuse \`$name\`" "$logfile"
	record warm "$j" "$T0" "$T1" - "$RSS_KB" -
done
tool "$logfile" down --volumes --yes || fail "\`down --volumes --yes\` failed" "$logfile"

# --- report ------------------------------------------------------------------------------

python3 - "$results" "$info" "$runs" "$warmup" <<'PY'
import datetime, math, re, statistics, sys

path, info, runs, warmup = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rows = {}
for line in open(path):
    variant, run, t0, t1, ready, rss, extra = line.rstrip("\n").split("\t")
    if int(run) <= 0:
        continue
    rows.setdefault(variant, []).append(
        dict(t0=float(t0), t1=float(t1), ready=ready, rss=rss, extra=extra))

STAMP = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?) UTC")

def ready_at(line):
    """Epoch seconds of PostgreSQL's own (UTC, ms) timestamp on its ready line."""
    m = STAMP.search(line)
    if not m:
        return None
    dt = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f" if "." in m.group(1)
                                    else "%Y-%m-%d %H:%M:%S")
    return dt.replace(tzinfo=datetime.timezone.utc).timestamp()

def med(xs):
    return statistics.median(xs) if xs else float("nan")

def p90(xs):  # nearest rank
    s = sorted(xs)
    return s[max(0, math.ceil(0.9 * len(s)) - 1)]

def walls(v):
    return [r["t1"] - r["t0"] for r in rows.get(v, [])]

def phases(v):
    """Medians of (start -> final server ready) and (final server ready -> command done)."""
    a, b = [], []
    for r in rows.get(v, []):
        at = ready_at(r["ready"])
        if at is not None:
            a.append(at - r["t0"])
            b.append(r["t1"] - at)
    return med(a), med(b)

def rss_mb(v):
    return [int(r["rss"]) / 1024 for r in rows.get(v, []) if r["rss"].isdigit()]

def s(x):
    return "   n/a" if x != x else f"{x:6.3f}"

names = {
    "up": "packit-db up",
    "strict": "baseline: run + psql select 1 over TCP (strict)",
    "isready": "baseline: run + exec pg_isready (issue's wording)",
}
print()
print(f"machine: {info}")
print(f"cold: {runs} runs per variant, interleaved, order rotating (+{warmup} warm-up round(s) discarded); seconds")
print(f"  {'variant':<50} {'median':>6} {'min':>6} {'max':>6}  {'→ready':>6} {'ready→':>6}")
for v in ("up", "strict", "isready"):
    w = walls(v)
    a, b = phases(v)
    print(f"  {names[v]:<50} {s(med(w))} {s(min(w))} {s(max(w))}  {s(a)} {s(b)}")
print("  (→ready: start to PostgreSQL's final 'ready to accept connections' log line;")
print("   ready→: from that line to the command's end, i.e. readiness detection; negative = too early)")

up, strict, isready = med(walls("up")), med(walls("strict")), med(walls("isready"))
r1, r2 = up / strict, up / isready
print(f"  ratio up / strict baseline     {r1:5.2f}  (target ≤ 1.2: {'met' if r1 <= 1.2 else 'NOT met'})")
print(f"  ratio up / pg_isready baseline {r2:5.2f}  (not like for like: see below)")
iso = rows.get("isready", [])
early = [r for r in iso if (ready_at(r["ready"]) or 0) > r["t1"]]
gaps = [float(r["extra"]) - r["t1"] for r in iso]
print(f"  pg_isready said ready before the final server was up: {len(early)}/{len(iso)} runs;"
      f" a query over TCP first worked a median {s(med(gaps)).strip()} s later"
      f" (incl. ~1 port lookup + psql start)")
w = walls("warm")
wm = med(w)
print(f"warm: up on a running container, {len(w)} runs: median {wm:.3f} s, p90 {p90(w):.3f} s,"
      f" max {max(w):.3f} s  (target median < 0.3 s: {'met' if wm < 0.3 else 'NOT met'})")
c, h = rss_mb("up"), rss_mb("warm")
print(f"peak RSS of up (/usr/bin/time %M): cold median {med(c):.1f} MB (max {max(c):.1f}),"
      f" warm median {med(h):.1f} MB (max {max(h):.1f})")
PY
