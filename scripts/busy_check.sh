#!/usr/bin/env bash
# Run the kit's tests while two busy loops keep both cores occupied: the suite must pass on a busy machine.
# Usage: bash scripts/busy_check.sh [pytest options]     (the loops stop after BUSY_MINUTES, default 30, at most)
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
minutes="${BUSY_MINUTES:-30}"
pids=()
for _ in 1 2; do
  timeout "$((minutes * 60))" python3 -c "while True: pass" &
  pids+=($!)
done
trap 'kill "${pids[@]}" 2>/dev/null' EXIT
echo "busy_check: two busy loops running (pids ${pids[*]}, at most $minutes min); load: $(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s)
bash scripts/test.sh "$@"  # the suite exactly as README's test command runs it
status=$?
echo "busy_check: tests ended with status $status after $(( $(date +%s) - start )) s"
exit $status
