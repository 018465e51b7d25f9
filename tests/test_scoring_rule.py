"""The scoring rule of grader/scoring.py: core tests carry most of an exercise; a failing core test caps it."""

import pytest

from grader import scoring
from grader.scoring import CORE_SHARE, WRONG_CAP, Scoreboard
from vaekit.registry import EXERCISES

EX = EXERCISES["2.1"]


def _results(*spec):
    """``spec``: (core, passed) pairs."""
    return [scoring.TestResult(f"t{i}", EX, core=core, verdict="passed" if ok else "failed") for i, (core, ok) in enumerate(spec)]


def test_without_core_tests_points_are_split_evenly():
    weights, scores = scoring.test_scores(4.0, _results((False, True), (False, False), (False, True), (False, True)))
    assert weights == [1.0] * 4 and scores == [1.0, 0.0, 1.0, 1.0]


def test_right_values_with_one_wrong_side_check_keep_the_core_share_and_the_rest():
    weights, scores = scoring.test_scores(4.0, _results((True, True), (False, False), (False, True)))
    assert weights == pytest.approx([4 * CORE_SHARE, 4 * (1 - CORE_SHARE) / 2, 4 * (1 - CORE_SHARE) / 2])
    assert sum(scores) == pytest.approx(4 * CORE_SHARE + 4 * (1 - CORE_SHARE) / 2)


def test_a_failing_core_test_caps_the_exercise_however_many_others_pass():
    results = _results((True, False), (True, True), *[(False, True)] * 8)
    weights, scores = scoring.test_scores(4.0, results)
    assert sum(weights) == pytest.approx(4.0)
    assert sum(scores) == pytest.approx(4 * WRONG_CAP)
    assert sum(scoring.test_scores(4.0, _results((True, False), (False, False)))[1]) == 0.0


def test_the_board_and_its_reports_use_the_rule(tmp_path):
    import json

    from grader.reports import write_reports

    board = Scoreboard(tmp_path)
    for i, (core, ok) in enumerate([(True, False), (False, True), (False, True)]):
        board.add_test(f"grader/x.py::t{i}", EX, core=core)
        board.record(f"grader/x.py::t{i}", "passed" if ok else "failed", "" if ok else "wrong")
    assert board.total() == (pytest.approx(EX.points * WRONG_CAP), EX.points)
    write_reports(board, 1.0, results_json=tmp_path / "r.json", results_plain=tmp_path / "p.json")
    gradescope = json.loads((tmp_path / "r.json").read_text())
    assert sum(t["score"] for t in gradescope["tests"]) == pytest.approx(gradescope["score"], abs=1e-4)
    assert sum(t["max_score"] for t in gradescope["tests"]) == pytest.approx(EX.points, abs=1e-4)
    plain = json.loads((tmp_path / "p.json").read_text())
    assert [t["core"] for t in plain["exercises"][0]["tests"]] == [True, False, False]


def test_a_stray_global_random_draw_costs_the_other_tests_not_the_core_share(tmp_path):
    """A correct KL that also draws from NumPy's global generator: its values are right, so its core tests pass;
    the finding costs its other tests, with a message that says what was wrong."""
    from tests.mutants import grade_copy, plant

    old = "    return 0.5 * np.sum(mu**2 + np.exp(log_var) - log_var - 1.0, axis=-1)"
    target = plant(tmp_path / "kl_draws", "numpy_ag/kl.py", ((old, "    np.random.normal()\n" + old),))
    row = grade_copy(target, "3.1", tmp_path / "kl_draws.json")
    core = [t for t in row["tests"] if t.get("core")]
    others = [t for t in row["tests"] if not t.get("core")]
    assert core and all(t["verdict"] == "passed" for t in core), core
    failed = [t for t in others if t["verdict"] == "failed"]
    assert failed and all("global random generator" in t["message"] for t in failed)
    assert CORE_SHARE * row["max_score"] <= row["score"] < row["max_score"]
