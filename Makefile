# The two README commands: `make run` and `make test`. Both bootstrap a fresh Debian 12 machine.
# Every recipe stops at its first failure (bash -e), with the failing step's own message.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
PY := .venv/bin/python

.PHONY: run dev test bench stop bootstrap lint format lock backup restore

bootstrap:
	@scripts/bootstrap.sh

# gunicorn + whitenoise + the task worker, on the embedded database (or DATABASE_URL).
run: bootstrap
	@scripts/serve.sh

# Django's development server with debugging on, and the task worker beside it.
dev: bootstrap
	@export DJANGO_SETTINGS_MODULE=config.settings.local WANGGE_DEBUG=1; \
	scripts/with_db.sh bash -c '$(PY) manage.py migrate --no-input -v 0 && \
		$(PY) manage.py seed_demo --if-empty && $(PY) manage.py create_demo_users && \
		{ $(PY) manage.py procrastinate worker & trap "kill $$!" EXIT; \
		  $(PY) manage.py runserver 127.0.0.1:8000; }'

test: bootstrap
	@.venv/bin/ruff check . && .venv/bin/ruff format --check .
	@scripts/with_db.sh bash -c '$(PY) manage.py makemigrations --check --dry-run -v 0 \
		--settings=config.settings.test && $(PY) -m pytest $(PYTEST_ARGS)'

# Benchmarks run on their own database (city scale, seeded on first use); never in CI. The
# bench database alone trades durability for speed (synchronous_commit off, said in its output).
bench: bootstrap
	@$(PY) -c "import spopt, gerrychain, elkai, ortools, locust" 2>/dev/null \
		|| .venv/bin/pip install -q --require-hashes -r requirements/bench.txt
	@export DJANGO_SETTINGS_MODULE=config.settings.local; \
	scripts/with_db.sh --db wangge_bench bash -c '$(PY) bench/bench_database.py && $(PY) bench/assign_households.py && \
		$(PY) bench/microgrids.py && $(PY) bench/routes.py && $(PY) bench/intake.py && $(PY) bench/tiles.py'
	@export DJANGO_SETTINGS_MODULE=config.settings.local; \
	scripts/with_db.sh --db wangge_cbench bash -c '$(PY) bench/bench_database.py && $(PY) bench/cases.py && $(PY) bench/command.py'

backup: bootstrap
	@scripts/with_db.sh $(PY) manage.py backup $(BACKUP_ARGS)

restore: bootstrap
	@test -n "$(ARCHIVE)" || { echo "usage: make restore ARCHIVE=var/backups/wangge-....tar [RESTORE_ARGS=\"--database-url ... --media-root ...\"]" >&2; exit 2; }
	@scripts/with_db.sh $(PY) manage.py restore "$(ARCHIVE)" $(RESTORE_ARGS)

stop:
	@scripts/db.sh stop

# Regenerates the lock files (requirements/*.txt, with hashes) from pyproject.toml.
lock:
	@scripts/lock.sh

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

format:
	.venv/bin/ruff check --fix . && .venv/bin/ruff format .
