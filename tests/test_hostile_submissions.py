"""Hostile submissions: each one breaks kl_to_standard_normal (Exercise 3.1) in its own way.

Each gets a clear verdict for Exercise 3.1 while Exercises 1.1 and 4.1, which do not call the KL and are
graded after it and in the same process, keep full marks. Every submission is a copy of solutions/ with one
function body replaced, graded by ``vaekit.grading.sandbox.grade`` (a separate process, as ``vaekit grade``).
"""

from __future__ import annotations

import json
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from vaekit.grading.sandbox import GradingOptions, grade

ROOT = Path(__file__).resolve().parents[1]
KL_BODY = "    return 0.5 * np.sum(mu**2 + np.exp(log_var) - log_var - 1.0, axis=-1)"
GRADED = "1.1,3.1,4.1"  # 3.1 is broken; 1.1 and 4.1 run before and after it
TEST_TIMEOUT = 1.5

FIND_RECORDS = """    import os
    for fd in os.listdir('/proc/self/fd'):
        try:
            if 'records' in os.readlink(f'/proc/self/fd/{fd}'):
                os.write(int(fd), b'{"payload": "{}", "sig": "00"}\\n')
        except OSError:
            pass
"""

# name: (body of kl_to_standard_normal, verdicts allowed for the KL tests, keyword of their messages, options)
CASES = {
    "exception": ("    raise ValueError('boom')", {"error", "failed"}, "ValueError: boom", {}),
    "nan": ("    return np.full(np.shape(mu)[:-1], np.nan)", {"failed"}, "nan", {}),
    "wrong_shape": ("    return np.sum(mu**2)", {"failed"}, "shape", {}),
    "wrong_dtype": ("    return np.array(['a'] * len(mu))", {"failed", "error"}, "numeric array", {}),
    "endless_loop": ("    while True:\n        pass", {"timeout"}, "did not finish within", {}),
    "loop_ignoring_timeout": ("    while True:\n        try:\n            while True:\n                pass\n"
                              "        except BaseException:\n            pass", {"timeout"}, "did not stop when asked", {}),
    "os_exit": ("    import os\n    os._exit(0)", {"error"}, "grading process ended", {}),
    "sys_exit": ("    import sys\n    sys.exit(3)", {"error"}, "sys.exit", {}),
    # np.empty reserves 8 GB of address space without touching it: harmless if the limit were missing.
    "memory_hog": ("    import numpy\n    big = numpy.empty(2**30)\n    return big[:len(mu)]", {"error"},
                   "out of memory", {"memory_gb": 4.5}),
    "print_flood": ("    print('y' * 30_000_000)\n" + KL_BODY, {"error"}, "more output than the grader keeps",
                    {"output_mb": 20}),
    # a wrong KL that prints: the tests at mu = log_var = 0 and of KL >= 0 still pass
    "big_print": ("    print('x' * 5_000_000)\n    return 0.5 * np.sum(mu**2, axis=-1)", {"failed", "passed"},
                  "your code printed", {}),
    "patches_numpy_torch_grader": ("    import numpy, torch, grader.harness\n    numpy.allclose = lambda *a, **k: True\n"
                                   "    torch.exp = lambda *a, **k: None\n"
                                   "    grader.harness.check_close = lambda *a, **k: None\n" + KL_BODY,
                                   {"failed"}, "the grader undid the change", {}),
    "imports_solutions": ("    from solutions.numpy_ag.kl import kl_to_standard_normal as f\n    return f(mu, log_var)",
                          {"error", "failed"}, "reference solutions", {}),
    "global_rng": ("    import numpy, torch\n    numpy.random.seed(0)\n    torch.manual_seed(0)\n" + KL_BODY,
                   {"failed"}, "global random generator", {}),
}


def _submission(tmp: Path, name: str, body: str) -> Path:
    folder = tmp / name
    shutil.copytree(ROOT / "solutions", folder, ignore=shutil.ignore_patterns("__pycache__"))
    kl = folder / "numpy_ag" / "kl.py"
    text = kl.read_text()
    assert text.count(KL_BODY) == 1, "the KL solution changed: update KL_BODY"
    kl.write_text(text.replace(KL_BODY, body))
    return folder


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    cases = {**CASES, "pristine": (KL_BODY, {"passed"}, "", {})}
    if sys.platform.startswith("linux"):
        cases["forges_records"] = (FIND_RECORDS + KL_BODY, {"error"}, "records were written to", {})

    def run(item):
        name, (body, _, _, extra) = item
        opts = GradingOptions(exercises=GRADED, test_timeout=TEST_TIMEOUT, total_timeout=120, **extra)
        return name, grade(_submission(tmp, name, body), opts)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(pool.map(run, cases.items()))


def _by_exercise(grading, exercise_id):
    return [t for t in grading.board.tests.values() if t.exercise.id == exercise_id]


def test_the_unbroken_copy_gets_full_marks(graded):
    board = graded["pristine"].board
    assert board.all_passed(), board.table()
    assert {t.exercise.id for t in board.tests.values()} == {"1.1", "3.1", "4.1"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_kl_gets_a_clear_verdict_and_the_rest_full_marks(graded, name):
    _, allowed, keyword, _ = CASES[name]
    grading = graded[name]
    kl_tests = _by_exercise(grading, "3.1")
    assert kl_tests, "the KL tests did not run"
    for test in kl_tests:
        assert test.verdict in allowed, f"{test.name}: {test.verdict}: {test.message}"
        assert len(test.message) < 4000
    messages = [t.message.lower() for t in kl_tests if t.verdict != "passed"]
    assert any(keyword.lower() in m for m in messages), messages
    rows = {r["id"]: r for r in grading.board.per_exercise()}
    assert rows["3.1"]["score"] < rows["3.1"]["max_score"]
    for other in ("1.1", "4.1"):
        assert rows[other]["score"] == rows[other]["max_score"], grading.board.table()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the records file through /proc")
def test_a_submission_that_writes_into_its_records_gets_nothing(graded):
    grading = graded["forges_records"]
    assert all(t.verdict == "error" and "records were written to" in t.message for t in grading.board.tests.values())
    assert grading.board.total()[0] == 0
    assert any("records rejected" in note for note in grading.notes)


def test_reports_of_a_hostile_submission_are_small_and_valid_json(graded, tmp_path):
    from vaekit.grading.report import write_reports

    grading = graded["big_print"]
    path = tmp_path / "results.json"
    write_reports(grading.board, grading.seconds, results_json=path)
    data = json.loads(path.read_text())
    assert path.stat().st_size < 50_000
    assert data["score"] == pytest.approx(grading.board.total()[0])
    failed = [t for t in data["tests"] if t["status"] == "failed"]
    assert failed and all(t["tags"][0] == "ex3_1" for t in failed)
    assert all("your code printed" in t["output"] and len(t["output"]) < 4000 for t in failed)
