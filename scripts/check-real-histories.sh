#!/usr/bin/env bash
# Real migration histories as the acceptance test of `test-downgrade`: runs it on each history
# next to a naive check (pg_dump before and after every step), compares the verdicts per
# migration and prints a table (issue "Real histories as acceptance").
#
# Usage: scripts/check-real-histories.sh [--engine docker|podman] [--image IMAGE]
#                                        [--bin PATH] [--out DIR] [--mode verify|plain] PATH...
#
#   PATH      a project folder holding `migrations/`, or the migrations folder itself; sqlx
#             layout (`V_desc.up.sql` / `.down.sql`, flat) or diesel layout (`V_name/up.sql`,
#             `down.sql`, `metadata.toml`), detected as the tool detects it. The history is
#             named after the folder (its parent for a folder named `migrations`); its commit
#             is `git rev-parse HEAD` in PATH, else the first line of a file COMMIT in the
#             project folder, else "unknown". The histories are not part of this repository
#             (fetch them yourself): the script is not run by CI.
#   --engine  docker (default; unix:///var/run/docker.sock) or podman
#             (unix:///run/podman/podman.sock, its API service)
#   --image   a PostgreSQL image in the official image's contract, present on the engine
#             (default localhost/packit-db-test/postgres:17)
#   --bin     the cargo-packit-db binary (default: `cargo build --release` in this
#             repository, then $CARGO_TARGET_DIR/release/cargo-packit-db)
#   --out     where the results go (default: a new folder under $TMPDIR); kept
#   --mode    verify (default): test-downgrade in its verification mode (every file committed,
#             every snapshot and verdict cross-checked); plain: the ordinary mode, whose round
#             trips run in one transaction rolled back on failure
#
# Per history, one after the other:
#   ours   a temporary project (packit-db.toml: image, engine, container, migrations = the
#          history's folder, label io.github.packit-db.histories=ours), `up --no-migrate`,
#          `test-downgrade --all --format json --jobs 1` timed (with PACKIT_DB_VERIFY=1, the
#          verification mode, when the binary knows that variable; the table says which),
#          then `down --volumes --yes`.
#   naive  scripts/naive_downgrade_check.py in a container this script starts once (label
#          io.github.packit-db.histories=naive, no published port; psql and pg_dump of the
#          server's version run inside it), timed. See that script for what it does.
# Then scripts/compare_downgrade_verdicts.py matches the two per migration.
#
# Output: the Markdown table (history, commit, layout, migrations, broken by each side with
# column-order-only ones labelled, false verdicts, missed, not checked, other
# disagreements, wall time of each) on stdout and in OUT/table.md; every disagreement with
# both sides' details in OUT/disagreements.txt and .jsonl (the path is printed); OUT/<history>/ holds
# both sides' JSON and logs. Exit 1 when any migration's verdicts disagree (or a step
# fails), else 0. Containers and volumes this script made are removed on exit, Ctrl-C and
# TERM; nothing else is touched.
set -euo pipefail

readonly NAME=check-real-histories
readonly LABEL_KEY=io.github.packit-db.histories
LC_NUMERIC=C # $EPOCHREALTIME with a '.'

LOG_NAME=$NAME
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }

engine=docker
image=localhost/packit-db-test/postgres:17
bin=
out=
mode=verify
paths=()
while (($#)); do
	case $1 in
	--engine | --image | --bin | --out | --mode)
		(($# >= 2)) || fail "$1 needs a value"
		case $1 in
		--mode)
			[[ $2 == verify || $2 == plain ]] || fail "--mode: verify or plain, not '$2'"
			mode=$2
			;;
		--engine) engine=$2 ;;
		--image) image=$2 ;;
		--bin) bin=$2 ;;
		--out) out=$2 ;;
		esac
		shift 2
		;;
	-h | --help)
		usage
		exit 0
		;;
	--)
		shift
		paths+=("$@")
		break
		;;
	-*) fail "unknown option '$1' (see --help)" ;;
	*)
		paths+=("$1")
		shift
		;;
	esac
done
((${#paths[@]})) || fail "give at least one history folder (see --help)"
case $engine in
docker)
	socket=unix:///var/run/docker.sock
	engine_cli=(docker -H "$socket")
	;;
podman)
	socket=unix:///run/podman/podman.sock
	engine_cli=(podman --url "$socket")
	;;
*) fail "--engine must be docker or podman" ;;
esac
[[ $image =~ ^[A-Za-z0-9][A-Za-z0-9._/:@-]*$ ]] || fail "--image '$image' is not an image reference"
command -v python3 >/dev/null || fail "python3 is needed"
command -v "${engine_cli[0]}" >/dev/null || fail "the ${engine_cli[0]} CLI is needed"

scripts=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$scripts")
naive_py=$scripts/naive_downgrade_check.py
compare_py=$scripts/compare_downgrade_verdicts.py

# The tool sees only its packit-db.toml and the engine socket.
while IFS= read -r var; do unset "$var"; done < <(compgen -e | grep -E '^PACKIT_DB_' || true)
unset DATABASE_URL CONTAINER_HOST
export DOCKER_HOST=$socket

if [[ -z $out ]]; then
	out=$(mktemp -d "${TMPDIR:-/tmp}/$NAME.XXXXXX")
else
	mkdir -p "$out"
fi
out=$(cd "$out" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/$NAME-work.XXXXXX")
refuse_config_above "$work"

naive_container="histories-naive-$$"
naive_started=0
live_project= # the project whose container is up

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	set +e
	if [[ -n $live_project ]]; then
		log "removing the tool's container and volume (down --volumes --yes)"
		(cd "$live_project" && "$bin" packit-db down --volumes --yes) >"$work/down.log" 2>&1 ||
			{ log "warning: \`down --volumes --yes\` failed:" && sed 's/^/    | /' "$work/down.log" >&2; }
	fi
	if ((naive_started)); then
		"${engine_cli[@]}" rm -f -v "$naive_container" >/dev/null 2>&1 ||
			log "warning: could not remove container $naive_container"
	fi
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ -z $bin ]]; then
	log "building the release binary"
	(cd "$root" && cargo build --release --quiet) >"$work/build.log" 2>&1 ||
		fail "the release build failed" "$work/build.log"
	bin=${CARGO_TARGET_DIR:-$root/target}/release/cargo-packit-db
fi
[[ -x $bin ]] || fail "$bin is not an executable"
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

# The naive check's container: the same image, its superuser the role that owns the
# databases (as the tool's application role is on official images). No port: everything
# runs inside it. The password reaches the engine through the environment, never argv.
log "starting the naive check's container $naive_container ($image, $engine)"
naive_started=1
POSTGRES_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_hex(16))') \
	"${engine_cli[@]}" run -d --name "$naive_container" --label "$LABEL_KEY=naive" \
	-e POSTGRES_USER=naive -e POSTGRES_PASSWORD -e POSTGRES_DB=naive "$image" \
	>"$work/naive-run.log" 2>&1 || fail "could not start the naive container" "$work/naive-run.log"
# Ready when the final server answers on TCP (the image's init server listens on the socket only).
for ((i = 0; ; i++)); do
	if "${engine_cli[@]}" exec "$naive_container" pg_isready -q -h 127.0.0.1 -U naive >/dev/null 2>&1; then
		break
	fi
	((i < 120)) || fail "the naive container did not become ready in 60 s"
	sleep 0.5
done

history_name() {
	local p=$1
	p=${p%/}
	[[ $(basename "$p") != migrations ]] || p=$(dirname "$p")
	basename "$p"
}

history_commit() {
	local p=$1 project=${1%/}
	[[ $(basename "$project") != migrations ]] || project=$(dirname "$project")
	if git -C "$p" rev-parse HEAD 2>/dev/null; then
		return
	fi
	if [[ -f $project/COMMIT ]]; then
		head -n 1 "$project/COMMIT"
		return
	fi
	echo unknown
}

rows=()
: >"$out/disagreements.jsonl"
: >"$out/disagreements.txt"
verify_note=
n=0
for path in "${paths[@]}"; do
	n=$((n + 1))
	[[ -d $path ]] || fail "$path is not a folder"
	path=$(cd "$path" && pwd)
	name=$(history_name "$path")
	commit=$(history_commit "$path")
	migrations=$path
	[[ ! -d $path/migrations ]] || migrations=$path/migrations
	[[ $migrations != *"'"* ]] || fail "$migrations: a path with a single quote is not supported"
	dest=$out/$n-$name
	mkdir -p "$dest"
	log "$name ($commit): $migrations"

	# Ours.
	project=$work/project-$n
	mkdir -p "$project"
	cat >"$project/packit-db.toml" <<TOML
image = "$image"
engine = "$engine"
container = "histories-ours-$$-$n"
migrations = '$migrations'

[labels]
"$LABEL_KEY" = "ours"
TOML
	live_project=$project
	(cd "$project" && "$bin" packit-db up --no-migrate) >"$dest/up.log" 2>&1 ||
		fail "$name: \`up --no-migrate\` failed" "$dest/up.log"
	verify=(env PACKIT_DB_VERIFY=1)
	verify_mode=yes
	if [[ $mode == plain ]]; then
		verify=(env PACKIT_DB_VERIFY=0)
		verify_mode=no
		verify_note="ours ran in the ordinary mode (--mode plain): round trips in one transaction, rolled back on failure"
	elif ! (cd "$project" && "${verify[@]}" "$bin" packit-db url) >/dev/null 2>"$dest/verify.log"; then
		grep -q 'PACKIT_DB_VERIFY' "$dest/verify.log" ||
			fail "$name: \`url\` failed" "$dest/verify.log"
		verify=(env)
		verify_mode=no
		verify_note="this binary does not know PACKIT_DB_VERIFY (the verification mode): ours ran without it"
	fi
	log "$name: test-downgrade --all (verification mode: $verify_mode)"
	started=$EPOCHREALTIME
	rc=0
	(cd "$project" && "${verify[@]}" "$bin" packit-db test-downgrade --all --format json --jobs 1) \
		>"$dest/ours.json" 2>"$dest/ours.log" || rc=$?
	ended=$EPOCHREALTIME
	ours_seconds=$(python3 -c "print(round($ended - $started, 1))")
	[[ $rc == 0 || $rc == 8 ]] || fail "$name: test-downgrade exited $rc" "$dest/ours.log"
	(cd "$project" && "$bin" packit-db down --volumes --yes) >"$dest/down.log" 2>&1 ||
		fail "$name: \`down --volumes --yes\` failed" "$dest/down.log"
	live_project=

	# The naive check.
	log "$name: naive check (pg_dump)"
	started=$EPOCHREALTIME
	python3 "$naive_py" --engine-cli "${engine_cli[*]}" --container "$naive_container" \
		--user naive --migrations "$migrations" --out "$dest/naive.json" \
		2>"$dest/naive.log" || fail "$name: the naive check failed" "$dest/naive.log"
	ended=$EPOCHREALTIME
	naive_seconds=$(python3 -c "print(round($ended - $started, 1))")

	python3 "$compare_py" --history "$name" --commit "$commit" --ours "$dest/ours.json" \
		--naive "$dest/naive.json" --ours-seconds "$ours_seconds" \
		--naive-seconds "$naive_seconds" --verify "$verify_mode" --row "$dest/row.json" \
		--disagreements "$out/disagreements" || fail "$name: the comparison failed"
	rows+=("$dest/row.json")
done

python3 "$compare_py" table "${rows[@]}" | tee "$out/table.md"
[[ -z $verify_note ]] || { log "note: $verify_note" && echo "Note: $verify_note." >>"$out/table.md"; }
log "per-migration disagreements: $out/disagreements.txt (and .jsonl)"
count=$(python3 -c 'import json, sys
print(sum(sum(json.load(open(p))[k] for k in ("false", "missed", "not_checked", "irreversible_mismatch", "steps_differ")) for p in sys.argv[1:]))' "${rows[@]}")
if ((count > 0)); then
	log "$count migration(s) with disagreeing verdicts"
	exit 1
fi
log "every verdict agrees"
