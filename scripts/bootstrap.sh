#!/usr/bin/env bash
# Brings a fresh Debian 12 machine (root, or a user with sudo) to a working checkout:
# system packages, .venv, npm-vendored assets, compiled translations. Idempotent and quick
# the second time: every step checks before it acts.
set -euo pipefail
cd "$(dirname "$0")/.."
die() { echo "bootstrap: $*" >&2; exit 1; }
trap 'echo "bootstrap: stopped: the step above failed (line $LINENO); fix it and run the command again." >&2' ERR

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
  [ "$(id -u)" = 0 ] || command -v sudo >/dev/null || die "missing system packages (${missing[*]}) and no sudo: install them as root."
  as_root apt-get update -q || die "apt-get update failed: check the network or the Debian mirror."
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" \
    || die "apt-get could not install ${missing[*]}."
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv"
  "$PYTHON" -m venv .venv || die "$PYTHON -m venv failed: install python3-venv (Python 3.11)."
fi
# Exactly the locked versions, each checked against its hash (requirements/*.txt are made by
# `make lock` from pyproject.toml). The checkout itself goes on the path by a .pth file: the
# project is run from here, never built, so no unpinned build tool is fetched.
stamp=.venv/.installed-$(cat requirements/dev.txt | sha1sum | cut -c1-12)
if [ ! -f "$stamp" ]; then
  echo "bootstrap: installing the locked Python packages into .venv"
  .venv/bin/pip install -q --disable-pip-version-check --require-hashes --no-deps -r requirements/dev.txt \
    || die "pip could not install requirements/dev.txt (see above): check that PyPI (or your mirror, PIP_INDEX_URL) is reachable."
  site=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  pwd -P > "$site/wangge-checkout.pth"
  rm -f .venv/.installed-*
  touch "$stamp"
fi

npm_stamp=node_modules/.installed-$(sha1sum package-lock.json | cut -c1-12)
if [ ! -f "$npm_stamp" ]; then
  echo "bootstrap: installing front-end assets from npm"
  npm ci --no-audit --no-fund --loglevel=error || die "npm ci failed: check that the npm registry is reachable."
  rm -f node_modules/.installed-*
  touch "$npm_stamp"
fi
# Vendored copies live in static/ so that no page ever reaches outside the server.
.venv/bin/python scripts/vendor_assets.py

if [ -n "$(find . -path ./.venv -prune -o -path ./node_modules -prune -o -name '*.po' -newer locale/.compiled -print 2>/dev/null)" ] \
   || [ ! -f locale/.compiled ]; then
  # msgfmt itself (what compilemessages runs): no settings, so no database, are needed yet.
  find . -path ./.venv -prune -o -path ./node_modules -prune -o -name '*.po' -print | while read -r po; do
    msgfmt --check-format -o "${po%.po}.mo" "$po" || die "msgfmt refused $po (see above)."
  done
  touch locale/.compiled
fi
