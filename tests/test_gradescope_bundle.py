"""The Gradescope autograder bundle, run in a simulated /autograder folder.

The zip is unpacked into ``<root>/source`` and ``run_autograder`` copied to ``<root>``, as Gradescope does;
the student's files go to ``<root>/submission``; ``run_autograder`` must write ``<root>/results/results.json``.
``VAEKIT_AUTOGRADER_ROOT`` points the scripts at the simulated root and ``VAEKIT_PYTHON`` at this interpreter.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from vaekit.grading.gradescope import build_bundle
from vaekit.handout import solution_leaks

ROOT = Path(__file__).resolve().parents[1]
GRADED = "1.1,3.1,T3.1"
KL_BODY = "    return 0.5 * np.sum(mu**2 + np.exp(log_var) - log_var - 1.0, axis=-1)"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    return build_bundle(tmp_path_factory.mktemp("bundle") / "autograder.zip", exercises=GRADED, timeout=20,
                        total_timeout=300)


def _autograder(tmp: Path, bundle: Path) -> Path:
    root = tmp / "autograder"
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(root / "source")
    shutil.copyfile(root / "source" / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    return root


def _run(root: Path) -> dict:
    env = {**os.environ, "VAEKIT_AUTOGRADER_ROOT": str(root), "VAEKIT_PYTHON": sys.executable}
    env.pop("VAEKIT_TARGET", None)
    proc = subprocess.run(["bash", str(root / "run_autograder")], cwd=root, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return json.loads((root / "results" / "results.json").read_text())


def test_the_bundle_has_the_scripts_at_its_root_and_the_kit_without_solutions(bundle, tmp_path):
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
        modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
    assert {"setup.sh", "run_autograder", "kit/pyproject.toml", "kit/grader/reference.npz"} <= names
    assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111
    assert any(n.startswith("kit/grader/hidden/") for n in names)
    assert not any(n.startswith("kit/solutions/") or n.startswith("kit/tests/") for n in names)
    root = _autograder(tmp_path, bundle)
    assert solution_leaks(root / "source" / "kit", ROOT / "solutions") == []
    for script in ("setup.sh", "run_autograder"):
        assert subprocess.run(["bash", "-n", str(root / "source" / script)]).returncode == 0
    setup = (root / "source" / "setup.sh").read_text()
    assert "pip install -e /autograder/source/kit" in setup and "download.pytorch.org/whl/cpu" in setup


def test_a_correct_submission_gets_full_marks_with_hidden_tests_after_publication(bundle, tmp_path):
    root = _autograder(tmp_path, bundle)
    shutil.copytree(ROOT / "solutions", root / "submission" / "exercises", ignore=shutil.ignore_patterns("__pycache__"))
    results = _run(root)
    assert results["score"] == pytest.approx(2 + 3 + 3)
    assert isinstance(results["execution_time"], int)
    tests = results["tests"]
    assert tests and all(t["status"] == "passed" and t["score"] == t["max_score"] for t in tests)
    hidden = [t for t in tests if "hidden" in t["name"]]
    assert hidden and all(t["visibility"] == "after_published" for t in hidden)
    assert all(t["visibility"] == "visible" for t in tests if t not in hidden)
    assert "hidden" not in results["output"]
    assert sum(t["max_score"] for t in tests) == pytest.approx(8, abs=1e-3)
    numbers = [t["number"] for t in tests]
    assert len(set(numbers)) == len(numbers) and all(n.split(".")[0].lstrip("T") for n in numbers)


def test_loose_files_are_graded_and_missing_ones_count_as_not_attempted(bundle, tmp_path):
    root = _autograder(tmp_path, bundle)
    kl = (ROOT / "solutions" / "numpy_ag" / "kl.py").read_text().replace(KL_BODY, "    return -" + KL_BODY.strip()[7:])
    (root / "submission" / "kl.py").write_text(kl)  # a wrong sign, uploaded on its own
    results = _run(root)
    assert results["score"] < 3  # only the KL's test at mu = log_var = 0 can pass (-0 == 0)
    by_tag = {}
    for t in results["tests"]:
        by_tag.setdefault(t["tags"][0], []).append(t)
    assert any("KL" in t["output"] or ">= 0" in t["output"] for t in by_tag["ex3_1"])
    assert all(t["extra_data"]["verdict"] == "not attempted" for t in by_tag["ex1_1"] + by_tag["ext3_1"])
    assert "not handed in" in results["output"]


def test_an_empty_submission_still_gets_a_results_file(bundle, tmp_path):
    root = _autograder(tmp_path, bundle)
    results = _run(root)
    assert results["score"] == 0 and "could not grade" in results["output"]


def test_a_secret_reference_seed_gives_the_bundle_reference_inputs_the_handout_lacks(tmp_path):
    import numpy as np

    from grader.reference import REFERENCE_FILE

    path = build_bundle(tmp_path / "secret.zip", exercises="3.1", reference_seed=917)
    with zipfile.ZipFile(path) as zf:
        zf.extract("kit/grader/reference.npz", tmp_path)
        assert "kit/grader/reference.manifest" in zf.namelist()
    with np.load(tmp_path / "kit" / "grader" / "reference.npz") as secret, np.load(REFERENCE_FILE) as public:
        assert set(secret.files) == set(public.files)
        assert not np.array_equal(secret["kl/random:in:mu"], public["kl/random:in:mu"])
