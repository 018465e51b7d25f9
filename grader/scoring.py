"""Verdicts of single grader tests and the per-exercise scores.

Points (:func:`test_scores`): an exercise's *core* tests (marker ``core``: its values against the reference,
and the contracts without which nothing else counts) carry ``CORE_SHARE`` of its points, its other tests the
rest, each group split evenly, hidden tests included. An exercise whose core tests all pass earns the core share
plus the shares of its other tests that pass (partial credit for what is genuinely right, e.g. correct values but
NaN gradients at one point). An exercise with a failing core test keeps at most ``WRONG_CAP`` of its points,
however many of its other tests pass. An exercise without core tests splits its points evenly. A test whose student code still raises NotImplementedError is
"not attempted", not a crash. The score table and every report (see :mod:`grader.reports`) are built
from a :class:`Scoreboard`, in the pytest process or, when a submission is graded in a sandbox, in the
parent process from the per-test records the child sent.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from vaekit.registry import EXERCISES, USES, Exercise

VERDICTS = ("passed", "failed", "error", "timeout", "not attempted")
MESSAGE_LIMIT = 3000  # characters of one test's message kept in reports
TIMEOUT_PREFIX = "Timeout (>"  # pytest-timeout's failure message starts with this
CORE_SHARE = 0.6  # of an exercise's points carried by its core tests
# An exception that, in one exercise, points to one mistake: (exercise ID, exception type) -> hint.
ERROR_HINTS = {
    ("7.1", "ZeroDivisionError"): "the bias corrections 1 - b1^t and 1 - b2^t are 0 only at t = 0: count t from 1 "
                                  "(increment the step count before using it)",
}
WRONG_CAP = 0.2  # of an exercise's points kept at most when a core test fails


_CONTROL = {c: None for c in range(32) if c not in (9, 10)} | {127: None} | {c: None for c in range(0x80, 0xA0)}


def printable(text: str) -> str:
    """``text`` without control characters (terminal escape sequences included), newlines and tabs kept: a
    message may carry text of the graded code's, and must not be able to redraw the reader's terminal."""
    return str(text).translate(_CONTROL)


def cap(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """``text`` cut to ``limit`` characters, saying how much was cut."""
    text = str(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n  ... ({len(text) - limit:,} more characters cut)"


@dataclass
class TestResult:
    nodeid: str
    exercise: Exercise
    hidden: bool = False
    core: bool = False
    verdict: str = "not run"
    message: str = ""
    duration: float = 0.0

    @property
    def name(self) -> str:
        """The test function's name (with its parameters, if any)."""
        return self.nodeid.split("::")[-1]


@dataclass
class Scoreboard:
    target: Path
    tests: dict[str, TestResult] = field(default_factory=dict)

    def add_test(self, nodeid: str, exercise: Exercise, hidden: bool = False, core: bool = False) -> None:
        self.tests[nodeid] = TestResult(nodeid, exercise, hidden, core)

    def exercise_of(self, nodeid: str) -> Exercise:
        return self.tests[nodeid].exercise

    def record(self, nodeid: str, verdict: str, message: str, duration: float = 0.0) -> None:
        if verdict not in VERDICTS:
            raise ValueError(f"unknown verdict {verdict!r}; one of {VERDICTS}")
        result = self.tests[nodeid]
        if result.verdict in ("not run", "passed"):  # a teardown error cannot undo a failure
            result.verdict, result.message = verdict, cap(printable(message))
        result.duration += duration

    def close(self, exitstatus: int = 0) -> None:
        """At the end of a grading run: a test that never ran counts as an error (it earns nothing), so that
        stopping the grader early can never leave an exercise with fewer tests, or fewer points to earn."""
        for result in self.tests.values():
            if result.verdict == "not run":
                result.verdict = "error"
                result.message = (f"Exercise {result.exercise.id}: not graded: the grader stopped before this test "
                                  f"ran (exit status {int(exitstatus)})")

    def has_results(self) -> bool:
        return any(r.verdict != "not run" for r in self.tests.values())

    def per_exercise(self) -> list[dict]:
        """One row per exercise that had tests run: ID, title, points earned and possible, status, tests.

        Each row's ``tests`` lists the exercise's results, visible tests first; ``weights`` and ``scores`` give,
        per test (same order), the points it is worth and the points it earned (see :func:`test_scores`).
        """
        rows = []
        for ex in EXERCISES.values():
            results = [r for r in self.tests.values() if r.exercise is ex and r.verdict != "not run"]
            if not results:
                continue
            results.sort(key=lambda r: r.hidden)
            weights, scores = test_scores(ex.points, results)
            rows.append({
                "id": ex.id, "title": ex.title, "marker": ex.marker, "track": ex.track, "docs": ex.docs_page,
                "score": round(sum(scores), 4), "max_score": ex.points, "weights": weights, "scores": scores,
                "status": _status(results), "tests": results,
            })
        _note_failing_dependencies(rows)
        return rows

    def total(self) -> tuple[float, float]:
        """``(score, max_score)`` over the exercises that had tests run."""
        rows = self.per_exercise()
        return round(sum(r["score"] for r in rows), 4), sum(r["max_score"] for r in rows)

    def all_passed(self) -> bool:
        ran = [r for r in self.tests.values() if r.verdict != "not run"]
        return bool(ran) and all(r.verdict == "passed" for r in ran)

    def table(self) -> str:
        rows = self.per_exercise()
        if not rows:
            return f"graded: {self.target}\nno grader test ran"
        width = max(len(r["title"]) for r in rows)
        lines = [f"graded: {self.target}", f"{'ID':<6} {'exercise':<{width}}  {'points':>11}  status"]
        for r in rows:
            lines.append(f"{r['id']:<6} {r['title']:<{width}}  {r['score']:>5.2f} / {r['max_score']:<3g}  {r['status']}")
        total, possible = self.total()
        lines.append(f"{'':<6} {'total':<{width}}  {total:>5.2f} / {possible:<3g}")
        return "\n".join(lines)


def test_scores(points: float, results: list[TestResult]) -> tuple[list[float], list[float]]:
    """``(weights, scores)`` of an exercise's tests under the scoring rule of this module's docstring."""
    core = [r.core for r in results]
    n_core, n_other = sum(core), len(results) - sum(core)
    if n_core == 0 or n_other == 0:
        weights = [points / len(results)] * len(results)
    else:
        weights = [points * CORE_SHARE / n_core if c else points * (1 - CORE_SHARE) / n_other for c in core]
    passed = [r.verdict == "passed" for r in results]
    scores = [w if p else 0.0 for w, p in zip(weights, passed)]
    if n_core and not all(p for p, c in zip(passed, core) if c):
        earned = sum(scores)
        factor = min(1.0, WRONG_CAP * points / earned) if earned > 0 else 0.0
        scores = [s * factor for s in scores]
    return weights, scores


def _note_failing_dependencies(rows: list[dict]) -> None:
    """Add "uses 3.1, which fails: fix that first" to a failing exercise whose prerequisites fail too."""
    status = {r["id"]: r["status"] for r in rows}
    for row in rows:
        if row["status"] in ("passed", "not attempted"):
            continue
        failing = [d for d in USES.get(row["id"], ()) if status.get(d, "passed") != "passed"]
        if failing:
            verb = "fails" if len(failing) == 1 else "fail"
            row["status"] += f"; uses {', '.join(failing)}, which {verb}: fix that first"


def _status(results: list[TestResult]) -> str:
    bad = [r for r in results if r.verdict != "passed"]
    if not bad:
        return "passed"
    if all(r.verdict == "not attempted" for r in results):
        return "not attempted"
    kinds = sorted({r.verdict for r in bad} - {"failed"})
    extra = f" ({', '.join(kinds)})" if kinds else ""
    return f"{len(bad)} of {len(results)} tests failed{extra}"


def _chain(exc: BaseException):
    """The exception and its causes/contexts, outermost first."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _special(exc: BaseException, exercise: Exercise) -> tuple[str, str] | None:
    """Verdicts of outcomes that are about how the code ran rather than what it computed."""
    from .outcomes import RemoteExit, WorkerProblem

    text = str(exc)
    if isinstance(exc, WorkerProblem):
        return exc.verdict, f"Exercise {exercise.id}: {text}"
    if isinstance(exc, pytest.fail.Exception) and text.startswith(TIMEOUT_PREFIX):
        seconds = text[len(TIMEOUT_PREFIX):].split("s)")[0]
        return "timeout", (f"Exercise {exercise.id}: the grader did not finish this test within {seconds} s "
                           "(the worker did not answer)")
    if isinstance(exc, RemoteExit):
        return "error", (f"Exercise {exercise.id}: your code called sys.exit({text}) (or exit()); a function "
                         "must return its result, never end the program")
    if isinstance(exc, MemoryError):
        return "error", (f"Exercise {exercise.id}: your code ran out of memory (MemoryError): it allocates far more "
                         "than the task needs")
    if isinstance(exc, OSError) and exc.errno == errno.EFBIG:
        return "error", (f"Exercise {exercise.id}: your code printed (or wrote) more output than the grader keeps; "
                         "remove the prints from your functions")
    return None


def verdict_of(excinfo, exercise: Exercise, target: Path, hidden: bool = False) -> tuple[str, str]:
    """Classify a test outcome: ``(verdict, message)``; the message ends with the exercise's docs page.

    Exceptions of the graded code come from the worker (grader/remote.py) with their type, text and line; an
    exception of the judge's own (a result it could not read) is named without any grader source, so that a
    hidden test's code never reaches the student.
    """
    from .outcomes import RemoteError, RemoteImportError

    if excinfo is None:
        return "passed", ""
    exc = excinfo.value
    docs = f"\n  read: {exercise.docs_page}"
    where = getattr(exc, "where", "") or ""
    at = f"\n  at {where}" if where else ""
    if excinfo.errisinstance(pytest.skip.Exception):
        return "failed", cap(f"skipped: {exc}")
    special = _special(exc, exercise)
    if special is not None:
        return special[0], special[1] + at + docs
    for link in _chain(exc):
        if isinstance(link, NotImplementedError):
            text = cap(str(link))
            if f"Exercise {exercise.id} " in text or f"Exercise {exercise.id}:" in text or not text.startswith("Exercise"):
                return "not attempted", f"not attempted: {text or 'NotImplementedError'}"
            words = text.split(" ")
            other = words[1].rstrip(":") if len(words) > 1 else "another exercise"
            return "not attempted", f"Exercise {exercise.id} needs Exercise {other} first: {text}"
    if isinstance(exc, (pytest.fail.Exception, AssertionError)):
        return "failed", cap(f"Exercise {exercise.id}: {exc}") + docs
    if isinstance(exc, RemoteImportError):
        return "error", cap(f"Exercise {exercise.id}: {exc}") + docs
    if isinstance(exc, RemoteError):
        hint = ERROR_HINTS.get((exercise.id, exc.type_name))
        hint = f"\n  hint: {hint}" if hint else ""
        raised = f"Exercise {exercise.id}: your code raised {exc.type_name}: {cap(exc, 1000)}{at}{hint}"
        return "error", cap(raised) + docs
    return "error", cap(f"Exercise {exercise.id}: the grader could not check your result ({type(exc).__name__}: "
                        f"{cap(exc, 500)}); check that it has the type and shape the docstring says") + docs
