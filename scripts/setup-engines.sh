#!/usr/bin/env bash
# Makes the two container engines the test suite uses answer on this machine.
#
# As root (Debian): installs the packages the test infrastructure needs when one
# is missing, configures Podman (see /work/shared/ENVIRONMENT.md §3 in the
# project's notes: runc and explicit ulimits), and starts dockerd and the Podman
# Docker-compatible API service when they do not answer yet.
#
# As an ordinary user: installs and starts nothing; only checks that the engines
# named in PACKIT_TEST_ENGINES (default: docker,podman) answer, and says which
# one does not.
#
# Safe to re-run: every step is skipped when it is already done.
set -euo pipefail

readonly PACKAGES=(docker.io podman runc busybox-static postgresql-15 debootstrap curl gzip zstd)
readonly DOCKER_SOCKET=/var/run/docker.sock
readonly DOCKER_LOG=/var/log/dockerd.log
readonly DOCKER_TIMEOUT=60
readonly PODMAN_SOCKET=/run/podman/podman.sock
readonly PODMAN_LOG=/var/log/podman-api.log
readonly PODMAN_TIMEOUT=30
readonly CONTAINERS_CONF=/etc/containers/containers.conf

log() { printf '[setup-engines] %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

# engine_selected NAME: true when NAME is listed in PACKIT_TEST_ENGINES.
engine_selected() {
	local list=",${PACKIT_TEST_ENGINES-docker,podman},"
	list=${list// /}
	[[ $list == *",$1,"* ]]
}

# socket_path URL: prints the path of a unix:// URL (a bare path is accepted too).
socket_path() {
	case $1 in
	unix://*) printf '%s\n' "${1#unix://}" ;;
	/*) printf '%s\n' "$1" ;;
	*) return 1 ;;
	esac
}

# api_answers URL: true when the Docker-compatible API at URL answers /_ping with OK.
api_answers() {
	local url=$1 path reply
	if path=$(socket_path "$url"); then
		[[ -S $path ]] || return 1
		reply=$(curl -fsS --max-time 5 --unix-socket "$path" http://d/_ping 2>/dev/null) || return 1
	else
		reply=$(curl -fsS --max-time 5 "${url/#tcp:/http:}/_ping" 2>/dev/null) || return 1
	fi
	[[ $reply == OK ]]
}

# api_error URL: a short explanation of why the API at URL does not answer.
api_error() {
	local url=$1 path
	if path=$(socket_path "$url"); then
		if [[ ! -e $path ]]; then
			printf 'socket %s does not exist (service not running?)' "$path"
			return
		fi
		if [[ ! -r $path || ! -w $path ]]; then
			printf 'no permission to use socket %s (run as root, or get access to it)' "$path"
			return
		fi
		curl -sS --max-time 5 --unix-socket "$path" http://d/_ping 2>&1 >/dev/null | head -n 1 || true
	else
		curl -sS --max-time 5 "${url/#tcp:/http:}/_ping" 2>&1 >/dev/null | head -n 1 || true
	fi
}

package_installed() {
	[[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true) == "install ok installed" ]]
}

install_packages() {
	local missing=() pkg
	for pkg in "${PACKAGES[@]}"; do
		package_installed "$pkg" || missing+=("$pkg")
	done
	if ((${#missing[@]} == 0)); then
		log "packages already installed: ${PACKAGES[*]}"
		return
	fi
	log "installing missing packages: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	apt-get install -y "${PACKAGES[@]}"
}

configure_podman() {
	if [[ -f $CONTAINERS_CONF ]] && grep -Eq '^[[:space:]]*runtime[[:space:]]*=[[:space:]]*"runc"' "$CONTAINERS_CONF"; then
		log "$CONTAINERS_CONF already selects runc"
		return
	fi
	mkdir -p "$(dirname "$CONTAINERS_CONF")"
	if [[ -s $CONTAINERS_CONF ]]; then
		cp -p "$CONTAINERS_CONF" "$CONTAINERS_CONF.packit-db.bak"
		log "saved the previous $CONTAINERS_CONF as $CONTAINERS_CONF.packit-db.bak"
	fi
	cat >"$CONTAINERS_CONF" <<'CONF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
CONF
	log "wrote $CONTAINERS_CONF (runtime runc, explicit ulimits)"
}

# wait_for NAME URL TIMEOUT LOG: waits until the API answers; on timeout prints
# the end of the service's log and fails.
wait_for() {
	local name=$1 url=$2 timeout=$3 logfile=$4 start=$SECONDS
	until api_answers "$url"; do
		if ((SECONDS - start >= timeout)); then
			log "$name did not answer on $url within ${timeout}s; last lines of $logfile:"
			tail -n 40 "$logfile" >&2 || true
			die "$name failed to start"
		fi
		sleep 0.5
	done
	log "$name answers on $url (after $((SECONDS - start))s)"
}

start_docker() {
	local url="unix://$DOCKER_SOCKET"
	if api_answers "$url" && docker -H "$url" info >/dev/null 2>&1; then
		log "dockerd already answers on $url"
		return
	fi
	if pgrep -x dockerd >/dev/null 2>&1; then
		log "dockerd is running but does not answer yet; waiting"
	else
		log "starting dockerd (log: $DOCKER_LOG)"
		setsid dockerd >>"$DOCKER_LOG" 2>&1 </dev/null &
	fi
	wait_for dockerd "$url" "$DOCKER_TIMEOUT" "$DOCKER_LOG"
}

podman_service_running() {
	pgrep -f "podman system service .*unix://$PODMAN_SOCKET" >/dev/null 2>&1
}

start_podman() {
	local url="unix://$PODMAN_SOCKET"
	if api_answers "$url"; then
		log "podman API service already answers on $url"
		return
	fi
	if podman_service_running; then
		log "podman API service is running but does not answer yet; waiting"
	else
		mkdir -p "$(dirname "$PODMAN_SOCKET")"
		# A socket file left by a killed service would make the new one fail to bind.
		rm -f "$PODMAN_SOCKET"
		log "starting podman system service (log: $PODMAN_LOG)"
		setsid podman system service --time=0 "$url" >>"$PODMAN_LOG" 2>&1 </dev/null &
	fi
	wait_for "podman API service" "$url" "$PODMAN_TIMEOUT" "$PODMAN_LOG"
}

# As an ordinary user: only check the engines the tests will use.
check_engines() {
	local failed=0 url
	if engine_selected docker; then
		url=${PACKIT_TEST_DOCKER_HOST:-${DOCKER_HOST:-unix://$DOCKER_SOCKET}}
		if api_answers "$url"; then
			log "docker answers on $url"
		else
			log "docker does NOT answer on $url: $(api_error "$url")"
			failed=1
		fi
	fi
	if engine_selected podman; then
		url=${PACKIT_TEST_PODMAN_HOST:-}
		if [[ -z $url ]]; then
			if [[ -n ${XDG_RUNTIME_DIR:-} && -S $XDG_RUNTIME_DIR/podman/podman.sock ]]; then
				url="unix://$XDG_RUNTIME_DIR/podman/podman.sock"
			else
				url="unix://$PODMAN_SOCKET"
			fi
		fi
		if api_answers "$url"; then
			log "podman answers on $url"
		else
			log "podman does NOT answer on $url: $(api_error "$url")"
			failed=1
		fi
	fi
	if ((failed)); then
		log "not root, so nothing was installed or started. Run 'sudo scripts/setup-engines.sh'"
		log "(or start the missing engine yourself), or restrict the run with"
		log "PACKIT_TEST_ENGINES=docker or PACKIT_TEST_ENGINES=podman."
		exit 1
	fi
}

main() {
	if ((EUID != 0)); then
		check_engines
		return
	fi
	command -v apt-get >/dev/null 2>&1 || die "apt-get not found: this script sets up Debian machines only"
	install_packages
	if engine_selected docker; then
		start_docker
	fi
	if engine_selected podman; then
		configure_podman
		start_podman
	fi
}

main "$@"
