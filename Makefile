# The two README commands: `make run` and `make test`. Both bootstrap a fresh Debian 12 machine.
SHELL := /bin/bash
PY := .venv/bin/python
# DATABASE_URL set by the caller points at an existing PostGIS; otherwise the embedded cluster.
DB_URL = $${DATABASE_URL:-$$(scripts/db.sh start)}

.PHONY: run test bench stop bootstrap lint format

bootstrap:
	@scripts/bootstrap.sh

run: bootstrap
	@export DATABASE_URL=$(DB_URL) DJANGO_SETTINGS_MODULE=config.settings.local; \
	$(PY) manage.py migrate --no-input -v 0 && \
	$(PY) manage.py seed_demo --if-empty && \
	$(PY) manage.py create_demo_users && \
	$(PY) manage.py runserver 127.0.0.1:8000

test: bootstrap
	@export DATABASE_URL=$(DB_URL); \
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && \
	$(PY) manage.py makemigrations --check --dry-run -v 0 --settings=config.settings.test && \
	$(PY) -m pytest $(PYTEST_ARGS)

# Benchmarks run on their own database (city scale, seeded on first use); never in CI.
BENCH_DB_URL = $${WANGGE_BENCH_DATABASE_URL:-$$(scripts/db.sh start wangge_bench)}

bench: bootstrap
	@$(PY) -c "import spopt, gerrychain, elkai, ortools, locust" 2>/dev/null || .venv/bin/pip install -q -e '.[dev,bench]'
	@export DATABASE_URL=$(BENCH_DB_URL) DJANGO_SETTINGS_MODULE=config.settings.local; \
	$(PY) bench/assign_households.py && $(PY) bench/microgrids.py && $(PY) bench/routes.py \
		&& $(PY) bench/intake.py

stop:
	@scripts/db.sh stop

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

format:
	.venv/bin/ruff check --fix . && .venv/bin/ruff format .
