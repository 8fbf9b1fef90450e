#!/bin/sh
# Entrypoint of localhost/packit-db-test/sclorg-postgresql:15, built by
# scripts/build-test-images.sh. Installed in the image as /usr/bin/run-postgresql
# (the image's CMD); the ENTRYPOINT is container-entrypoint, which execs its
# arguments, as in the Software Collections images (quay.io/sclorg/postgresql-*).
#
# It mirrors their contract:
#   POSTGRESQL_USER, POSTGRESQL_PASSWORD, POSTGRESQL_DATABASE  required together:
#       a NON-superuser that owns the database is created on first start;
#   POSTGRESQL_ADMIN_PASSWORD  optional password of the "postgres" superuser
#       (on its own, without the three above, it is accepted too, like sclorg);
#   POSTGRESQL_MAX_CONNECTIONS (100), POSTGRESQL_MAX_PREPARED_TRANSACTIONS (0),
#   POSTGRESQL_SHARED_BUFFERS (32MB), POSTGRESQL_EFFECTIVE_CACHE_SIZE (128MB).
# The image runs as USER 26 (postgres); HOME=/var/lib/pgsql; the volume is
# mounted at /var/lib/pgsql/data and the cluster lives in
# /var/lib/pgsql/data/userdata. Like sclorg: passwords are (re)set on every
# start through a temporary socket-only server; local connections are trusted,
# host connections use md5 (which accepts the scram-sha-256 stored passwords);
# the server logs to files under $PGDATA/log (logging_collector = on, the
# RHEL packaging default), so "docker logs" does not show "ready to accept
# connections" for the final server. Arguments are passed on to postgres.
#
# POSIX sh (busybox). The passwords are never printed.
set -eu

usage() {
	if [ "$#" -gt 0 ]; then
		printf 'error: %s\n' "$*" >&2
	fi
	cat >&2 <<'EOF'
For general container run, you must either specify the following environment
variables:
  POSTGRESQL_USER  POSTGRESQL_PASSWORD  POSTGRESQL_DATABASE
Or the following environment variable:
  POSTGRESQL_ADMIN_PASSWORD
Or both.

Optional settings:
  POSTGRESQL_MAX_CONNECTIONS (default: 100)
  POSTGRESQL_MAX_PREPARED_TRANSACTIONS (default: 0)
  POSTGRESQL_SHARED_BUFFERS (default: 32MB)
EOF
	exit 1
}

# Which of the three "simple db" variables are set (non-empty)?
missing=
present=
for var in POSTGRESQL_USER POSTGRESQL_PASSWORD POSTGRESQL_DATABASE; do
	eval "value=\${$var:-}"
	if [ -n "$value" ]; then
		present="$present $var"
	else
		missing="$missing $var"
	fi
done
unset value
simple_db=no
admin_pass=no
if [ -n "$present" ]; then
	if [ -n "$missing" ]; then
		usage "missing environment variable(s):$missing (POSTGRESQL_USER, POSTGRESQL_PASSWORD and POSTGRESQL_DATABASE must be set together)"
	fi
	[ "${#POSTGRESQL_USER}" -le 63 ] || usage "PostgreSQL username too long (maximum 63 characters)"
	[ "${#POSTGRESQL_DATABASE}" -le 63 ] || usage "Database name too long (maximum 63 characters)"
	simple_db=yes
fi
if [ -n "${POSTGRESQL_ADMIN_PASSWORD:-}" ]; then
	admin_pass=yes
fi
if [ "$simple_db" = no ] && [ "$admin_pass" = no ]; then
	usage "missing environment variable(s):$missing"
fi

export HOME="${HOME:-/var/lib/pgsql}"
[ "$HOME" != / ] || HOME=/var/lib/pgsql
export PGDATA="$HOME/data/userdata"
export PGUSER=postgres
config_file="$HOME/openshift-custom-postgresql.conf"

mkdir -p "$PGDATA"
chmod 700 "$PGDATA"

# Regenerated on every start (like sclorg's openshift-custom-postgresql.conf).
cat >"$config_file" <<EOF
# Custom configuration, rewritten on every container start.
listen_addresses = '*'
max_connections = ${POSTGRESQL_MAX_CONNECTIONS:-100}
max_prepared_transactions = ${POSTGRESQL_MAX_PREPARED_TRANSACTIONS:-0}
shared_buffers = ${POSTGRESQL_SHARED_BUFFERS:-32MB}
effective_cache_size = ${POSTGRESQL_EFFECTIVE_CACHE_SIZE:-128MB}
EOF

initialized=no
if [ ! -f "$PGDATA/postgresql.conf" ]; then
	initdb -E UTF8
	cat >>"$PGDATA/postgresql.conf" <<EOF

# Logging defaults of the RHEL/Fedora PostgreSQL packages used by sclorg images.
logging_collector = on
log_directory = 'log'
log_filename = 'postgresql-%a.log'
log_truncate_on_rotation = on
log_rotation_age = 1d
log_rotation_size = 0

# Custom OpenShift configuration:
include '$config_file'
EOF
	cat >>"$PGDATA/pg_hba.conf" <<'EOF'

#
# Custom OpenShift configuration starting at this point.
#

# Allow connections from all hosts.
host all all all md5

# Allow replication connections from all hosts.
host replication all all md5
EOF
	initialized=yes
fi

pg_ctl -w start -o "-h ''"

psql_admin() {
	psql -v ON_ERROR_STOP=1 --no-psqlrc --no-password --quiet --dbname postgres "$@"
}

if [ "$initialized" = yes ] && [ "$simple_db" = yes ]; then
	createuser "$POSTGRESQL_USER"
	createdb --owner="$POSTGRESQL_USER" "$POSTGRESQL_DATABASE"
fi

# set_passwords (sclorg runs it on every start).
if [ "$simple_db" = yes ]; then
	psql_admin --set user="$POSTGRESQL_USER" --set pw="$POSTGRESQL_PASSWORD" <<'EOSQL'
ALTER USER :"user" WITH ENCRYPTED PASSWORD :'pw';
EOSQL
fi
if [ "$admin_pass" = yes ]; then
	psql_admin --set pw="$POSTGRESQL_ADMIN_PASSWORD" <<'EOSQL'
ALTER USER "postgres" WITH ENCRYPTED PASSWORD :'pw';
EOSQL
fi

pg_ctl stop

unset POSTGRESQL_DATABASE POSTGRESQL_USER POSTGRESQL_PASSWORD POSTGRESQL_ADMIN_PASSWORD
echo "Starting server..."
exec postgres "$@"
