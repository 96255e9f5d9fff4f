#!/bin/sh
# Start a throwaway PostgreSQL cluster for tests (Debian bookworm, `postgresql` package).
#
#   scripts/start-postgres.sh [DIR] [PORT]
#
# Run as root. Creates DIR (default: a new temp directory) owned by the `postgres` user,
# runs initdb there, starts the server on 127.0.0.1:PORT (default 54329) with its socket in
# DIR, creates the role `tohyo` (password `tohyo`, CREATEDB) and the database `tohyo_test`.
# TCP logins need a password (scram-sha-256); the superuser is reachable only through the
# socket in DIR. A test cluster: --no-sync, never for real data.
# The last line printed on stdout is
#
#   export TOHYO_TEST_PG_DSN=postgresql://tohyo:tohyo@127.0.0.1:PORT/tohyo_test
#
# so `eval "$(scripts/start-postgres.sh)"` sets it. Stop the cluster with
#   su postgres -s /bin/sh -c "pg_ctl -D DIR/data stop -m fast"
# (the script also prints this as a comment line).
set -eu

DIR=${1:-}
PORT=${2:-54329}
PG_BIN=${PG_BIN:-}
if [ -z "$PG_BIN" ]; then
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
fi
if [ ! -x "$PG_BIN/initdb" ]; then
  echo "start-postgres: no initdb found (install the postgresql package or set PG_BIN)" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "start-postgres: run as root (the cluster is owned by the postgres user)" >&2
  exit 1
fi
if [ -z "$DIR" ]; then
  DIR=$(mktemp -d /tmp/tohyo-pg.XXXXXX)
fi
mkdir -p "$DIR"
chown postgres:postgres "$DIR"
chmod 700 "$DIR"

as_pg() { su postgres -s /bin/sh -c "$1"; }

if [ ! -f "$DIR/data/PG_VERSION" ]; then
  # superuser only through the socket in DIR; TCP logins need a password
  as_pg "'$PG_BIN/initdb' -D '$DIR/data' -U postgres --auth-local=trust \
    --auth-host=scram-sha-256 --no-sync -E UTF8 --locale=C" >&2
fi
if ! as_pg "'$PG_BIN/pg_ctl' -D '$DIR/data' status" >/dev/null 2>&1; then
  as_pg "'$PG_BIN/pg_ctl' -D '$DIR/data' -l '$DIR/server.log' -w -t 60 \
    -o \"-h 127.0.0.1 -p $PORT -k '$DIR' -c max_connections=200\" start" >&2
fi

psql_pg() { as_pg "'$PG_BIN/psql' -h '$DIR' -p $PORT -U postgres -v ON_ERROR_STOP=1 -qAt -c \"$1\""; }
if [ -z "$(psql_pg "SELECT 1 FROM pg_roles WHERE rolname = 'tohyo'")" ]; then
  psql_pg "CREATE ROLE tohyo LOGIN CREATEDB PASSWORD 'tohyo'" >&2
fi
if [ -z "$(psql_pg "SELECT 1 FROM pg_database WHERE datname = 'tohyo_test'")" ]; then
  psql_pg "CREATE DATABASE tohyo_test OWNER tohyo" >&2
fi

echo "# stop: su postgres -s /bin/sh -c \"'$PG_BIN/pg_ctl' -D '$DIR/data' stop -m fast\""
echo "export TOHYO_TEST_PG_DSN=postgresql://tohyo:tohyo@127.0.0.1:$PORT/tohyo_test"
