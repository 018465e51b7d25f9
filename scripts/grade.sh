#!/usr/bin/env bash
# Set everything up, then grade exercises/ and print the score table: bash scripts/grade.sh [pytest options]
# e.g. bash scripts/grade.sh -m ex2_1      (one exercise)
#      bash scripts/grade.sh --target solutions
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
exec .venv/bin/python -m pytest grader "$@"
