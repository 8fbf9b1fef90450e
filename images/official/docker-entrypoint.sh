#!/bin/sh
# Entrypoint of the packit-db test images built by scripts/build-test-images.sh
# (localhost/packit-db-test/postgres:15 and :17). It honours the contract of the
# official image (docker.io/library/postgres) that the project relies on:
#
#   POSTGRES_USER      superuser name (default: postgres)
#   POSTGRES_PASSWORD  its password; required unless POSTGRES_HOST_AUTH_METHOD=trust
#   POSTGRES_DB        database created on first start (default: POSTGRES_USER)
#   POSTGRES_INITDB_ARGS, POSTGRES_HOST_AUTH_METHOD (default scram-sha-256)
#   PGDATA             data directory (default: /var/lib/postgresql/data)
#   *_FILE variants of POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB,
#   POSTGRES_INITDB_ARGS; /docker-entrypoint-initdb.d/*.sh and *.sql
#
# Arguments starting with "-" are options for postgres ("postgres" itself may be
# given first); any other command is executed as is. Started as root, it fixes
# the ownership of PGDATA and re-executes itself as the postgres user. On an
# empty data directory it runs initdb, starts a temporary server on the unix
# socket only, creates POSTGRES_DB and stops it again. Finally it execs
# postgres -c listen_addresses='*' "$@".
#
# POSIX sh: it runs under busybox sh (host PostgreSQL 15 image) and dash
# (Debian trixie image). The password is never printed.
set -eu

log() { printf '%s\n' "$*"; }
error() {
	printf 'Error: %s\n' "$*" >&2
	exit 1
}

# file_env VAR: VAR_FILE names a file holding VAR's value (docker secrets).
file_env() {
	eval "fe_value=\${$1:-}"
	eval "fe_file=\${$1_FILE:-}"
	if [ -n "$fe_file" ]; then
		if [ -n "$fe_value" ]; then
			error "both $1 and $1_FILE are set (they are exclusive)"
		fi
		fe_value=$(cat "$fe_file")
		export "$1=$fe_value"
	fi
	unset "$1_FILE" fe_value fe_file
}

# run_as_postgres CMD ARGS: exec CMD as the postgres user, keeping the environment
# and the process (postgres must end up as PID 1 to get the engine's stop signal).
run_as_postgres() {
	# util-linux setpriv (Debian image) execs directly, like gosu.
	if command -v setpriv >/dev/null 2>&1 && setpriv --help 2>&1 | grep -q -- --reuid; then
		exec setpriv --reuid=postgres --regid=postgres --init-groups env HOME="$(postgres_home)" "$@"
	fi
	# busybox su (host PostgreSQL 15 image) execs the shell too: sh -c CMD ARG0 ARGS.
	# "--" keeps su from parsing options among ARGS (such as postgres's -c).
	# shellcheck disable=SC2016
	exec su -s /bin/sh -c 'exec "$0" "$@"' -- postgres "$@"
}

postgres_home() {
	home=$(awk -F: '$1 == "postgres" { print $6 }' /etc/passwd 2>/dev/null || :)
	printf '%s\n' "${home:-/var/lib/postgresql}"
}

# Normalise the arguments: nothing or options -> postgres [options].
if [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ]; then
	set -- postgres "$@"
fi
if [ "$1" != postgres ] && [ "$1" != postmaster ]; then
	exec "$@"
fi
shift

: "${PGDATA:=/var/lib/postgresql/data}"
export PGDATA

if [ "$(id -u)" = 0 ]; then
	mkdir -p "$PGDATA" /var/run/postgresql
	chown -R postgres:postgres "$PGDATA"
	chmod 700 "$PGDATA"
	chown postgres:postgres /var/run/postgresql
	chmod 3777 /var/run/postgresql
	run_as_postgres "$0" postgres "$@"
fi

file_env POSTGRES_USER
file_env POSTGRES_PASSWORD
file_env POSTGRES_DB
file_env POSTGRES_INITDB_ARGS
POSTGRES_USER=${POSTGRES_USER:-postgres}
POSTGRES_DB=${POSTGRES_DB:-$POSTGRES_USER}
POSTGRES_HOST_AUTH_METHOD=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}
POSTGRES_PASSWORD=${POSTGRES_PASSWORD:-}

mkdir -p "$PGDATA"
chmod 700 "$PGDATA" 2>/dev/null || :

if [ -s "$PGDATA/PG_VERSION" ]; then
	log ""
	log "PostgreSQL Database directory appears to contain a database; Skipping initialization"
	log ""
else
	if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
		error "Database is uninitialized and superuser password is not specified.
       You must specify POSTGRES_PASSWORD to a non-empty value for the
       superuser. For example, \"-e POSTGRES_PASSWORD=password\" on \"docker run\".
       (Or set POSTGRES_HOST_AUTH_METHOD=trust to allow all connections
       without a password. This is *not* recommended.)"
	fi

	pwfile=
	trap 'if [ -n "$pwfile" ]; then rm -f "$pwfile"; fi' EXIT
	if [ -n "$POSTGRES_PASSWORD" ]; then
		pwfile=$(umask 077 && mktemp)
		printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
		# Word splitting of POSTGRES_INITDB_ARGS is intended (as in the official image).
		# shellcheck disable=SC2086
		initdb --username="$POSTGRES_USER" --pwfile="$pwfile" \
			--auth-local=trust --auth-host="$POSTGRES_HOST_AUTH_METHOD" \
			${POSTGRES_INITDB_ARGS:-}
		rm -f "$pwfile"
		pwfile=
	else
		# shellcheck disable=SC2086
		initdb --username="$POSTGRES_USER" \
			--auth-local=trust --auth-host="$POSTGRES_HOST_AUTH_METHOD" \
			${POSTGRES_INITDB_ARGS:-}
	fi
	printf '\nhost all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >>"$PGDATA/pg_hba.conf"

	# Temporary server, reachable on the unix socket only.
	PGUSER=$POSTGRES_USER pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start

	psql_init() {
		psql -v ON_ERROR_STOP=1 --no-psqlrc --no-password \
			--username "$POSTGRES_USER" --port 5432 "$@"
	}
	if [ "$POSTGRES_DB" != postgres ]; then
		# :"db" makes psql quote the name as an identifier (doubling any ").
		psql_init --dbname postgres --set db="$POSTGRES_DB" <<-'EOSQL'
			CREATE DATABASE :"db" ;
		EOSQL
	fi

	for f in /docker-entrypoint-initdb.d/*; do
		[ -e "$f" ] || continue
		case $f in
		*.sh)
			log "$0: running $f"
			# shellcheck disable=SC1090
			. "$f"
			;;
		*.sql)
			log "$0: running $f"
			psql_init --dbname "$POSTGRES_DB" -f "$f"
			;;
		*) log "$0: ignoring $f" ;;
		esac
	done

	PGUSER=$POSTGRES_USER pg_ctl -D "$PGDATA" -m fast -w stop

	log ""
	log "PostgreSQL init process complete; ready for start up."
	log ""
fi

unset POSTGRES_PASSWORD
exec postgres -c listen_addresses='*' "$@"
