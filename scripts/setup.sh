#!/usr/bin/env bash
# Create .venv (once) and install the kit with everything it needs; re-run safely at any time.
# Usage: bash scripts/setup.sh        (PYTHON=python3.11 bash scripts/setup.sh to pick the interpreter)
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi

# Re-install only when pyproject.toml changed since the last successful install.
stamp=.venv/.vaekit-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing the kit and its dependencies into .venv (first time: a few minutes)"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[docs]"
  echo "$want" > "$stamp"
fi

# The docs site's maths renderer (KaTeX, from the npm registry; git-ignored).
bash scripts/docs_assets.sh >/dev/null
