"""The student handout: no solution code anywhere in it, and ``pytest grader`` inside it grades like ours.

Stubs untouched score zero ("not attempted"); with the solutions' files planted into its ``exercises/``
it gives full marks with the verdicts the instructor's copy gives the solutions.
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

from vaekit.grading.handout import build_handout, solution_leaks, solution_windows
from vaekit.stubs import expected_stubs

ROOT = Path(__file__).resolve().parents[1]


def _grade(cwd: Path, tmp: Path, *args: str) -> dict:
    """Run ``pytest grader`` in ``cwd``; return the plain JSON report."""
    report = tmp / f"report-{len(list(tmp.glob('report-*')))}.json"
    env = {k: v for k, v in os.environ.items() if k not in ("VAEKIT_TARGET", "PYTEST_ADDOPTS")}
    proc = subprocess.run([sys.executable, "-m", "pytest", "grader", "-q", "-p", "no:cacheprovider",
                           "--results-plain", str(report), *args], cwd=cwd, env=env, capture_output=True, text=True)
    assert report.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(report.read_text())


def _verdicts(report: dict) -> dict:
    return {t["nodeid"]: t["verdict"] for ex in report["exercises"] for t in ex["tests"] if not t["hidden"]}


@pytest.fixture(scope="module")
def handout(tmp_path_factory) -> Path:
    return build_handout(tmp_path_factory.mktemp("h") / "vae-handout")


def test_the_handout_holds_the_kit_but_no_solutions_and_no_hidden_tests(handout):
    names = {p.name for p in handout.iterdir()}
    assert {"exercises", "grader", "docs", "vaekit", "mkdocs.yml", "pyproject.toml", "README.md"} <= names
    assert "solutions" not in names and "tests" not in names
    assert not (handout / "grader" / "hidden").exists()
    assert (handout / "grader" / "reference.npz").is_file()
    assert 'testpaths = ["grader"]' in (handout / "pyproject.toml").read_text()


def test_no_file_of_the_handout_contains_solution_code(handout):
    assert solution_windows(ROOT / "solutions"), "no solution regions found to look for"
    assert solution_leaks(handout, ROOT / "solutions") == []
    for stub, text in expected_stubs().items():
        assert (handout / stub.relative_to(ROOT)).read_text() == text
    assert not [p for p in handout.rglob("*") if "solutions" in p.parts]


def test_a_planted_solution_region_would_be_found(handout, tmp_path):
    # The leak check is not vacuous: a stub with the KL solution's line in it is reported.
    copy = tmp_path / "copy"
    shutil.copytree(handout / "exercises", copy / "exercises")
    kl = copy / "exercises" / "numpy_ag" / "kl.py"
    kl.write_text(kl.read_text() + "\n" + (ROOT / "solutions" / "numpy_ag" / "kl.py").read_text())
    leaks = solution_leaks(copy, ROOT / "solutions")
    assert any(leak.startswith("exercises/numpy_ag/kl.py") for leak in leaks), leaks


def test_pytest_grader_in_the_handout_grades_like_the_instructors_copy(handout, tmp_path):
    stubs = _grade(handout, tmp_path)
    assert Path(stubs["target"]) == handout / "exercises"
    assert stubs["score"] == 0 and all(t == "not attempted" for t in _verdicts(stubs).values())
    copy = shutil.copytree(handout, tmp_path / "planted")
    for track in ("numpy_ag", "pytorch"):
        for path in (ROOT / "solutions" / track).glob("*.py"):
            shutil.copyfile(path, copy / "exercises" / track / path.name)
    planted = _grade(copy, tmp_path)
    ours = _grade(ROOT, tmp_path, "--target", "solutions")
    assert planted["all_passed"] and planted["score"] == planted["max_score"]
    assert _verdicts(planted) == _verdicts(ours)
    assert planted["max_score"] == ours["max_score"]


def test_the_zip_holds_one_folder_with_the_same_files(handout, tmp_path):
    archive = build_handout(tmp_path / "vae-handout", as_zip=True)
    assert archive.name == "vae-handout.zip"
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
    assert names and all(n.startswith("vae-handout/") for n in names)
    assert not any("/solutions/" in n or "/grader/hidden/" in n for n in names)
    assert "vae-handout/exercises/numpy_ag/kl.py" in names
