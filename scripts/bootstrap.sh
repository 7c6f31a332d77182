#!/usr/bin/env bash
# Brings a fresh Debian 12 machine (root, or a user with sudo) to a working checkout:
# system packages, .venv, npm-vendored assets, compiled translations. Idempotent and quick
# the second time: every step checks before it acts.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(postgresql-15 postgresql-15-postgis-3 gdal-bin libgdal-dev libgeos-dev libproj-dev
              gettext chromium fonts-wqy-microhei nodejs npm)

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# node/npm may come from elsewhere (nodesource, nvm): only ask apt when the commands are absent.
if command -v npm >/dev/null 2>&1; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
read -r -a missing <<<"${missing[*]:-}"
if [ "${#missing[@]}" -gt 0 ]; then
  echo "bootstrap: installing system packages: ${missing[*]}"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)
if [ ! -f "$stamp" ]; then
  echo "bootstrap: installing the project into .venv"
  .venv/bin/pip install -q -U pip
  .venv/bin/pip install -q -e '.[dev]'
  rm -f .venv/.installed-*
  touch "$stamp"
fi

npm_stamp=node_modules/.installed-$(sha1sum package-lock.json | cut -c1-12)
if [ ! -f "$npm_stamp" ]; then
  echo "bootstrap: installing front-end assets from npm"
  npm ci --no-audit --no-fund --loglevel=error
  rm -f node_modules/.installed-*
  touch "$npm_stamp"
fi
# Vendored copies live in static/ so that no page ever reaches outside the server.
.venv/bin/python scripts/vendor_assets.py

if [ -n "$(find . -path ./.venv -prune -o -path ./node_modules -prune -o -name '*.po' -newer locale/.compiled -print 2>/dev/null)" ] \
   || [ ! -f locale/.compiled ]; then
  .venv/bin/python manage.py compilemessages -v 0 --ignore .venv --ignore node_modules
  touch locale/.compiled
fi
