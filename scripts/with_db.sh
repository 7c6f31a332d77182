#!/usr/bin/env bash
# Runs a command with DATABASE_URL set: the caller's, or the embedded cluster's (started if
# needed). `with_db.sh [--db NAME] CMD...`. Stops with db.sh's own sentence if the database
# cannot be started, so an empty URL never reaches Django.
set -euo pipefail
cd "$(dirname "$0")/.."
name=wangge
if [ "${1:-}" = "--db" ]; then name=$2; shift 2; fi
if [ -z "${DATABASE_URL+x}" ]; then
  DATABASE_URL=$(scripts/db.sh start "$name") || exit 1
  export DATABASE_URL
fi
exec "$@"
