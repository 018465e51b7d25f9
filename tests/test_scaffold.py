"""The recipe "add an exercise" of docs/changing-the-kit.md, performed on a copy of the kit with vaekit scaffold."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COPY = ("vaekit", "grader", "solutions", "exercises", "docs", "tests", "scripts", "mkdocs.yml", "pyproject.toml")


def _run(kit: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("VAEKIT_TARGET", "PYTEST_ADDOPTS")}
    env["PYTHONPATH"] = str(kit)
    return subprocess.run([sys.executable, *args], cwd=kit, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    kit = tmp_path_factory.mktemp("kit")
    for name in COPY:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, kit / name, ignore=shutil.ignore_patterns("__pycache__", "vendor"))
        else:
            shutil.copy2(src, kit / name)
    made = _run(kit, "-m", "vaekit", "scaffold", "12.1", "Scaled identity", "--points", "2", "--module", "scaled",
                "--function", "scaled_identity")
    assert made.returncode == 0, made.stdout + made.stderr
    stubs = _run(kit, "-m", "vaekit", "stubs")
    assert stubs.returncode == 0, stubs.stdout + stubs.stderr
    return kit


def test_the_scaffold_refuses_an_id_in_use(tmp_path):
    from vaekit.scaffold import ScaffoldError, scaffold

    with pytest.raises(ScaffoldError, match="exists already"):
        scaffold(tmp_path, "3.1", "KL", 2, "kl", "kl_to_standard_normal")
    with pytest.raises(ScaffoldError, match="must look like 12.1"):
        scaffold(tmp_path, "T12.1", "x", 2, "m", "f")


def test_the_new_exercise_is_graded_in_both_tracks(kit):
    solved = _run(kit, "-m", "pytest", "grader", "-m", "ex12_1 or ext12_1", "--target", "solutions",
                  "-p", "no:cacheprovider")
    assert solved.returncode == 0, solved.stdout[-3000:]
    assert "12.1 " in solved.stdout and "T12.1" in solved.stdout and "every exercise graded here passes" in solved.stdout
    stubs = _run(kit, "-m", "pytest", "grader", "-m", "ex12_1 or ext12_1", "-p", "no:cacheprovider")
    assert stubs.returncode != 0 and stubs.stdout.count("not attempted") >= 2, stubs.stdout[-3000:]


def test_the_kits_checks_accept_the_new_exercise(kit):
    checks = _run(kit, "-m", "pytest", "tests/test_stubs.py", "tests/test_docs_exercises.py",
                  "tests/test_architecture.py", "tests/test_mutants.py::test_every_exercise_has_at_least_three_planted_bugs",
                  "tests/test_coverage_tables.py::test_rows_planted_bugs_and_totals_match_the_registry_and_the_planted_bugs",
                  "-q", "-p", "no:cacheprovider")
    assert checks.returncode == 0, checks.stdout[-3000:]
    for track, new_id, core in (("numpy_ag", "12.1", "`matches_an_independent_computation`"),
                                ("pytorch", "T12.1", "`test_scaled_identity_matches_an_independent_computation`")):
        rows = [line for line in (kit / "docs" / "includes" / f"grader-{track}.md").read_text().splitlines()
                if line.startswith(f"| {new_id} |")]
        assert len(rows) == 1 and core in rows[0], rows


def test_the_planted_bugs_of_the_template_are_caught(kit):
    script = ("import json, sys\nfrom pathlib import Path\nfrom tests.mutants import plant, grade_many\n"
              "from tests.mutants_numpy import MUTANTS\nout = {}\nmine = [m for m in MUTANTS if m.exercise == '12.1']\n"
              "folder = Path(sys.argv[1])\n"
              "rows = grade_many([(m.name, plant(folder / m.name, m.file, m.subs), m.exercise) for m in mine], folder, 1)\n"
              "for m in mine:\n"
              "    msgs = ' '.join(t['message'] for t in rows[m.name]['tests'])\n"
              "    out[m.name] = [rows[m.name]['score'] < rows[m.name]['max_score'], m.keyword.lower() in msgs.lower()]\n"
              "print(json.dumps(out))\n")
    scratch = kit / "scratch"
    scratch.mkdir(exist_ok=True)
    done = _run(kit, "-c", script, str(scratch))
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    import json

    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(result) == 3 and all(lost and named for lost, named in result.values()), result
