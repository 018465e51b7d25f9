"""Grading against reference data drawn from a secret seed (``--reference-seed``): the handout's public
``grader/reference.npz`` then gives no table of answers to copy, and the reference solutions keep full marks."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from grader.reference import REFERENCE_FILE
from grader.sandbox import bwrap_works
from vaekit.grading.judge import GradingError, GradingOptions, grade, judge_env, reference_file

ROOT = Path(__file__).resolve().parents[1]
UNSAFE = not bwrap_works()[0]  # the planted code below is ours: without bwrap it may run unsandboxed


def _lookup_submission(dest: Path) -> Path:
    """The solutions with an iwae_log_px that computes nothing: it returns the expected values of the public case."""
    shutil.copytree(ROOT / "solutions", dest, ignore=shutil.ignore_patterns("__pycache__"))
    with np.load(REFERENCE_FILE) as data:
        value = data["iwae/linear_decoder:out:value"].tolist()
    (dest / "numpy_ag" / "iwae.py").write_text(
        "import autograd.numpy as np\n\n\n"
        "def iwae_log_px(x, mu, log_var, eps, decode):\n"
        f"    return np.asarray({value!r}, dtype=x.dtype)\n")
    return dest


def _verdict(result, test: str) -> str:
    return next(t.verdict for t in result.board.tests.values() if t.nodeid.endswith(test))


def test_a_lookup_table_passes_the_public_case_and_fails_a_secret_seed(tmp_path):
    sub = _lookup_submission(tmp_path / "lookup")
    public = grade(sub, GradingOptions(exercises="9.1", unsafe=UNSAFE))
    secret = grade(sub, GradingOptions(exercises="9.1", unsafe=UNSAFE, reference_seed=4711))
    assert _verdict(public, "test_iwae_matches_reference") == "passed"  # the hole the seed closes
    assert _verdict(secret, "test_iwae_matches_reference") == "failed"


def test_the_solutions_keep_full_marks_under_a_secret_seed():
    result = grade(ROOT / "solutions", GradingOptions(exercises="9.1,5.1", unsafe=UNSAFE, reference_seed=4711))
    assert result.board.all_passed(), result.board.table()


def test_the_judge_gets_other_inputs_drawn_from_the_seed():
    opts = GradingOptions(reference_seed=4711)
    path = reference_file(opts)
    assert reference_file(opts) == path  # made once per process
    assert judge_env(path)["VAEKIT_REFERENCE"] == str(path)
    with np.load(path) as secret, np.load(REFERENCE_FILE) as public:
        assert sorted(secret.files) == sorted(public.files)
        assert not np.allclose(secret["iwae/linear_decoder:in:x"], public["iwae/linear_decoder:in:x"])


def test_without_solutions_it_says_what_is_wrong(tmp_path):
    kit = tmp_path / "handout"
    kit.mkdir()
    with pytest.raises(GradingError, match="has none"):
        reference_file(GradingOptions(reference_seed=3, kit=kit))
