# Shared parts of the bench scripts: logging, the test lock, a temporary project with a
# labelled container, and clean-up. Source it after setting BENCH_NAME; then call
# bench_setup ENGINE IMAGE and use `tool LOG ARGS...`, $bin, $project, $work, $container.
# shellcheck shell=bash

readonly BENCH_LABEL_KEY=io.github.packit-db.test
readonly BENCH_LOCK_FILE=/tmp/packit-db-test.lock

log() { printf '[%s] %s\n' "$BENCH_NAME" "$*" >&2; }
# fail MESSAGE [LOGFILE]: prints MESSAGE and the captured output, exits 1 (the trap cleans).
fail() {
	log "error: $1"
	if [[ -n ${2:-} && -s $2 ]]; then
		tail -n 60 "$2" | sed 's/^/    | /' >&2
	fi
	exit 1
}

# tool LOG ARGS...: runs the tool in the project directory, output appended to LOG.
tool() {
	local logfile=$1
	shift
	(cd "$project" && "$bin" packit-db "$@") >>"$logfile" 2>&1
}

# bench_write_config IMAGE [EXTRA_TOML]: (re)writes the project's packit-db.toml: the image,
# the bench's container and label, and EXTRA_TOML.
bench_write_config() {
	cat >"$project/packit-db.toml" <<TOML
image = "$1"
container = "$container"
${2:-}

[labels]
"$BENCH_LABEL_KEY" = "bench"
TOML
}

bench_cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	set +e
	if ((${bench_started:-0})); then
		log "removing the container and its volume (down --volumes --yes)"
		tool "$work/down.log" down --volumes --yes ||
			{ log "warning: \`down --volumes --yes\` failed:" && sed 's/^/    | /' "$work/down.log" >&2; }
	fi
	rm -rf "$work"
	exit "$rc"
}

# bench_setup ENGINE IMAGE [EXTRA_TOML]: builds the release binary, takes the test lock,
# writes a temporary project (EXTRA_TOML added to its packit-db.toml) and starts PostgreSQL
# with `up --no-migrate`. Sets engine_cli (the engine's CLI bound to the same API socket),
# url and engine_line, and fails unless the tool answered through ENGINE.
bench_setup() {
	local engine=$1 image=$2 extra=${3:-} socket dir
	case $engine in
	docker) socket=/var/run/docker.sock ;;
	podman) socket=/run/podman/podman.sock ;;
	*) fail "--engine must be docker or podman" ;;
	esac
	[[ -S $socket ]] || fail "no $engine API socket at $socket"
	command -v cargo >/dev/null || fail "cargo is not on PATH"
	command -v flock >/dev/null || fail "flock (util-linux) is needed"
	# The tool must see only packit-db.toml and DOCKER_HOST: nothing from this environment.
	while IFS= read -r var; do unset "$var"; done < <(compgen -e | grep -E '^PACKIT_DB_' || true)
	unset DATABASE_URL CONTAINER_HOST
	export DOCKER_HOST="unix://$socket"
	case $engine in
	docker) engine_cli=(docker -H "$DOCKER_HOST") ;;
	podman) engine_cli=(podman --url "$DOCKER_HOST") ;;
	esac

	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/packit-target}
	bin=$CARGO_TARGET_DIR/release/cargo-packit-db
	work=$(mktemp -d "/tmp/packit-$BENCH_NAME.XXXXXX")
	project=$work/project
	mkdir "$project"
	bench_started=0
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	# The tool would read a Cargo.toml or .env above the project instead of packit-db.toml.
	dir=$project
	while [[ $dir != / ]]; do
		dir=$(dirname "$dir")
		[[ ! -e $dir/Cargo.toml && ! -e $dir/.env ]] ||
			fail "$dir has a Cargo.toml or .env that the tool would read; set TMPDIR elsewhere"
	done

	log "building the release binary (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
	(cd "$root" && cargo build --release --quiet) >"$work/build.log" 2>&1 ||
		fail "the release build failed" "$work/build.log"

	if [[ ! -e $BENCH_LOCK_FILE ]] && : >"$BENCH_LOCK_FILE" 2>/dev/null; then
		chmod 0666 "$BENCH_LOCK_FILE" 2>/dev/null || true
	fi
	exec 9<"$BENCH_LOCK_FILE" || fail "cannot open $BENCH_LOCK_FILE"
	if ! flock -n 9; then
		log "a scripts/test.sh run holds $BENCH_LOCK_FILE (its clean-up would remove our container); waiting"
		flock 9
	fi

	container="packit-$BENCH_NAME-$$"
	bench_write_config "$image" "$extra"
	log "starting PostgreSQL ($image) on $engine: up --no-migrate"
	bench_started=1
	tool "$work/up.log" up --no-migrate --pull missing || fail "\`up --no-migrate\` failed" "$work/up.log"
	url=$(cd "$project" && "$bin" packit-db url 2>"$work/url.log") || fail "\`url\` failed" "$work/url.log"
	tool "$work/status.log" status || fail "\`status\` failed" "$work/status.log"
	engine_line=$(grep -m1 '^engine' "$work/status.log" | sed 's/^engine *//') || engine_line="$engine"
	[[ $engine_line == "$engine "* ]] ||
		fail "the tool answered through another engine than $engine: $engine_line" "$work/status.log"
}
