"""The student handout: no solution code anywhere in it, ``pytest grader`` inside it grades like ours, it names
no file it does not hold, and the commands of its README work in a clean copy.

Stubs untouched score zero ("not attempted"); with the solutions' files planted into its ``exercises/``
it gives full marks with the verdicts the instructor's copy gives the solutions.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from vaekit.handout import build_handout, solution_leaks, solution_windows
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


def test_the_handout_reads_the_registry_frozen_at_build_time(handout):
    # No solutions in the handout: its registry is the table the builder froze, equal to ours; exercises/ (what a
    # student edits and hands in) plays no part in it.
    from dataclasses import asdict

    from vaekit.registry import from_solutions

    script = ("import json; from dataclasses import asdict; from vaekit.registry import EXERCISES, USES; "
              "print(json.dumps([[asdict(e) for e in EXERCISES.values()], USES]))")
    shown = _run([sys.executable, "-c", script], handout)
    assert shown.returncode == 0, shown.stderr[-2000:]
    exercises, uses = from_solutions()
    assert json.loads(shown.stdout) == json.loads(json.dumps([[asdict(e) for e in exercises.values()], uses]))
    assert not (ROOT / "vaekit" / "registry.json").exists(), "the frozen table belongs in built kits only"


def test_a_planted_solution_region_would_be_found(handout, tmp_path):
    # The leak check is not vacuous: a stub with the KL solution's line in it is reported.
    copy = tmp_path / "copy"
    shutil.copytree(handout / "exercises", copy / "exercises")
    kl = copy / "exercises" / "numpy_ag" / "kl.py"
    kl.write_text(kl.read_text() + "\n" + (ROOT / "solutions" / "numpy_ag" / "kl.py").read_text())
    leaks = solution_leaks(copy, ROOT / "solutions")
    assert any(leak.startswith("exercises/numpy_ag/kl.py") for leak in leaks), leaks


def test_pytest_grader_in_the_handout_grades_like_the_instructors_copy(handout, tmp_path, solutions_grading):
    stubs = _grade(handout, tmp_path)
    assert Path(stubs["target"]) == handout / "exercises"
    assert stubs["score"] == 0 and all(t == "not attempted" for t in _verdicts(stubs).values())
    copy = shutil.copytree(handout, tmp_path / "planted")
    for track in ("numpy_ag", "pytorch"):
        for path in (ROOT / "solutions" / track).glob("*.py"):
            shutil.copyfile(path, copy / "exercises" / track / path.name)
    planted = _grade(copy, tmp_path)
    ours = solutions_grading["plain"]  # pytest grader --target solutions in the kit (tests/conftest.py)
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


# --- The handout is true of itself --------------------------------------------------------------------------

# A reference to a file or folder: the kit's folders that the handout leaves out, the hidden tests, a test file
# by name, or a command that needs the solutions.
REFERENCE = re.compile(r"(?<![\w.-])(?:(?:solutions|tests|benchmarks)/[\w./*<>-]*|grader/hidden\b[\w./-]*"
                       r"|test_\w+\.py)|--(?:code|target)[ =]solutions\b")
# Files that may name what only the instructors' copy holds, and why. Everything else a student can read, run
# or be shown must not.
INSTRUCTOR_FILES = {
    "docs/instructors.md": "the page for instructors, about their copy of the kit",
    "docs/changing-the-kit.md": "the instructors' recipes for changing their copy of the kit",
    "vaekit/scaffold.py": "writes a new exercise into the solutions (its command is not offered in the handout)",
    "vaekit/commands/scaffold.py": "the same, its command line",
    "vaekit/stubs.py": "the stub generator, which reads the solutions (its command is not offered in the handout)",
    "vaekit/commands/stubs.py": "the same, its command line",
    "scripts/make_results.py": "re-creates the Results page from the reference solutions",
    "scripts/make_theory_figures.py": "re-creates the theory figures with the reference solutions",
    "vaekit/codefolder.py": "loads a code folder, the solutions among them, for the grader and vaekit train",
    "vaekit/training/config.py": "the same names as vaekit/codefolder.py for --code",
    "vaekit/handout.py": "builds this handout from the instructors' copy, and says what it leaves out",
    "vaekit/training/loop.py": "tells an instructor's run of unfinished code to try --code solutions",
    "grader/conftest.py": "the grader's options, which instructors use with --target solutions",
    "grader/cases.py": "documents how the frozen data were made from the solutions",
    "grader/seeds.py": "documents the kit's own checks of the grader",
    "grader/montecarlo.py": "documents the kit's own checks of the grader",
    "grader/sandbox.py": "the sandbox's rules, which name what it keeps out of reach",
    "grader/reference.py": "generates the frozen data from the solutions in the instructors' copy",
    "scripts/mkdocs_hooks.py": "leaves the hidden tests of the instructors' copy out of the site",
    "vaekit/commands/train.py": "offers --code solutions only where the solutions are (its --help is checked below)",
    "vaekit/explorer.py": "exports a trained decoder with the reference model code, an instructors' tool",
    "grader/reports.py": "the judge's reports, which instructors read with the hidden tests",
}
GRADING_DIRS = ("vaekit/grading/",)  # the instructors' grading tools (handout, class grading, Gradescope)
TEXT = (".py", ".md", ".txt", ".yml", ".yaml", ".toml", ".sh", ".cfg", ".js", ".html", ".css")


@functools.lru_cache(maxsize=None)
def _test_file_names(handout: Path) -> frozenset[str]:
    return frozenset(p.name for p in handout.rglob("test_*.py"))


def dangling(text: str, handout: Path) -> list[str]:
    """The references in ``text`` to files or folders that ``handout`` does not hold."""
    names = _test_file_names(handout)
    out = []
    for m in REFERENCE.finditer(text):
        ref = m.group(0)
        if ref.startswith("test_"):
            ok = ref in names
        elif ref.startswith("--"):
            ok = (handout / "solutions").is_dir()
        else:
            ok = (handout / ref.split("*")[0].split("<")[0].rstrip("/.")).exists()
        if not ok:
            out.append(ref)
    return out


def test_the_handout_names_no_file_it_does_not_hold(handout):
    found = []
    for path in sorted(handout.rglob("*")):
        rel = path.relative_to(handout).as_posix()
        if not path.is_file() or path.suffix not in TEXT or rel in INSTRUCTOR_FILES or rel.startswith(GRADING_DIRS):
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
            found += [f"{rel}:{n}: {ref}" for ref in dangling(line, handout)]
    for argv in (["--help"], ["train", "--help"], ["handout", "--help"]):
        shown = _run([sys.executable, "-m", "vaekit", *argv], handout).stdout
        found += [f"vaekit {' '.join(argv)}: {ref}" for ref in dangling(shown, handout)]
    assert not found, "the handout names files it does not contain:\n" + "\n".join(found)


def test_the_reference_check_can_fail(handout):
    assert dangling("see tests/test_reference_data.py and solutions/kl.py", handout) == [
        "tests/test_reference_data.py", "solutions/kl.py"]
    assert dangling("generated from solutions/pytorch/optim.py", handout) == ["solutions/pytorch/optim.py"]
    assert dangling("vaekit train --code solutions; grader/hidden/ holds more", handout) == [
        "--code solutions", "grader/hidden/"]
    assert dangling("grader/reference.npz, exercises/numpy_ag/kl.py, test_kl.py", handout) == []
    assert set(INSTRUCTOR_FILES) <= {p.relative_to(handout).as_posix() for p in handout.rglob("*")}, \
        "an exempted file is no longer in the handout: drop it from INSTRUCTOR_FILES"


def _run(argv, cwd: Path, timeout: int = 900) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("VAEKIT_TARGET", "PYTEST_ADDOPTS")}
    env["PYTHONPATH"] = str(cwd)
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def _readme_commands(readme: str) -> list[str]:
    """The commands of the README's indented command block, without their comments."""
    return [line.strip().split("  #")[0].strip() for line in readme.splitlines()
            if line.startswith("    ") and line.strip() and not line.strip().startswith("#")]


@pytest.fixture()
def fresh_copy(handout, tmp_path):
    """A clean copy of the handout whose .venv is this interpreter's environment: .venv/bin/<tool> runs the tool
    of the running Python with PYTHONPATH set to the copy, and the setup stamp says the install is done (the
    install itself, pip from PyPI, is what scripts/time_first_score.sh measures)."""
    copy = shutil.copytree(handout, tmp_path / "student")
    bin_dir = copy / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    tools = {"python": "", "pytest": "-m pytest", "mkdocs": "-m mkdocs", "vaekit": "-m vaekit"}
    for name, module in tools.items():
        (bin_dir / name).write_text(f'#!/bin/sh\nPYTHONPATH="{copy}" exec "{sys.executable}" {module} "$@"\n')
        (bin_dir / name).chmod(0o755)
    digest = hashlib.sha256((copy / "pyproject.toml").read_bytes()).hexdigest()
    (copy / ".venv" / ".vaekit-installed").write_text(f"{digest} docs\n")
    return copy


def test_the_readme_commands_work_in_a_clean_copy(fresh_copy):
    commands = _readme_commands((fresh_copy / "README.md").read_text())
    assert commands[:2] == ["bash scripts/setup.sh", ".venv/bin/pytest grader -m ex2_1"], commands
    for command in commands:
        if command.endswith("mkdocs serve"):
            _serve_and_fetch(fresh_copy, command)
            continue
        done = _run(["bash", "-c", command], fresh_copy)
        out = done.stdout + done.stderr
        if command == "bash scripts/setup.sh":
            assert done.returncode == 0 and out.strip() == "setup: .venv is up to date (delete .venv to reinstall " \
                "from scratch)", out
        else:  # grading the untouched stubs: pytest's "tests failed" exit code and a score table of zeros
            assert done.returncode == 1, f"{command}: exit {done.returncode}\n{out[-3000:]}"
            assert "Traceback" not in out and "not attempted" in out, f"{command}:\n{out[-3000:]}"
    shown = _run(["bash", "scripts/test.sh", "2.1"], fresh_copy)
    assert shown.stdout.startswith("test: this copy has no folder of kit tests (it is the student handout): grading"), \
        shown.stdout[:500]
    assert shown.returncode == 1 and "not attempted" in shown.stdout


def _serve_and_fetch(copy: Path, command: str) -> None:
    """Run ``mkdocs serve`` on a free port; the home page and MathJax must be served, with no warning."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.Popen(["bash", "-c", f"{command} --dev-addr 127.0.0.1:{port}"], cwd=copy, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                home = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read().decode()
                mathjax = urllib.request.urlopen(f"http://127.0.0.1:{port}/assets/vendor/mathjax/MathJax.js",
                                                 timeout=5).read()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "mkdocs serve did not come up"
                time.sleep(1)
        assert "VAE course kit" in home and b"MathJax" in mathjax[:2000]
    finally:
        proc.terminate()
        out = proc.communicate(timeout=30)[0]
    assert not [line for line in out.splitlines() if line.startswith(("WARNING", "ERROR"))], out
