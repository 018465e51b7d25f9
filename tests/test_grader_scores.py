"""``pytest grader`` gives the solutions full marks and the untouched stubs zero, all "not attempted"."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from vaekit.registry import EXERCISES

ROOT = Path(__file__).resolve().parent.parent
ROW = re.compile(r"^(?P<id>T?\d+\.\d+)\s+.*?\s+(?P<score>\d+\.\d+) / (?P<max>[\d.]+)\s+(?P<status>.+?)\s*$")


def score_rows(stdout: str) -> dict[str, dict]:
    """The score table's rows by exercise ID, from the grader's output."""
    table = stdout.split("VAE course kit: score", 1)[-1]
    return {m["id"]: m.groupdict() for m in map(ROW.match, table.splitlines()) if m}


def grade(target: str, *args: str) -> tuple[int, dict[str, dict]]:
    """Run the grader in a subprocess; return its exit code and the score table's rows by exercise ID."""
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--target", target, "-q", "-p", "no:cacheprovider", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    return proc.returncode, score_rows(proc.stdout)


@pytest.mark.parametrize("track", ["numpy_ag", "pytorch"])
def test_solutions_score_full_marks(track, solutions_grading):
    """The whole grader on the solutions (one run, shared with other test files: tests/conftest.py)."""
    exercises = [ex for ex in EXERCISES.values() if ex.track == track]
    code = solutions_grading["returncode"]
    rows = {i: row for i, row in score_rows(solutions_grading["stdout"]).items() if EXERCISES[i].track == track}
    assert code == 0, solutions_grading["stdout"][-3000:]
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


def test_a_wrong_prerequisite_is_named_in_the_exercises_that_use_it(tmp_path):
    import shutil

    target = tmp_path / "submission"
    shutil.copytree(ROOT / "solutions", target)
    kl = target / "numpy_ag" / "kl.py"
    source = kl.read_text()
    assert "return 0.5 * np.sum(" in source
    kl.write_text(source.replace("return 0.5 * np.sum(", "return np.sum(", 1))  # the KL without its 1/2
    code, rows = grade(str(target), "grader/numpy_ag", "-m", "ex3_1 or ex5_1 or ex1_1")
    assert code != 0
    assert rows["3.1"]["status"].endswith("tests failed") and "uses" not in rows["3.1"]["status"]
    assert rows["5.1"]["status"].endswith("uses 3.1, which fails: fix that first"), rows["5.1"]
    assert rows["1.1"]["status"] == "passed"


def test_prerequisites_are_registered_exercises_of_the_same_track():
    from vaekit.registry import USES

    for ex_id, uses in USES.items():
        assert ex_id in EXERCISES and uses, ex_id
        for dep in uses:
            assert dep in EXERCISES and EXERCISES[dep].track == EXERCISES[ex_id].track, (ex_id, dep)
