"""Verdicts of single grader tests and the per-exercise score table.

An exercise's points are split evenly over its tests that ran (partial credit); a test earns its share only
if it passed. A test whose student code still raises NotImplementedError is "not attempted", not a crash.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from vaekit.exercises import EXERCISES, Exercise

VERDICTS = ("passed", "failed", "error", "not attempted")


@dataclass
class TestResult:
    nodeid: str
    exercise: Exercise
    verdict: str = "not run"
    message: str = ""


@dataclass
class Scoreboard:
    target: Path
    tests: dict[str, TestResult] = field(default_factory=dict)

    def add_test(self, nodeid: str, exercise: Exercise) -> None:
        self.tests[nodeid] = TestResult(nodeid, exercise)

    def exercise_of(self, nodeid: str) -> Exercise:
        return self.tests[nodeid].exercise

    def record(self, nodeid: str, verdict: str, message: str) -> None:
        result = self.tests[nodeid]
        if result.verdict in ("not run", "passed"):  # a teardown error cannot undo a failure
            result.verdict, result.message = verdict, message

    def has_results(self) -> bool:
        return any(r.verdict != "not run" for r in self.tests.values())

    def per_exercise(self) -> list[dict]:
        """One row per exercise that had tests run: ID, title, points earned and possible, status, failures."""
        rows = []
        for ex in EXERCISES.values():
            results = [r for r in self.tests.values() if r.exercise is ex and r.verdict != "not run"]
            if not results:
                continue
            passed = sum(r.verdict == "passed" for r in results)
            if passed == len(results):
                status = "passed"
            elif all(r.verdict == "not attempted" for r in results):
                status = "not attempted"
            else:
                status = f"{len(results) - passed} of {len(results)} tests failed"
            rows.append({
                "id": ex.id, "title": ex.title, "marker": ex.marker, "docs": ex.docs_page,
                "score": round(ex.points * passed / len(results), 4), "max_score": ex.points,
                "status": status, "tests": results,
            })
        return rows

    def table(self) -> str:
        rows = self.per_exercise()
        width = max(len(r["title"]) for r in rows)
        lines = [f"graded: {self.target}", f"{'ID':<6} {'exercise':<{width}}  {'points':>11}  status"]
        for r in rows:
            lines.append(f"{r['id']:<6} {r['title']:<{width}}  {r['score']:>5.2f} / {r['max_score']:<3g}  {r['status']}")
        total = sum(r["score"] for r in rows)
        possible = sum(r["max_score"] for r in rows)
        lines.append(f"{'':<6} {'total':<{width}}  {total:>5.2f} / {possible:<3g}")
        return "\n".join(lines)


def _chain(exc: BaseException):
    """The exception and its causes/contexts, outermost first."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _student_frame(tb, target: Path) -> str:
    """``file:line in function`` of the deepest traceback frame inside the graded folder, or ''."""
    where = ""
    for frame in traceback.extract_tb(tb):
        path = Path(frame.filename)
        if path.is_relative_to(target):
            where = f"{path.relative_to(target.parent)}:{frame.lineno} in {frame.name}"
    return where


def verdict_of(excinfo, exercise: Exercise, target: Path) -> tuple[str, str]:
    """Classify a test outcome: ``(verdict, message)``; the message ends with the exercise's docs page."""
    if excinfo is None:
        return "passed", ""
    exc = excinfo.value
    docs = f"\n  read: {exercise.docs_page}"
    if excinfo.errisinstance(pytest.skip.Exception):
        return "failed", f"skipped: {exc}"
    for link in _chain(exc):
        if isinstance(link, NotImplementedError):
            text = str(link)
            if f"Exercise {exercise.id} " in text or f"Exercise {exercise.id}:" in text or not text.startswith("Exercise"):
                return "not attempted", f"not attempted: {text or 'NotImplementedError'}"
            other = text.split(" ")[1]
            return "not attempted", f"Exercise {exercise.id} needs Exercise {other} first: {text}"
    if isinstance(exc, (pytest.fail.Exception, AssertionError)):
        return "failed", f"Exercise {exercise.id}: {exc}{docs}"
    where = _student_frame(excinfo.tb, target)
    if where:
        return "error", f"Exercise {exercise.id}: your code raised {type(exc).__name__}: {exc}\n  at {where}{docs}"
    tb = "".join(traceback.format_exception(type(exc), exc, excinfo.tb, limit=-3))
    return "error", f"Exercise {exercise.id}: {type(exc).__name__}: {exc}\n{tb}{docs}"
