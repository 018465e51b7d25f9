"""The mutation score of the grader: every planted bug loses points, with a message that names the mistake.

Each mutant (tests/mutants_numpy.py, tests/mutants_pytorch.py) is a copy of solutions/ with one bug planted
by a text substitution; it is graded on the tests of its exercise that it names, by one of two long-lived judges
(tests/judge_pool.py),
whose workers are forked from a server that imported the libraries once (grader/forkserver.py: the copies are
the kit's own code, so they run without the sandbox, which tests/test_hostile_submissions.py tests). It must
lose points there, and one of the listed tests must fail with the listed keyword in its message. Each variant
is a different but correct implementation and must get full marks.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests.mutants import grade_many, plant
from vaekit.registry import EXERCISES
from tests.mutants_numpy import MUTANTS as NUMPY_MUTANTS, VARIANTS as NUMPY_VARIANTS
from tests.mutants_pytorch import MUTANTS as TORCH_MUTANTS, VARIANTS as TORCH_VARIANTS
from tests.mutants_challenge import MUTANTS as CHALLENGE_MUTANTS, VARIANTS as CHALLENGE_VARIANTS

# Grading every planted bug and variant (hundreds of copies, one worker each) takes minutes, more on a busy
# machine: the fixture that does it runs within the first test, so the module's tests get a time limit of their own.
pytestmark = pytest.mark.timeout(3600)

MUTANTS = {m.name: m for m in NUMPY_MUTANTS + TORCH_MUTANTS + CHALLENGE_MUTANTS}
VARIANTS = {v.name: v for v in NUMPY_VARIANTS + TORCH_VARIANTS + CHALLENGE_VARIANTS}


def test_the_tables_are_large_and_distinct():
    assert len(MUTANTS) == len(NUMPY_MUTANTS) + len(TORCH_MUTANTS) + len(CHALLENGE_MUTANTS) >= 30
    assert len(VARIANTS) == len(NUMPY_VARIANTS) + len(TORCH_VARIANTS) + len(CHALLENGE_VARIANTS) >= 5
    assert len({(m.file, m.subs) for m in MUTANTS.values()}) == len(MUTANTS)


def test_every_exercise_has_at_least_three_planted_bugs():
    counts = Counter(m.exercise for m in MUTANTS.values())
    few = {ex_id: counts.get(ex_id, 0) for ex_id in EXERCISES if counts.get(ex_id, 0) < 3}
    assert not few, f"exercises with fewer than 3 planted bugs: {few}"
    assert len(MUTANTS) >= 150 and len(VARIANTS) >= 30


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mutants")
    # A planted bug is graded on the tests it names (one of them must fail, and every failing test costs points,
    # tests/test_scoring_rule.py); a variant on every test of its exercise, since all of them must pass.
    jobs = [(name, plant(tmp / name, m.file, m.subs), m.exercise, m.tests) for name, m in MUTANTS.items()]
    jobs += [(name, plant(tmp / name, v.file, v.subs), v.exercise) for name, v in VARIANTS.items()]
    return grade_many(jobs, tmp, processes=2)


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_the_grader_catches_the_planted_bug_and_names_it(graded, name):
    mutant, row = MUTANTS[name], graded[name]
    assert row["tests"], f"{name}: none of {mutant.tests} was found in the grader"
    assert row["score"] < row["max_score"], f"{name} kept full marks in Exercise {mutant.exercise}"
    failing = {t["name"].split("[")[0]: t for t in row["tests"] if t["verdict"] != "passed"}
    listed = [failing[n] for n in mutant.tests if n in failing]
    assert listed, f"{name}: none of {mutant.tests} failed; failing: {sorted(failing)}"
    messages = [t["message"] for t in listed]
    assert any(mutant.keyword.lower() in m.lower() for m in messages), f"{name}: {mutant.keyword!r} not in {messages}"


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_a_different_correct_implementation_gets_full_marks(graded, name):
    row = graded[name]
    bad = {t["name"]: t["message"] for t in row["tests"] if t["verdict"] != "passed"}
    assert row["score"] == row["max_score"] and not bad, f"{name}: {bad}"
