#!/usr/bin/env bash
# Set everything up, then run the tests of this copy of the kit: bash scripts/test.sh [pytest options]
# In the kit itself, which has a folder "tests", it runs the kit's own tests. The student handout has no such
# folder: there it grades exercises/ and prints the score table, exactly as scripts/grade.sh does.
set -uo pipefail
cd "$(dirname "$0")/.."
if [ ! -d tests ]; then
  echo "test: this copy has no folder of kit tests (it is the student handout): grading exercises/ instead"
  exec bash scripts/grade.sh "$@"
fi
bash scripts/setup.sh --test || exit 1
# The tests start hundreds of Python processes: let them share compiled bytecode (__pycache__, git-ignored) even
# where the environment turns that off. One process per core (pytest-xdist); each test file runs whole in one of
# them, so that a module's fixtures are made once. Pass -n 0 to run everything in this process.
unset PYTHONDONTWRITEBYTECODE
exec .venv/bin/python -m pytest -n auto --dist loadfile "$@"
