#!/usr/bin/env bash
# Set everything up, then grade exercises/ and print the score table: bash scripts/grade.sh [IDS] [pytest options]
# e.g. bash scripts/grade.sh 2.1            (one exercise: its ID as in the score table)
#      bash scripts/grade.sh 2.1 3.1 T2.1   (several)
#      bash scripts/grade.sh -v             (pytest's own per-test output too)
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
args=() markers=()
for arg in "$@"; do
  if [[ "$arg" =~ ^(T?)([0-9]+)\.([0-9]+)$ ]]; then
    prefix=ex; [[ -n "${BASH_REMATCH[1]}" ]] && prefix=ext
    markers+=("${prefix}${BASH_REMATCH[2]}_${BASH_REMATCH[3]}")
  else
    args+=("$arg")
  fi
done
if [ ${#markers[@]} -gt 0 ]; then
  expression="${markers[0]}"
  for m in "${markers[@]:1}"; do expression="$expression or $m"; done
  args+=(-m "$expression")
fi
exec .venv/bin/python -m pytest grader "${args[@]}"
