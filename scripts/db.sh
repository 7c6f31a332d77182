#!/usr/bin/env bash
# The embedded default database: a project-local PostgreSQL 15 + PostGIS cluster under var/.
# Used only when DATABASE_URL is not set. `db.sh start [DBNAME]` prints the DATABASE_URL to use.
set -euo pipefail
cd "$(dirname "$0")/.."

PGBIN=/usr/lib/postgresql/15/bin
DATA="$PWD/var/pgdata"
RUN="$PWD/var/run"
LOG="$PWD/var/postgres.log"

# initdb and pg_ctl refuse to run as root: the cluster then belongs to the postgres user.
if [ "$(id -u)" = 0 ]; then
  as_owner() { runuser -u postgres -- "$@"; }
  owner=postgres
else
  as_owner() { "$@"; }
  owner=$(id -un)
fi

running() { as_owner "$PGBIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

# The port is chosen once, when the cluster is made, and kept in var/pgport: 54329 (or
# WANGGE_PGPORT), or the next free one if another checkout's cluster already listens there.
free_port() {
  local port=$1
  while "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$port"; [ $? -ne 2 ]; do port=$((port + 1)); done
  echo "$port"
}
if [ -f var/pgport ]; then PGPORT=$(cat var/pgport); else PGPORT=${WANGGE_PGPORT:-54329}; fi

DBNAME=${2:-wangge}

case "${1:-start}" in
  start)
    if [ ! -f "$DATA/PG_VERSION" ]; then
      mkdir -p var
      PGPORT=$(free_port "$PGPORT")
      echo "$PGPORT" > var/pgport
      install -d -o "$owner" -m 700 "$DATA"
      install -d -o "$owner" -m 755 "$RUN"
      as_owner "$PGBIN/initdb" -D "$DATA" -U wangge --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
      cat >>"$DATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PGPORT
unix_socket_directories = '$RUN'
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 512MB
work_mem = 64MB
maintenance_work_mem = 512MB
max_connections = 100
jit = off
CONF
    fi
    if ! running; then
      touch "$LOG" && chown "$owner" "$LOG"
      as_owner "$PGBIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start >/dev/null
    fi
    if ! "$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT" -U wangge -d postgres -tAc \
        "select 1 from pg_database where datname='$DBNAME'" | grep -q 1; then
      "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U wangge "$DBNAME"
    fi
    # In template1 too, so that test databases get PostGIS without a superuser step.
    for db in template1 "$DBNAME"; do
      PGOPTIONS="-c client_min_messages=warning" "$PGBIN/psql" -q -h 127.0.0.1 -p "$PGPORT" -U wangge -d "$db" \
        -c "create extension if not exists postgis" >/dev/null
    done
    echo "postgis://wangge@127.0.0.1:$PGPORT/$DBNAME"
    ;;
  stop)
    if [ -f "$DATA/PG_VERSION" ] && running; then
      as_owner "$PGBIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
      echo "stopped the local PostGIS cluster"
    fi
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
