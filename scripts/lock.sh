#!/usr/bin/env bash
# Regenerates the lock files from pyproject.toml: every package pinned with its hashes, for
# Python 3.11 on Linux, so that an intranet machine installs exactly what CI tested
# (scripts/bootstrap.sh installs requirements/dev.txt with --require-hashes).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/uv ] || .venv/bin/pip install -q uv
compile() {
  .venv/bin/uv pip compile pyproject.toml --quiet --generate-hashes --python-version 3.11 \
    --python-platform x86_64-manylinux_2_28 --no-header --annotation-style line "$@"
}
compile -o requirements/base.txt
compile --extra dev -o requirements/dev.txt
compile --extra dev --extra bench -o requirements/bench.txt
echo "lock: wrote requirements/base.txt, dev.txt and bench.txt"
