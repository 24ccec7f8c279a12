#!/usr/bin/env bash
# Creates .venv and installs thidua with its dev tools; reinstalls only when pyproject.toml changes.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "thidua needs Python 3.11 or newer; set PYTHON=/path/to/python3.11" >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
stamp=.venv/.thidua-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
# a .venv copied or moved from elsewhere keeps scripts whose first line names the old path
if [ "$(head -1 .venv/bin/thidua 2>/dev/null)" != "#!$PWD/.venv/bin/python" ] && [ "$(head -1 .venv/bin/thidua 2>/dev/null)" != "#!$PWD/.venv/bin/python3" ]; then
  rm -f "$stamp"
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "Installing thidua and its dependencies into .venv (first run only)…" >&2
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e ".[dev]"
  echo "$want" > "$stamp"
fi
