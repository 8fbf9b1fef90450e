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

BENCH_NAME=bench-migrate
# shellcheck source=scripts/bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench/common.sh"

count=500
rounds=3
warmup=1
bench_options "engine image count rounds warmup" "$@"
[[ $engine == docker || $engine == podman ]] || fail "--engine must be docker or podman"
[[ $count =~ ^[1-9][0-9]{0,3}$ ]] || fail "--count must be 1 to 9999"
[[ $rounds =~ ^[1-9][0-9]*$ ]] || fail "--rounds must be a positive integer"
[[ $warmup =~ ^[0-9]+$ ]] || fail "--warmup must be a non-negative integer"
[[ $image =~ ^[A-Za-z0-9][A-Za-z0-9._/:@-]*$ ]] || fail "--image '$image' is not an image reference"

bench_setup "$engine" "$image" 'migrations = "migrations"'
log "building the bench"
(cd "$root" && cargo bench --bench migrate --no-run --quiet) >"$work/build-bench.log" 2>&1 ||
	fail "building the bench failed" "$work/build-bench.log"

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
