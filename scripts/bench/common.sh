# Shared parts of the bench scripts: logging, the test lock, a temporary project with a
# labelled container, and clean-up. Source it after setting BENCH_NAME; then call
# bench_setup ENGINE IMAGE and use `tool LOG ARGS...`, $bin, $project, $work, $container.
# shellcheck shell=bash

readonly BENCH_LABEL_KEY=io.github.packit-db.test
LOG_NAME=$BENCH_NAME
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# Defaults of the options every bench has.
engine=docker
image=localhost/packit-db-test/postgres:17

# bench_usage: prints the script's header comment (line 2 up to `set -euo pipefail`).
bench_usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
}

# bench_options "NAME..." ARGS...: parses `--NAME VALUE` and `--NAME=VALUE` for each NAME
# into the variable NAME, and -h/--help (bench_usage); anything else fails.
bench_options() {
	local names=" $1 " name
	shift
	while (($#)); do
		case $1 in
		-h | --help)
			bench_usage
			exit 0
			;;
		--?*=*)
			set -- "${1%%=*}" "${1#*=}" "${@:2}"
			continue
			;;
		esac
		name=${1#--}
		[[ $1 == --?* && $names == *" $name "* ]] || fail "unknown argument '$1' (see --help)"
		(($# >= 2)) || fail "$1 needs a value"
		printf -v "$name" '%s' "$2"
		shift 2
	done
}

# bench_check_options: validates the options the test-downgrade benches share: $engine,
# $image, $rounds, $warmup and $seed (empty: the generator's).
bench_check_options() {
	[[ $engine == docker || $engine == podman ]] || fail "--engine must be docker or podman"
	[[ $rounds =~ ^[1-9][0-9]*$ ]] || fail "--rounds must be a positive integer"
	[[ $warmup =~ ^[0-9]+$ ]] || fail "--warmup must be a non-negative integer"
	[[ -z $seed || $seed =~ ^[0-9]+$ ]] || fail "--seed must be a non-negative integer"
	[[ $image =~ ^[A-Za-z0-9][A-Za-z0-9._/:@-]*$ ]] || fail "--image '$image' is not an image reference"
}

# bench_round ROUND: for round ROUND of $warmup + $rounds, sets $run (ROUND - $warmup: <= 0
# in a warm-up round, which the reports discard), $round_name ("round RUN/ROUNDS" or "warm-up
# round ROUND/WARMUP") and $order, the array $variants rotated by ROUND.
bench_round() {
	local k
	run=$(($1 - warmup))
	if ((run <= 0)); then
		round_name="warm-up round $1/$warmup"
	else
		round_name="round $run/$rounds"
	fi
	order=()
	for ((k = 0; k < ${#variants[@]}; k++)); do
		order+=("${variants[($1 + k) % ${#variants[@]}]}")
	done
}

# bench_machine MORE: one line on the machine, the engine and the server (after bench_setup),
# with MORE at the end.
bench_machine() {
	local cpu
	cpu=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') || cpu=unknown
	printf 'nproc %s, CPU %s, kernel %s, load %s; engine %s; image %s; %s\n' "$(nproc)" \
		"${cpu:-unknown}" "$(uname -r)" "$(cut -d' ' -f1-3 /proc/loadavg)" "$engine_line" "$image" "$1"
}

# --- the test-downgrade benches: generated chains (bench/gen_downgrade_chain.py) -----------

# downgrade_prelude: needs python3, keeps libpq settings (PG*) and PACKIT_BENCH_* out, sets
# $generator and $report_checker.
downgrade_prelude() {
	local dir
	command -v python3 >/dev/null || fail "python3 is needed (generator, JSON, statistics)"
	while IFS= read -r var; do unset "$var"; done < <(compgen -e | grep -E '^(PACKIT_BENCH_|PG)' || true)
	dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	generator=$dir/gen_downgrade_chain.py
	report_checker=$dir/check_downgrade_report.py
	[[ -f $generator && -f $report_checker ]] || fail "$generator or $report_checker is missing"
}

# downgrade_generate DIR COUNT [GENERATOR_OPTIONS...]: the chain in $project/DIR (with $seed).
downgrade_generate() {
	python3 "$generator" "$project/$1" "$2" ${seed:+--seed "$seed"} "${@:3}" >"$work/gen.log" 2>&1 ||
		fail "generating the $2-migration chain $1 failed" "$work/gen.log"
}

# downgrade_run DIR COUNT NAME [TOOL_OPTIONS...]: points the project at the chain in DIR and
# times `test-downgrade --all --format json TOOL_OPTIONS` ($T0, $T1), its report in
# $work/NAME.json and its stderr in $work/NAME.log. The report and the exit status must be
# what check_downgrade_report.py expects of that chain (all passed; or, with DIR.broken,
# exactly the broken ones failed, exit 8), else the bench fails. Sets $check to the report's
# `millis lanes`.
downgrade_run() {
	local dir=$1 count=$2 logfile="$work/$3.log" json="$work/$3.json" rc=0
	local broken=("--broken" "$project/$1.broken")
	[[ -f ${broken[1]} ]] || broken=()
	: >"$logfile"
	bench_write_config "$image" "migrations = \"$dir\""
	T0=$EPOCHREALTIME
	(cd "$project" && "$bin" packit-db test-downgrade --all --format json "${@:4}") >"$json" 2>>"$logfile" || rc=$?
	T1=$EPOCHREALTIME
	check=$(python3 "$report_checker" "$json" "$count" "$rc" "${broken[@]}" 2>&1) || {
		printf '%s\n' "$check" >>"$logfile"
		head -c 4000 "$json" >>"$logfile"
		fail "test-downgrade ${*:4} on $dir did not report what the generated chain must give (exit $rc): the chain or the check is wrong" "$logfile"
	}
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
	refuse_config_above "$project"

	log "building the release binary (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
	(cd "$root" && cargo build --release --quiet) >"$work/build.log" 2>&1 ||
		fail "the release build failed" "$work/build.log"

	take_test_lock "a scripts/test.sh run holds it (its clean-up would remove our container)"

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
