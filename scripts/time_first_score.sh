#!/usr/bin/env bash
# How long a new student waits for the first score table: clone the kit into a temporary folder, run
# `bash scripts/grade.sh` there (which creates .venv, installs the kit and grades the untouched stubs), and
# print the wall time from the clone to the score table (the table is the last thing grade.sh prints, so
# that is the time grade.sh ends), with the machine's load before and after.
#
# Usage: bash scripts/time_first_score.sh [REPO]   (REPO: a path or URL to clone; default: this checkout's
#                                                   committed HEAD)
# pip's cache is used as it is: run once before to warm it (the target, under 3 minutes, is for a warm cache).
# The full output of grade.sh, time-stamped, is kept in build/time-first-score.log of this checkout.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
src="${1:-$here}"
# Not under /tmp: the grader's sandbox gives the student's code a fresh, empty /tmp, so a kit (and its .venv)
# cloned there would be invisible to it.
mkdir -p "$here/build"
tmp="$(mktemp -d "$here/build/first-score.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

echo "time-first-score: cloning $src into $tmp/kit"
echo "time-first-score: load average before (1, 5, 15 min): $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
echo "time-first-score: pip cache: $(python3 -m pip cache dir 2>/dev/null || echo unknown)"
t0=$(date +%s.%N)
git clone --quiet "$src" "$tmp/kit"

# Time-stamp every line of grade.sh's output, so that the setup and the grading can be told apart.
status=0
(cd "$tmp/kit" && bash scripts/grade.sh 2>&1) | while IFS= read -r line; do
  printf '%7.1f  %s\n' "$(echo "$(date +%s.%N) - $t0" | bc)" "$line"
done >"$tmp/grade.log" || status=$?
t1=$(date +%s.%N)

cp "$tmp/grade.log" "$here/build/time-first-score.log"
setup_line=$(grep -m1 "setup: done" "$tmp/grade.log" || true)
echo "time-first-score: setup finished at ${setup_line:-(no 'setup: done' line)}"
tail -n 25 "$tmp/grade.log"
if ! grep -q "Score\|score" "$tmp/grade.log"; then
  echo "time-first-score: no score table in the output; grade.sh's full output:" >&2
  cat "$tmp/grade.log" >&2
  exit 1
fi
printf 'time-first-score: %.0f s from clone to the first score table (%.1f min)\n' \
  "$(echo "$t1 - $t0" | bc)" "$(echo "($t1 - $t0) / 60" | bc -l)"
echo "time-first-score: load average after (1, 5, 15 min): $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
