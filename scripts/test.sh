#!/usr/bin/env bash
# Set everything up, then run the kit's own tests: bash scripts/test.sh [pytest options]
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
exec .venv/bin/python -m pytest "$@"
