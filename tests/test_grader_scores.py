"""``pytest grader`` gives the solutions full marks and the untouched stubs zero, all "not attempted"."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from vaekit.exercises import EXERCISES

ROOT = Path(__file__).resolve().parent.parent
ROW = re.compile(r"^(?P<id>T?\d+\.\d+)\s+.*?\s+(?P<score>\d+\.\d+) / (?P<max>[\d.]+)\s+(?P<status>.+?)\s*$")


def grade(target: str, *args: str) -> tuple[int, dict[str, dict]]:
    """Run the grader in a subprocess; return its exit code and the score table's rows by exercise ID."""
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--target", target, "-q", "-p", "no:cacheprovider", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    table = proc.stdout.split("VAE course kit: score", 1)[-1]
    rows = {m["id"]: m.groupdict() for m in map(ROW.match, table.splitlines()) if m}
    return proc.returncode, rows


@pytest.mark.parametrize("track", ["numpy_ag", "pytorch"])
def test_solutions_score_full_marks(track):
    exercises = [ex for ex in EXERCISES.values() if ex.track == track]
    if not (ROOT / "grader" / track).is_dir():
        pytest.skip(f"no grader tests for {track} yet")
    code, rows = grade("solutions", f"grader/{track}")
    assert code == 0, rows
    assert set(rows) == {ex.id for ex in exercises}
    for ex in exercises:
        assert float(rows[ex.id]["score"]) == ex.points and rows[ex.id]["status"] == "passed", rows[ex.id]


@pytest.mark.parametrize("track", ["numpy_ag", "pytorch"])
def test_untouched_stubs_score_zero_all_not_attempted(track):
    if not (ROOT / "grader" / track).is_dir():
        pytest.skip(f"no grader tests for {track} yet")
    code, rows = grade("exercises", f"grader/{track}")
    assert code != 0
    assert set(rows) == {ex.id for ex in EXERCISES.values() if ex.track == track}
    for row in rows.values():
        assert float(row["score"]) == 0.0 and row["status"] == "not attempted", row
