#!/usr/bin/env bash
# `make run`: prepare the database and the static files, then serve with gunicorn and run the
# task worker beside it. Ctrl-C (or SIGTERM) stops both. With the embedded database (no
# DATABASE_URL from the caller), a watchdog restarts PostgreSQL if it stops or is killed;
# meanwhile requests answer 503 "the database is unavailable".
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-config.settings.local}

embedded=0
if [ -z "${DATABASE_URL+x}" ]; then
  embedded=1
  DATABASE_URL=$(scripts/db.sh start) || exit 1
  export DATABASE_URL
fi

step() { echo "run: $1"; shift; "$@" || { echo "run: failed: $*" >&2; exit 1; }; }
step "migrating the database" $PY manage.py migrate --no-input -v 0
step "seeding the demo territory (only into an empty database)" $PY manage.py seed_demo --if-empty
step "creating the demo logins" $PY manage.py create_demo_users
step "collecting static files" $PY manage.py collectstatic --no-input -v 0

pids=()
stop_all() {
  trap - INT TERM EXIT
  echo "run: stopping the web server and the task worker"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "run: stopped (the database keeps running; \`make stop\` stops it)"
}
trap stop_all INT TERM EXIT

# The worker stops itself when it loses the database (a restart, a crash): start it again.
(
  child=
  trap '[ -n "$child" ] && kill -TERM "$child" 2>/dev/null; wait; exit 0' TERM INT
  while true; do
    $PY manage.py procrastinate worker --concurrency 2 &
    child=$!
    wait "$child" || true
    echo "run: the task worker stopped; starting it again in 5 s" >&2
    sleep 5 & wait $!
  done
) &
pids+=($!)
.venv/bin/gunicorn -c config/gunicorn.py &
pids+=($!)

if [ "$embedded" = 1 ]; then
  (
    trap 'exit 0' TERM
    while sleep 5; do
      if ! scripts/db.sh status >/dev/null 2>&1; then
        echo "run: PostgreSQL is not running; restarting it" >&2
        scripts/db.sh start >/dev/null && echo "run: PostgreSQL is back" >&2
      fi
    done
  ) &
  pids+=($!)
fi

echo "run: serving http://${WANGGE_BIND:-127.0.0.1:8000}/ (Ctrl-C stops)"
# The web server ending (a crash, or Ctrl-C) stops the others.
wait -n "${pids[@]}" || true
