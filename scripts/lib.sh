# Shared by the scripts in scripts/: logging, timing, and the lock that keeps a test run's
# clean-up away from other runs' containers. Source it after setting LOG_NAME (the tag of
# every log line).
# shellcheck shell=bash

readonly TEST_LOCK_FILE=/tmp/packit-db-test.lock

log() { printf '[%s] %s\n' "$LOG_NAME" "$*" >&2; }
# fail MESSAGE [LOGFILE]: prints MESSAGE and the end of LOGFILE (a step's captured output),
# exits 1 (a trap cleans up).
fail() {
	log "error: $1"
	if [[ -n ${2:-} && -s $2 ]]; then
		tail -n 60 "$2" | sed 's/^/    | /' >&2
	fi
	exit 1
}
die() { fail "$*"; }

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

# take_test_lock WHY: holds TEST_LOCK_FILE on fd 9 until the script exits, waiting (and saying
# WHY) while another run holds it. scripts/test.sh removes every labelled test container
# when it starts and ends, so two runs, or a run and a bench, must not overlap.
take_test_lock() {
	if [[ ! -e $TEST_LOCK_FILE ]] && : >"$TEST_LOCK_FILE" 2>/dev/null; then
		chmod 0666 "$TEST_LOCK_FILE" 2>/dev/null || true
	fi
	exec 9<"$TEST_LOCK_FILE" || fail "cannot open $TEST_LOCK_FILE"
	if ! flock -n 9; then
		log "$TEST_LOCK_FILE is held: $1; waiting"
		flock 9
	fi
}

# refuse_config_above DIR: fails when a folder above DIR holds a Cargo.toml or .env, which the
# tool would read instead of (or on top of) DIR's packit-db.toml.
refuse_config_above() {
	local dir=$1
	while [[ $dir != / ]]; do
		dir=$(dirname "$dir")
		[[ ! -e $dir/Cargo.toml && ! -e $dir/.env ]] ||
			fail "$dir has a Cargo.toml or .env that the tool would read; set TMPDIR elsewhere"
	done
}
