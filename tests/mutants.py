"""What a mutant is, how one is planted into a copy of solutions/, and how a copy is graded.

A :class:`Mutant` is a bug written as text substitutions in one solution file; it must cost points in its
exercise, with a failing test among ``tests`` whose message contains ``keyword`` (the grader names the
mistake). A :class:`Variant` is a different but correct implementation, which must get full marks.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from vaekit.registry import EXERCISES

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Mutant:
    name: str
    file: str  # inside solutions/, e.g. "numpy_ag/kl.py"
    subs: tuple[tuple[str, str], ...]  # (old, new): old must occur exactly once (or "*" + old: every time)
    exercise: str  # the exercise that must lose points, e.g. "3.1"
    tests: tuple[str, ...]  # at least one of these test functions must fail ...
    keyword: str  # ... with this text (case-insensitive) in its message


@dataclass(frozen=True)
class Variant:
    name: str
    file: str
    subs: tuple[tuple[str, str], ...]
    exercise: str


def plant(dest: Path, file: str, subs) -> Path:
    """Copy solutions/ to ``dest`` and apply ``subs`` to ``file``; fail loudly if a substitution does not apply."""
    shutil.copytree(ROOT / "solutions", dest, ignore=shutil.ignore_patterns("__pycache__"))
    path = dest / file
    text = path.read_text()
    for old, new in subs:
        every = old.startswith("*")
        old = old[1:] if every else old
        count = text.count(old)
        if count == 0 or (count > 1 and not every):
            raise AssertionError(f"{file}: {old!r} occurs {count} times; the solution changed, update the mutant")
        text = text.replace(old, new)
    path.write_text(text)
    return dest


def _test_files(marker: str) -> list[str]:
    """The grader's test files that name ``marker`` (collecting only those is what makes a copy quick to grade;
    ``-m`` still picks the tests)."""
    pattern = re.compile(rf"\b{marker}\b")
    return [str(path.relative_to(ROOT)) for folder in ("grader", "grader/hidden")
            for path in sorted((ROOT / folder).glob("*/test_*.py")) if pattern.search(path.read_text())]


def _grading_args(target: Path, exercise_id: str, report: Path, tests: tuple[str, ...] = ()) -> list[str]:
    """pytest's arguments for grading ``exercise_id`` of ``target``: all its tests, or only those named in
    ``tests`` (test functions; with their parametrisations)."""
    ex = EXERCISES[exercise_id]
    paths = _test_files(ex.marker)
    if tests:
        named = re.compile(rf"def (?:{'|'.join(tests)})\b")
        paths = [path for path in paths if named.search((ROOT / path).read_text())]
    # no:unraisableexception: that plugin runs a full garbage collection at the end of every session (a tenth of
    # a second, hundreds of times here) to report exceptions nobody could catch; verdicts do not depend on it.
    chosen = ["-k", " or ".join(tests)] if tests else []
    return [*paths, "-m", ex.marker, *chosen, "--target", str(target), "--results-plain", str(report), "-q",
            "-p", "no:cacheprovider", "-p", "no:unraisableexception", "-p", "pytest_timeout", "--timeout", "120"]


def _exercise_row(report: Path, exercise_id: str, output: str) -> dict:
    if not report.exists():
        raise AssertionError(f"grading gave no report {report}:\n{output[-3000:]}")
    rows = [e for e in json.loads(report.read_text())["exercises"] if e["id"] == exercise_id]
    if not rows:
        raise AssertionError(f"no test of Exercise {exercise_id} ran:\n{output[-3000:]}")
    return rows[0]


def _env() -> dict:
    """The graders' environment. The planted copies are the kit's own code, so their workers need no sandbox
    (tests/test_hostile_submissions.py tests the sandbox) and are forked from a server that imported NumPy,
    autograd and torch once per judge (grader/forkserver.py), instead of importing them afresh for every copy."""
    env = {k: v for k, v in os.environ.items() if k not in ("VAEKIT_TARGET", "PYTEST_ADDOPTS")}
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1",
               VAEKIT_SANDBOX="off", VAEKIT_WORKER_FORKSERVER="1",
               # Of the installed pytest plugins the grader needs only pytest-timeout (loaded with -p below); not
               # registering xdist, anyio and the rest saves a tenth of each of the hundreds of sessions.
               PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    return env


def grade_copy(target: Path, exercise_id: str, report: Path) -> dict:
    """Grade one exercise of ``target`` in a pytest process; return the plain report's exercise entry."""
    proc = subprocess.run([sys.executable, "-m", "pytest", *_grading_args(target, exercise_id, report)],
                          cwd=ROOT, env=_env(), capture_output=True, text=True)
    return _exercise_row(report, exercise_id, proc.stdout + proc.stderr)


def grade_many(jobs: list[tuple], folder: Path, processes: int = 2) -> dict[str, dict]:
    """Grade ``(name, target, exercise_id)`` or ``(name, target, exercise_id, tests)`` jobs with ``processes``
    long-lived judges (tests/judge_pool.py); ``tests`` limits the grading to those test functions of the exercise.

    Same verdicts as :func:`grade_copy`, without a Python start-up and a torch import per copy. Jobs of the same
    track go to the same judge, so that each judge imports torch at most once.
    """
    import threading

    pools = [subprocess.Popen([sys.executable, "-m", "tests.judge_pool"], cwd=ROOT, env=_env(), text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
             for _ in range(processes)]
    ordered = sorted(jobs, key=lambda job: (EXERCISES[job[2]].track, job[0]))
    shares = [ordered[i::processes] for i in range(processes)]
    results: dict[str, dict] = {}
    errors: list[BaseException] = []

    def drive(pool, share):
        try:
            for name, target, exercise_id, *tests in share:
                report = folder / f"{name}.json"
                pool.stdin.write(json.dumps({"args": _grading_args(target, exercise_id, report, *tests),
                                             "report": str(report)}) + "\n")
                pool.stdin.flush()
                answer = json.loads(pool.stdout.readline() or "{}")
                results[name] = _exercise_row(report, exercise_id, answer.get("tail", ""))
        except BaseException as err:  # noqa: BLE001 - reported below, after the other judges finish
            errors.append(err)

    threads = [threading.Thread(target=drive, args=(p, s)) for p, s in zip(pools, shares)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for pool in pools:
        pool.stdin.close()
        pool.wait(timeout=60)
    if errors:
        raise errors[0]
    return results
