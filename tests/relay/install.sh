#!/usr/bin/env bash
# Install the pinned ActivityRelay (PyPI `activityrelay`, a LitePub relay that also serves
# Mastodon) into its own venv, .venv-relay/ at the repository root, so that its dependencies
# (aiohttp, pycryptodome, redis, click 8.1.2, ...) never leak into the project's venv.
# Every package is pinned in tests/relay/requirements.txt. Safe to run again.
# Used by .ci/run; tests/test_relay_harness.py skips without it (fails if FEDIVERSE_A2_RELAY=1).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${FEDIVERSE_A2_RELAY_VENV:-$root/.venv-relay}"
python="${PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
  echo "== creating $venv"
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check --require-virtualenv -r "$here/requirements.txt"
"$venv/bin/python" -m pip check --disable-pip-version-check

want=0.3.5
got="$("$venv/bin/python" -c 'import relay; print(relay.__version__)')"
if [ "$got" != "$want" ]; then
  echo "$venv: activityrelay $got installed, $want pinned" >&2
  exit 1
fi
echo "activityrelay $got in $venv ($("$venv/bin/python" --version))"
