#!/usr/bin/env bash
# The embedded default database: a project-local PostgreSQL 15 + PostGIS cluster. It holds the
# users' real data, so it keeps PostgreSQL's durability defaults (fsync, synchronous_commit,
# full_page_writes) and is closed to other OS users:
#   - the superuser connects only through a Unix socket in a private (0700) directory, by peer
#     authentication: only the cluster's OS owner gets in that way;
#   - the application role `wangge` is not a superuser (it may create databases, for the test
#     suite) and logs in over loopback TCP with scram-sha-256 and a generated password kept in
#     var/db-password, readable only by the user who made the checkout.
#
#   db.sh start [DBNAME]   start (creating it if needed) and print the DATABASE_URL to use
#   db.sh stop | status | url [DBNAME]
#   db.sh destroy          stop and delete the cluster (its data is gone)
#
# As root the cluster belongs to the `postgres` OS user (initdb and pg_ctl refuse root). That
# user cannot enter a checkout inside a 0700 folder such as root's home, so the cluster's data
# then lives in /var/lib/wangge/clusters/<checkout>-<hash>/ and var/pgdata is a symlink to it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd -P)

die() { echo "db.sh: $*" >&2; exit 1; }

PGBIN=/usr/lib/postgresql/15/bin
[ -x "$PGBIN/initdb" ] || die "PostgreSQL 15 is not installed ($PGBIN/initdb is missing): run scripts/bootstrap.sh (make run does) or apt-get install postgresql-15 postgresql-15-postgis-3."

if [ "$(id -u)" = 0 ]; then
  owner=postgres
  id postgres >/dev/null 2>&1 || die "the postgres OS user is missing: apt-get install postgresql-15."
  as_owner() { (cd / && runuser -u postgres -- "$@"); }
  home="${WANGGE_CLUSTER_HOME:-/var/lib/wangge/clusters}/$(basename "$ROOT")-$(printf %s "$ROOT" | sha1sum | cut -c1-10)"
else
  owner=$(id -un)
  as_owner() { "$@"; }
  home="$ROOT/var/cluster"
fi
DATA="$home/pgdata"
RUN="$home/run"
LOG="$home/postgres.log"
PASSFILE="$ROOT/var/db-password"
DBNAME=${2:-wangge}
[[ "$DBNAME" =~ ^[a-z_][a-z0-9_]*$ ]] || die "database name '$DBNAME' must be lower-case letters, digits and _."

# A cluster made by an older db.sh lives in var/pgdata itself: keep using it where it is.
if [ -d var/pgdata ] && [ ! -L var/pgdata ] && [ -f var/pgdata/PG_VERSION ]; then
  DATA="$ROOT/var/pgdata"; RUN="$ROOT/var/run"; LOG="$ROOT/var/postgres.log"
fi

running() { [ -f "$DATA/PG_VERSION" ] && as_owner "$PGBIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }
superuser_sql() { # the cluster owner over the private socket; peer authentication
  as_owner "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$RUN" -p "$PGPORT" -U "$owner" "$@"
}
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

url() {
  local password; password=$(cat "$PASSFILE")
  echo "postgis://wangge:$password@127.0.0.1:$PGPORT/$1"
}

write_config() {
  # Rewritten at every start so that a cluster made by an older db.sh is brought up to date.
  # Durability stays at PostgreSQL's defaults: an incident answered 201 survives a crash.
  as_owner tee "$DATA/wangge.conf" >/dev/null <<CONF
# Written by scripts/db.sh at every start: edits here are lost.
listen_addresses = '127.0.0.1'
port = $PGPORT
unix_socket_directories = '$RUN'
unix_socket_permissions = 0700
password_encryption = 'scram-sha-256'
fsync = on
synchronous_commit = on
full_page_writes = on
shared_buffers = 512MB
work_mem = 64MB
maintenance_work_mem = 512MB
max_connections = 100
jit = off
CONF
  grep -q "^include_if_exists = 'wangge.conf'" "$DATA/postgresql.conf" \
    || echo "include_if_exists = 'wangge.conf'" | as_owner tee -a "$DATA/postgresql.conf" >/dev/null
  as_owner tee "$DATA/pg_hba.conf" >/dev/null <<HBA
# Written by scripts/db.sh at every start.
local all $owner            peer
host  all all  127.0.0.1/32 scram-sha-256
host  all all  ::1/128      scram-sha-256
HBA
}

start_server() {
  # The port can be taken between the check and the start: on "address in use", take the next.
  local tries=0
  until as_owner "$PGBIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start >/dev/null 2>&1; do
    if tail -n 20 "$LOG" 2>/dev/null | grep -q "Address already in use" && [ $tries -lt 20 ]; then
      tries=$((tries + 1)); PGPORT=$((PGPORT + 1))
      while ! port_free "$PGPORT"; do PGPORT=$((PGPORT + 1)); done
      echo "$PGPORT" > var/pgport
      write_config
      continue
    fi
    die "PostgreSQL did not start; the end of its log ($LOG) says:
$(tail -n 5 "$LOG" 2>/dev/null)
Fix that and run the command again (scripts/db.sh status shows the state)."
  done
}

cmd=${1:-start}
mkdir -p var
if [ -f var/pgport ]; then PGPORT=$(cat var/pgport); else PGPORT=${WANGGE_PGPORT:-54329}; fi

case "$cmd" in
  start)
    if [ ! -f "$DATA/PG_VERSION" ]; then
      while ! port_free "$PGPORT"; do PGPORT=$((PGPORT + 1)); done
      echo "$PGPORT" > var/pgport
      install -d -m 755 "$(dirname "$home")" 2>/dev/null || true
      install -d -o "$owner" -m 700 "$home" "$DATA" "$RUN" \
        || die "cannot create $home for the cluster's owner $owner."
      as_owner "$PGBIN/initdb" -D "$DATA" -U "$owner" --auth-local=peer --auth-host=scram-sha-256 \
        -E UTF8 --locale=C.UTF-8 >"$home/initdb.log" 2>&1 \
        || die "initdb failed ($(tail -n 1 "$home/initdb.log")); see $home/initdb.log."
      if [ "$DATA" != "$ROOT/var/pgdata" ]; then ln -sfn "$DATA" var/pgdata; fi
    fi
    if [ ! -s "$PASSFILE" ]; then
      (umask 077; head -c 32 /dev/urandom | sha256sum | cut -c1-40 > "$PASSFILE")
    fi
    chmod 600 "$PASSFILE"
    install -d -o "$owner" -m 700 "$RUN"
    as_owner touch "$LOG"
    if grep -q "^[^#]*trust" "$DATA/pg_hba.conf" 2>/dev/null; then
      # Made by an older db.sh: `wangge` is the superuser and every local user is trusted. Hand
      # superuser over to the cluster's owner (once, over the old socket), then close it.
      running || as_owner "$PGBIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start >/dev/null \
        || die "the existing cluster in $DATA did not start; see $LOG."
      old_socket=$(sed -n "s/^unix_socket_directories = '\(.*\)'/\1/p" "$DATA/postgresql.conf" | tail -n 1)
      as_owner "$PGBIN/psql" -X -q -h "${old_socket:-$RUN}" -p "$PGPORT" -U wangge -d postgres >/dev/null <<SQL \
        || die "could not hand the old cluster's superuser over to $owner."
select format('create role %I superuser login', '$owner')
 where not exists (select from pg_roles where rolname = '$owner')
\\gexec
SQL
      write_config
      as_owner "$PGBIN/pg_ctl" -D "$DATA" -l "$LOG" -m fast -w -t 60 restart >/dev/null \
        || die "the cluster did not restart with its new settings; see $LOG."
    elif running; then
      write_config
      as_owner "$PGBIN/pg_ctl" -D "$DATA" reload >/dev/null
    else
      write_config
      start_server
    fi
    password=$(cat "$PASSFILE")
    superuser_sql -d postgres >/dev/null <<SQL || die "could not set up the application role."
select format('create role wangge login') where not exists (select from pg_roles where rolname = 'wangge')
\gexec
alter role wangge nosuperuser createdb login password '$password';
SQL
    if ! superuser_sql -d postgres -tAc "select 1 from pg_database where datname='$DBNAME'" | grep -q 1; then
      superuser_sql -d postgres -c "create database $DBNAME owner wangge" >/dev/null \
        || die "could not create the database $DBNAME."
    fi
    # PostGIS in template1 too, so that the test suite's databases (made by `wangge`, which is
    # not a superuser) get it when they are created.
    for db in template1 "$DBNAME"; do
      PGOPTIONS="-c client_min_messages=warning" superuser_sql -d "$db" \
        -c "create extension if not exists postgis" >/dev/null \
        || die "could not create the PostGIS extension in $db: is postgresql-15-postgis-3 installed?"
    done
    url "$DBNAME"
    ;;
  url)
    [ -s "$PASSFILE" ] || die "no embedded cluster yet: run scripts/db.sh start."
    url "$DBNAME"
    ;;
  status)
    if running; then echo "running on 127.0.0.1:$PGPORT, data in $DATA"; else echo "not running"; exit 3; fi
    ;;
  stop)
    if running; then
      as_owner "$PGBIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
      echo "stopped the local PostGIS cluster"
    fi
    ;;
  destroy)
    if running; then as_owner "$PGBIN/pg_ctl" -D "$DATA" -m immediate -w stop >/dev/null; fi
    rm -rf "$home"
    [ -L var/pgdata ] && rm -f var/pgdata
    rm -f var/pgport "$PASSFILE"
    echo "deleted the local PostGIS cluster"
    ;;
  *) echo "usage: $0 start|stop|status|url|destroy [DBNAME]" >&2; exit 2 ;;
esac
