#!/usr/bin/env bash
# The project's test command:   sudo scripts/test.sh   or   scripts/test.sh
#
# As root: installs and starts the container engines (scripts/setup-engines.sh)
# and builds the test images (scripts/build-test-images.sh), both idempotent.
# As an ordinary user: installs and builds nothing, but requires the engines to
# answer and the images to exist.
# Then it removes what earlier, killed runs left behind (containers and volumes
# labelled io.github.packit-db.test), runs cargo fmt --check, cargo clippy
# --all-targets -D warnings, cargo test --all-targets [ARGS...], cargo test
# --doc and cargo doc (warnings are errors), and removes the labelled containers
# and volumes again.
#
# Environment (each one is only given its default when unset):
#   PACKIT_TEST_ENGINES       docker,podman  (e.g. PACKIT_TEST_ENGINES=docker)
#   PACKIT_TEST_DOCKER_HOST   unix:///var/run/docker.sock
#   PACKIT_TEST_PODMAN_HOST   unix:///run/podman/podman.sock (as a user with a
#                             rootless Podman service running: its socket)
#   PACKIT_TEST_IMAGE_17      localhost/packit-db-test/postgres:17
#   PACKIT_TEST_IMAGE_15      localhost/packit-db-test/postgres:15
#   PACKIT_TEST_IMAGE_SCLORG  localhost/packit-db-test/sclorg-postgresql:15
#   CARGO_TARGET_DIR          /var/tmp/packit-target (kept between runs, outside
#                             the clone; any directory works)
#
# Extra arguments go to "cargo test --all-targets", e.g.
#   scripts/test.sh --test lifecycle -- --nocapture
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
readonly SCRIPT_DIR REPO_ROOT
readonly TEST_LABEL=io.github.packit-db.test
LOG_NAME=test
# shellcheck source=scripts/lib.sh
source "$SCRIPT_DIR/lib.sh"

# step NAME COMMAND...: runs a command with a header and its duration.
step() {
	local name=$1 start rc=0
	shift
	log "---- $name: $*"
	start=$(now)
	"$@" || rc=$?
	if ((rc != 0)); then
		log "---- $name FAILED (exit $rc) after $(elapsed "$start")"
		return "$rc"
	fi
	log "---- $name ok ($(elapsed "$start"))"
}

selected_engines() {
	local list engine
	list=${PACKIT_TEST_ENGINES//,/ }
	for engine in $list; do
		printf '%s\n' "$engine"
	done
}

configure_environment() {
	local engine
	export PACKIT_TEST_ENGINES=${PACKIT_TEST_ENGINES-docker,podman}
	PACKIT_TEST_ENGINES=${PACKIT_TEST_ENGINES// /}
	for engine in $(selected_engines); do
		case $engine in
		docker | podman) ;;
		*) die "PACKIT_TEST_ENGINES: unknown engine '$engine' (use docker, podman or docker,podman)" ;;
		esac
	done

	export PACKIT_TEST_DOCKER_HOST=${PACKIT_TEST_DOCKER_HOST:-unix:///var/run/docker.sock}
	if [[ -z ${PACKIT_TEST_PODMAN_HOST:-} ]]; then
		if ((EUID != 0)) && [[ -n ${XDG_RUNTIME_DIR:-} && -S $XDG_RUNTIME_DIR/podman/podman.sock ]]; then
			PACKIT_TEST_PODMAN_HOST="unix://$XDG_RUNTIME_DIR/podman/podman.sock"
		else
			PACKIT_TEST_PODMAN_HOST=unix:///run/podman/podman.sock
		fi
	fi
	export PACKIT_TEST_PODMAN_HOST
	export PACKIT_TEST_IMAGE_17=${PACKIT_TEST_IMAGE_17:-localhost/packit-db-test/postgres:17}
	export PACKIT_TEST_IMAGE_15=${PACKIT_TEST_IMAGE_15:-localhost/packit-db-test/postgres:15}
	export PACKIT_TEST_IMAGE_SCLORG=${PACKIT_TEST_IMAGE_SCLORG:-localhost/packit-db-test/sclorg-postgresql:15}

	if [[ -z ${CARGO_TARGET_DIR:-} ]]; then
		CARGO_TARGET_DIR=/var/tmp/packit-target
		# Left by a root run, it may not be ours: fall back to a per-user directory.
		if ! mkdir -p "$CARGO_TARGET_DIR" 2>/dev/null || [[ ! -w $CARGO_TARGET_DIR ]]; then
			CARGO_TARGET_DIR=/var/tmp/packit-target-$(id -u)
		fi
	fi
	export CARGO_TARGET_DIR
}

ensure_cargo() {
	local home user_home
	if ! command -v cargo >/dev/null 2>&1; then
		home=${HOME:-$(getent passwd "$(id -un)" | cut -d: -f6)}
		if [[ -x $home/.cargo/bin/cargo ]]; then
			PATH="$home/.cargo/bin:$PATH"
		fi
	fi
	# Under sudo, the toolchain may be the invoking user's.
	if ! command -v cargo >/dev/null 2>&1 && [[ -n ${SUDO_USER:-} ]]; then
		user_home=$(getent passwd "$SUDO_USER" | cut -d: -f6)
		if [[ -n $user_home && -x $user_home/.cargo/bin/cargo ]]; then
			PATH="$user_home/.cargo/bin:$PATH"
			export RUSTUP_HOME=${RUSTUP_HOME:-$user_home/.rustup}
		fi
	fi
	export PATH
	command -v cargo >/dev/null 2>&1 || die "cargo not found in PATH nor in ~/.cargo/bin: install Rust (rustup)"
}

# engine_cli ENGINE ARGS: the engine's CLI, talking to the API the tests use.
engine_cli() {
	local engine=$1
	shift
	case $engine in
	docker) docker -H "$PACKIT_TEST_DOCKER_HOST" "$@" ;;
	podman) podman --url "$PACKIT_TEST_PODMAN_HOST" "$@" ;;
	esac
}

# remove_test_resources: removes every container and volume labelled TEST_LABEL
# on the selected engines. Never fails the run.
remove_test_resources() {
	local engine containers volumes errors
	errors=$(mktemp)
	for engine in $(selected_engines); do
		if ! command -v "$engine" >/dev/null 2>&1; then
			log "warning: no $engine CLI: cannot remove leftover test containers and volumes there"
			continue
		fi
		if ! containers=$(engine_cli "$engine" ps -aq --filter "label=$TEST_LABEL" 2>"$errors"); then
			log "warning: could not list the containers on $engine: $(head -n 1 "$errors")"
			continue
		fi
		if [[ -n $containers ]]; then
			log "removing $(wc -w <<<"$containers") test container(s) on $engine"
			# shellcheck disable=SC2086 # one id per word
			engine_cli "$engine" rm -f -v $containers >/dev/null || log "warning: could not remove all containers on $engine"
		fi
		if ! volumes=$(engine_cli "$engine" volume ls -q --filter "label=$TEST_LABEL" 2>"$errors"); then
			log "warning: could not list the volumes on $engine: $(head -n 1 "$errors")"
			continue
		fi
		if [[ -n $volumes ]]; then
			log "removing $(wc -w <<<"$volumes") test volume(s) on $engine"
			# shellcheck disable=SC2086 # one name per word
			engine_cli "$engine" volume rm -f $volumes >/dev/null || log "warning: could not remove all volumes on $engine"
		fi
	done
	rm -f "$errors"
}

on_exit() {
	local rc=$?
	trap - EXIT
	log "cleaning up test containers and volumes"
	remove_test_resources
	if ((rc == 0)); then
		log "all checks passed"
	else
		log "FAILED (exit $rc)"
	fi
	exit "$rc"
}

main() {
	cd "$REPO_ROOT"
	configure_environment
	ensure_cargo

	log "engines: ${PACKIT_TEST_ENGINES:-(none)}; docker: $PACKIT_TEST_DOCKER_HOST; podman: $PACKIT_TEST_PODMAN_HOST"
	log "images: $PACKIT_TEST_IMAGE_17, $PACKIT_TEST_IMAGE_15, $PACKIT_TEST_IMAGE_SCLORG"
	log "CARGO_TARGET_DIR=$CARGO_TARGET_DIR"

	# (The lock is taken after the engines are up: daemons started by
	# setup-engines.sh must not inherit it.)
	if ((EUID == 0)); then
		step "setup engines" "$SCRIPT_DIR/setup-engines.sh"
		take_test_lock "another scripts/test.sh run holds it"
		step "build test images" "$SCRIPT_DIR/build-test-images.sh"
	else
		log "not root: installing and building nothing (use 'sudo scripts/test.sh' for that)"
		step "check engines" "$SCRIPT_DIR/setup-engines.sh"
		take_test_lock "another scripts/test.sh run holds it"
		step "check test images" "$SCRIPT_DIR/build-test-images.sh" --check
	fi

	remove_test_resources
	trap on_exit EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	step "cargo fmt" cargo fmt --check
	step "cargo clippy" cargo clippy --all-targets -- -D warnings
	step "cargo test" cargo test --all-targets "$@"
	step "cargo test --doc" cargo test --doc
	step "cargo doc" env RUSTDOCFLAGS="-D warnings" cargo doc --no-deps
}

main "$@"
