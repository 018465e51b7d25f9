"""Reports of a grading: Gradescope's results.json, the plain JSON and the CSV; and ``vaekit grade``'s exit codes.

The report functions are checked on a scoreboard made by hand (partial credit, a hidden test, every
verdict); then ``pytest grader --results-*`` and ``vaekit grade`` are run on a copy of the solutions with
one bug, so that the options are seen to reach the files.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.scoring import MESSAGE_LIMIT, Scoreboard, cap
from vaekit.cli import main
from vaekit.registry import EXERCISES
from grader.reports import csv_results, gradescope_results, plain_results, write_reports

ROOT = Path(__file__).resolve().parents[1]
KL_BODY = "    return 0.5 * np.sum(mu**2 + np.exp(log_var) - log_var - 1.0, axis=-1)"


@pytest.fixture
def board() -> Scoreboard:
    b = Scoreboard(Path("/somewhere/exercises"))
    kl, gauss = EXERCISES["3.1"], EXERCISES["1.2"]
    for i, verdict in enumerate(("passed", "failed", "timeout")):
        b.add_test(f"grader/numpy_ag/test_kl.py::test_{i}", kl)
        b.record(f"grader/numpy_ag/test_kl.py::test_{i}", verdict, "" if verdict == "passed" else f"KL {verdict}")
    b.add_test("grader/hidden/numpy_ag/test_fresh.py::test_kl", kl, hidden=True)
    b.record("grader/hidden/numpy_ag/test_fresh.py::test_kl", "passed", "")
    b.add_test("grader/numpy_ag/test_gaussian.py::test_a", gauss)
    b.record("grader/numpy_ag/test_gaussian.py::test_a", "not attempted", "not attempted: Exercise 1.2 ...")
    b.add_test("grader/numpy_ag/test_gaussian.py::test_deselected", gauss)  # never ran: not in any report
    return b


def test_gradescope_results_give_each_test_its_share_and_hide_hidden_tests(board):
    results = gradescope_results(board, 12.6, output="note")
    assert results["score"] == pytest.approx(3 * 2 / 4) and results["execution_time"] == 13
    tests = {t["extra_data"]["nodeid"].split("::")[1]: t for t in results["tests"]}
    assert set(tests) == {"test_0", "test_1", "test_2", "test_kl", "test_a"}
    assert all(t["max_score"] == pytest.approx(0.75) for n, t in tests.items() if n != "test_a")
    assert tests["test_a"]["max_score"] == 1.0 and tests["test_a"]["score"] == 0
    assert tests["test_0"]["status"] == "passed" and "output" not in tests["test_0"]
    assert tests["test_2"]["status"] == "failed" and tests["test_2"]["output"] == "KL timeout"
    assert tests["test_kl"]["visibility"] == "after_published" and "hidden" in tests["test_kl"]["name"]
    assert all(t["visibility"] == "visible" for n, t in tests.items() if n != "test_kl")
    numbers = [t["number"] for t in results["tests"]]
    assert numbers == ["1.2.1", "3.1.1", "3.1.2", "3.1.3", "3.1.4"]  # registry order, hidden tests last
    assert results["output"].startswith("note") and "1/3 tests passed" in results["output"]
    assert "hidden" not in results["output"] and "4" not in results["output"].split("3.1")[1].split("\n")[0]


def test_plain_and_csv_results_hold_every_exercise_and_test(board):
    plain = plain_results(board, 1.0)
    assert plain["score"] == pytest.approx(1.5) and plain["max_score"] == 4 and not plain["all_passed"]
    kl = next(e for e in plain["exercises"] if e["id"] == "3.1")
    assert [t["verdict"] for t in kl["tests"]] == ["passed", "failed", "timeout", "passed"]
    assert kl["status"] == "2 of 4 tests failed (timeout)"
    rows = list(csv.DictReader(io.StringIO(csv_results(board))))
    assert [(r["id"], float(r["score"]), r["tests_passed"], r["tests"]) for r in rows] == [
        ("1.2", 0.0, "0", "1"), ("3.1", 1.5, "2", "4")]


def test_reports_are_written_atomically_and_messages_are_capped(board, tmp_path):
    board.record("grader/numpy_ag/test_gaussian.py::test_deselected", "failed", "x" * 100_000)
    paths = write_reports(board, 1.0, tmp_path / "r.json", tmp_path / "p.json", tmp_path / "c.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.csv", "p.json", "r.json"]  # no temporary files left
    assert len(paths) == 3 and json.loads((tmp_path / "r.json").read_text())["tests"]
    assert len(cap("y" * 100_000)) < MESSAGE_LIMIT + 100


def _broken_copy(tmp: Path) -> Path:
    copy = shutil.copytree(ROOT / "solutions", tmp / "sub", ignore=shutil.ignore_patterns("__pycache__"))
    kl = copy / "numpy_ag" / "kl.py"
    kl.write_text(kl.read_text().replace(KL_BODY, KL_BODY.replace("0.5 *", "-0.5 *")))
    return copy


def test_pytest_grader_writes_the_three_reports_and_fails_unless_all_passed(tmp_path):
    target = _broken_copy(tmp_path)
    out = {k: tmp_path / f"out.{k}" for k in ("json", "plain", "csv")}
    proc = subprocess.run([sys.executable, "-m", "pytest", "grader/numpy_ag", "-m", "ex3_1 or ex1_2", "--target",
                           str(target), "-q", "-p", "no:cacheprovider", *(a for k, p in out.items()
                           for a in (f"--results-{k}", str(p)))], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 1, proc.stdout[-2000:]
    results = json.loads(out["json"].read_text())
    assert 0 < results["score"] < 4 and {t["tags"][0] for t in results["tests"]} == {"ex1_2", "ex3_1"}
    assert json.loads(out["plain"].read_text())["max_score"] == 4
    assert out["csv"].read_text().startswith("id,title,track,score")


def test_vaekit_grade_exit_codes_and_reports(tmp_path, capsys):
    good = shutil.copytree(ROOT / "solutions", tmp_path / "good", ignore=shutil.ignore_patterns("__pycache__"))
    assert main(["grade", str(good), "--exercises", "1.2,3.1", "--results-json", str(tmp_path / "g.json")]) == 0
    assert json.loads((tmp_path / "g.json").read_text())["score"] == 4
    bad = _broken_copy(tmp_path)
    assert main(["grade", str(bad), "--exercises", "3.1", "--results-plain", str(tmp_path / "b.json")]) == 1
    assert json.loads((tmp_path / "b.json").read_text())["exercises"][0]["score"] < 3
    assert main(["grade", str(tmp_path / "missing"), "--exercises", "3.1"]) == 2
    assert main(["grade", str(good), "--exercises", "11.7"]) == 2
    err = capsys.readouterr().err
    assert "neither a folder nor a .zip" in err and "unknown exercise '11.7'" in err
