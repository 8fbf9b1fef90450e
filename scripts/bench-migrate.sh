#!/usr/bin/env bash
# Benchmarks applying and reverting migrations: `cargo packit-db migrate` (the CLI process)
# and the library's Session, against sqlx's own Migrator, on one engine and one server.
#
# Usage: scripts/bench-migrate.sh [--engine docker|podman] [--image IMAGE] [--count N]
#                                 [--rounds N] [--warmup N]
#
#   --engine   docker (default; DOCKER_HOST=unix:///var/run/docker.sock) or podman
#              (DOCKER_HOST=unix:///run/podman/podman.sock, its API service)
#   --image    PostgreSQL image in the official image's contract, present on the engine
#              (default localhost/packit-db-test/postgres:17)
#   --count    migrations in the generated set (default 500)
#   --rounds   measured rounds (default 3)
#   --warmup   discarded rounds before them (default 1)
#
# Steps: builds the release binary and the bench (CARGO_TARGET_DIR, default
# /var/tmp/packit-target); creates a temporary project (packit-db.toml with the label
# io.github.packit-db.test=bench, `migrations = "migrations"`); starts PostgreSQL with
# `cargo-packit-db packit-db up --no-migrate`; reads the URL with `url`; runs
# `cargo bench --bench migrate` (benches/migrate.rs: it generates the set in the project's
# migrations folder, measures and prints; see its header for what is measured); an EXIT
# trap runs `down --volumes --yes` and removes the temporary project.
#
# While it runs it holds /tmp/packit-db-test.lock, the lock of scripts/test.sh, whose
# clean-up removes every container labelled io.github.packit-db.test (ours included).
#
# Times are printed, never asserted: the exit status is non-zero only when a step fails
# (its output is printed).
set -euo pipefail

readonly LABEL_KEY=io.github.packit-db.test
readonly LABEL_VALUE=bench
readonly LOCK_FILE=/tmp/packit-db-test.lock

log() { printf '[bench-migrate] %s\n' "$*" >&2; }
# fail MESSAGE [LOGFILE]: prints MESSAGE and the captured output, exits 1 (the trap cleans).
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
count=500
rounds=3
warmup=1
while (($#)); do
	case $1 in
	--engine | --image | --count | --rounds | --warmup)
		(($# >= 2)) || fail "$1 needs a value"
		case $1 in
		--engine) engine=$2 ;;
		--image) image=$2 ;;
		--count) count=$2 ;;
		--rounds) rounds=$2 ;;
		--warmup) warmup=$2 ;;
		esac
		shift 2
		;;
	--engine=* | --image=* | --count=* | --rounds=* | --warmup=*)
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
[[ $count =~ ^[1-9][0-9]{0,3}$ ]] || fail "--count must be 1 to 9999"
[[ $rounds =~ ^[1-9][0-9]*$ ]] || fail "--rounds must be a positive integer"
[[ $warmup =~ ^[0-9]+$ ]] || fail "--warmup must be a non-negative integer"
[[ $image =~ ^[A-Za-z0-9][A-Za-z0-9._/:@-]*$ ]] || fail "--image '$image' is not an image reference"

case $engine in
docker) socket=/var/run/docker.sock ;;
podman) socket=/run/podman/podman.sock ;;
esac
[[ -S $socket ]] || fail "no $engine API socket at $socket"
command -v cargo >/dev/null || fail "cargo is not on PATH"
command -v flock >/dev/null || fail "flock (util-linux) is needed"

# The tool must see only packit-db.toml and DOCKER_HOST: nothing from this environment.
while IFS= read -r var; do unset "$var"; done < <(compgen -e | grep -E '^(PACKIT_DB_|PACKIT_BENCH_)' || true)
unset DATABASE_URL CONTAINER_HOST
export DOCKER_HOST="unix://$socket"

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/packit-target}
bin=$CARGO_TARGET_DIR/release/cargo-packit-db

work=$(mktemp -d /tmp/packit-bench-migrate.XXXXXX)
project=$work/project
mkdir "$project"
started=0 # 1 once `up` may have created something

# tool LOG ARGS...: runs the tool in the project directory, output appended to LOG.
tool() {
	local logfile=$1
	shift
	(cd "$project" && "$bin" packit-db "$@") >>"$logfile" 2>&1
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	set +e
	if ((started)); then
		log "removing the container and its volume (down --volumes --yes)"
		tool "$work/down.log" down --volumes --yes ||
			{ log "warning: \`down --volumes --yes\` failed:" && sed 's/^/    | /' "$work/down.log" >&2; }
	fi
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The project directory must not be inside a Cargo project or below a .env: the tool
# would read those instead of (or on top of) packit-db.toml.
dir=$project
while [[ $dir != / ]]; do
	dir=$(dirname "$dir")
	[[ ! -e $dir/Cargo.toml && ! -e $dir/.env ]] ||
		fail "$dir has a Cargo.toml or .env that the tool would read; set TMPDIR elsewhere"
done

# --- build (before the lock: it may take a while) ------------------------------------------

log "building the release binary and the bench (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
(cd "$root" && cargo build --release --quiet && cargo bench --bench migrate --no-run --quiet) \
	>"$work/build.log" 2>&1 || fail "the release build failed" "$work/build.log"
[[ -x $bin ]] || fail "no binary at $bin after the build"

# --- lock, project, database ---------------------------------------------------------------

if [[ ! -e $LOCK_FILE ]] && : >"$LOCK_FILE" 2>/dev/null; then
	chmod 0666 "$LOCK_FILE" 2>/dev/null || true
fi
exec 9<"$LOCK_FILE" || fail "cannot open $LOCK_FILE"
if ! flock -n 9; then
	log "a scripts/test.sh run holds $LOCK_FILE (its clean-up would remove our container); waiting"
	flock 9
fi

container="packit-bench-migrate-$$"
cat >"$project/packit-db.toml" <<EOF
image = "$image"
container = "$container"
migrations = "migrations"

[labels]
"$LABEL_KEY" = "$LABEL_VALUE"
EOF

log "starting PostgreSQL ($image) on $engine: up --no-migrate"
started=1
tool "$work/up.log" up --no-migrate --pull missing || fail "\`up --no-migrate\` failed" "$work/up.log"
url=$(cd "$project" && "$bin" packit-db url 2>"$work/url.log") || fail "\`url\` failed" "$work/url.log"
tool "$work/status.log" status || fail "\`status\` failed" "$work/status.log"
engine_line=$(grep -m1 '^engine' "$work/status.log" | sed 's/^engine *//') || engine_line="$engine at $DOCKER_HOST"
[[ $engine_line == "$engine "* ]] || fail "the tool answered through another engine than $engine: $engine_line" "$work/status.log"

# --- the bench -----------------------------------------------------------------------------

log "running cargo bench --bench migrate ($count migrations, $rounds rounds + $warmup warm-up)"
set +e
(
	cd "$root" &&
		PACKIT_BENCH_DATABASE_URL=$url \
			PACKIT_BENCH_DIR=$project/migrations \
			PACKIT_BENCH_BIN=$bin \
			PACKIT_BENCH_PROJECT=$project \
			PACKIT_BENCH_COUNT=$count \
			PACKIT_BENCH_ROUNDS=$rounds \
			PACKIT_BENCH_WARMUP=$warmup \
			PACKIT_BENCH_ENGINE="$engine_line, kernel $(uname -r), image $image" \
			cargo bench --quiet --bench migrate
)
rc=$?
set -e
((rc == 0)) || fail "the bench failed (exit $rc)"
