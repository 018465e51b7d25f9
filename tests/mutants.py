"""What a mutant is, how one is planted into a copy of solutions/, and how a copy is graded.

A :class:`Mutant` is a bug written as text substitutions in one solution file; it must cost points in its
exercise, with a failing test among ``tests`` whose message contains ``keyword`` (the grader names the
mistake). A :class:`Variant` is a different but correct implementation, which must get full marks.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from vaekit.exercises import EXERCISES

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


def grade_copy(target: Path, exercise_id: str, report: Path) -> dict:
    """Grade one exercise of ``target`` in a pytest process; return the plain report's exercise entry."""
    ex = EXERCISES[exercise_id]
    paths = [p for p in (f"grader/{ex.track}", f"grader/hidden/{ex.track}") if (ROOT / p).is_dir()]
    env = {k: v for k, v in os.environ.items() if k not in ("VAEKIT_TARGET", "PYTEST_ADDOPTS")}
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run([sys.executable, "-m", "pytest", *paths, "-m", ex.marker, "--target", str(target),
                           "--results-plain", str(report), "-q", "-p", "no:cacheprovider", "--timeout", "120"],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    if not report.exists():
        raise AssertionError(f"grading {target} gave no report:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    rows = [e for e in json.loads(report.read_text())["exercises"] if e["id"] == exercise_id]
    if not rows:
        raise AssertionError(f"no test of Exercise {exercise_id} ran:\n{proc.stdout[-3000:]}")
    return rows[0]
