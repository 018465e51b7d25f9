"""Grade one submission in a separate process whose scores the parent computes.

1. The submission is laid out like ``exercises/`` in a fresh temporary folder (:mod:`.layout`).
2. ``python -m vaekit.grading.child`` (resource limits, then ``pytest grader --target ...``) runs in a session
   of its own, one thread per library, with a fresh key for its signed per-test records (grader/records.py).
3. The parent watches the records. A test that overruns its time limit and ignores pytest-timeout's
   request to stop is killed with its whole process group; grading then resumes in a new process with
   the tests that have not run. The same happens when the process dies (os._exit, a crash, the memory limit).
4. The parent builds the scores itself (grader.scoring.Scoreboard) from the verified verdicts. Records that
   do not verify mean the submission wrote into them: it gets no points and a note asking for a review.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..exercises import EXERCISES
from ..stubs import ROOT
from .layout import prepare
from .selection import marker_expression, test_paths

POLL = 0.1  # seconds between looks at the records
MAX_RUNS = 50  # grading processes per submission at most (each restart finishes at least one test)


@dataclass
class GradingOptions:
    """How to grade. ``exercises``: IDs / track names, comma-separated (all if empty)."""

    exercises: str | None = None
    test_timeout: float = 60.0  # seconds per grader test
    total_timeout: float = 900.0  # seconds for the whole submission
    memory_gb: float | None = 6.0  # address space of the grading process (torch alone maps ~3.3 GB)
    output_mb: float | None = 256.0  # largest file (captured output included) the graded code may write
    seed: int = 0
    flat_track: str = "numpy_ag"  # the track of loose .py files
    kit: Path = ROOT  # the folder holding grader/ and exercises/
    python: str = sys.executable


@dataclass
class Grading:
    """The outcome: the scores (computed here), the wall time, notes for the student and for the instructor."""

    board: object  # grader.scoring.Scoreboard
    seconds: float
    notes: list[str] = field(default_factory=list)
    log: str = ""  # the end of the grading process's own output, for instructors


class GradingError(RuntimeError):
    """The grader itself could not run (not the submission's fault)."""


def _grace(test_timeout: float) -> float:
    """How long past its limit a test may take to stop by itself before the process is killed."""
    return min(10.0, max(2.0, test_timeout))


def _kill(proc: subprocess.Popen) -> None:
    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    except (ProcessLookupError, PermissionError):
        pass


def _events(path: Path, key: bytes) -> list[dict]:
    from grader.records import read_records

    return read_records(path.read_text(errors="replace"), key) if path.exists() else []


def _running(events: list[dict]) -> str | None:
    """The node ID of the test that started and has no result yet."""
    current = None
    for e in events:
        if e["event"] == "start":
            current = e["nodeid"]
        elif e["event"] == "result" and e["nodeid"] == current:
            current = None
    return current


def _child_env(records: Path, key_file: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("VAEKIT_TARGET", "PYTEST_ADDOPTS", "PYTEST_PLUGINS")}
    env.update(VAEKIT_RECORDS=str(records), VAEKIT_RECORDS_KEY=str(key_file), OMP_NUM_THREADS="1",
               MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1", PYTHONHASHSEED="0")
    return env


def _run(selection: list[str], code: Path, opts: GradingOptions, tmp: Path, run: int, deadline: float):
    """One grading process: ``(events, stop)``; stop is None, "test" (a test would not stop) or "total"."""
    from grader.records import RecordError

    key = secrets.token_bytes(32)
    key_file, records, log = tmp / f"key{run}", tmp / f"records{run}.jsonl", tmp / f"log{run}.txt"
    key_file.write_bytes(key)
    os.chmod(key_file, 0o600)
    child = [opts.python, "-m", "vaekit.grading.child"]
    if opts.memory_gb:
        child += ["--memory-gb", str(opts.memory_gb)]
    if opts.output_mb:
        child += ["--output-mb", str(opts.output_mb)]
    pytest_args = [*selection, "--target", str(code), "--grader-seed", str(opts.seed), "--timeout",
                   str(opts.test_timeout), "-p", "no:cacheprovider", "-q", "--no-header", "-rN", "--show-capture=no"]
    with open(log, "wb") as out:
        proc = subprocess.Popen([*child, "--", *pytest_args], cwd=opts.kit, env=_child_env(records, key_file),
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=os.name == "posix")
    stop, current, since = None, None, time.monotonic()
    try:
        while proc.poll() is None:
            time.sleep(POLL)
            running = _running(_events(records, key))
            now = time.monotonic()
            if running != current:
                current, since = running, now
            if current is not None and now - since > opts.test_timeout + _grace(opts.test_timeout):
                stop = "test"
            elif now > deadline:
                stop = "total"
            if stop:
                _kill(proc)
                break
        proc.wait()
        events = _events(records, key)
    except RecordError:
        _kill(proc)
        proc.wait()
        raise
    finally:
        key_file.unlink(missing_ok=True)
    return events, stop, log.read_bytes()[-4000:].decode(errors="replace")


def _crash_message(exercise_id: str, stop: str | None, opts: GradingOptions) -> tuple[str, str]:
    if stop == "test":
        return "timeout", (f"Exercise {exercise_id}: your code did not finish within {opts.test_timeout:g} s and did "
                           "not stop when asked (an endless loop that catches every exception?); it was killed")
    if stop == "total":
        return "timeout", (f"Exercise {exercise_id}: the time for grading this submission ({opts.total_timeout:g} s) "
                           "ran out during this test")
    return "error", (f"Exercise {exercise_id}: the grading process ended during this test: your code ended Python "
                     "(os._exit, KeyboardInterrupt, pytest.exit), crashed it, or went over the memory limit")


def _validate(tests) -> list[dict]:
    ok = isinstance(tests, list) and all(
        isinstance(t, dict) and isinstance(t.get("nodeid"), str) and t["nodeid"].startswith("grader/")
        and t.get("exercise") in EXERCISES for t in tests)
    if not ok:
        raise GradingError("the grading process reported tests that the grader does not have")
    return tests


def grade(submission: str | Path, opts: GradingOptions | None = None) -> Grading:
    """Grade ``submission`` (a folder or a .zip) in separate processes and return the scores."""
    from grader.records import RecordError
    from grader.scoring import Scoreboard

    opts = opts or GradingOptions()
    started = time.monotonic()
    deadline = started + opts.total_timeout
    expression = marker_expression(opts.exercises)
    with tempfile.TemporaryDirectory(prefix="vaekit-grade-") as tmp_name:
        tmp = Path(tmp_name)
        code, notes = prepare(submission, tmp, opts.flat_track, stubs=opts.kit / "exercises")
        selection = [*test_paths(opts.exercises, opts.kit), *(["-m", expression] if expression else [])]
        master, results, log = None, {}, ""
        for run in range(MAX_RUNS):
            try:
                events, stop, log = _run(selection, code, opts, tmp, run, deadline)
            except RecordError as err:
                collected = next((e for e in err.events if e["event"] == "collected"), None)
                if master is None and collected is not None:
                    master = _validate(collected["tests"])
                return _tampered(submission, master, started, notes, str(err))
            collected = next((e for e in events if e["event"] == "collected"), None)
            if master is None:
                if collected is None:
                    raise GradingError(f"the grader did not start; its output ends with:\n{log}")
                master = _validate(collected["tests"])
            before = len(results)
            for e in events:
                if e["event"] == "result":
                    results[e["nodeid"]] = (e["verdict"], e["message"], e.get("duration", 0.0))
            crashed = _running(events)
            if crashed is not None:
                exercise = next(t["exercise"] for t in master if t["nodeid"] == crashed)
                results[crashed] = (*_crash_message(exercise, stop, opts), 0.0)
            pending = [t["nodeid"] for t in master if t["nodeid"] not in results]
            if not pending:
                break
            if stop == "total" or len(results) == before:
                why = "the time for grading this submission ran out" if stop == "total" else "the grader could not run it"
                for nodeid in pending:
                    results[nodeid] = ("timeout" if stop == "total" else "error", f"not graded: {why}", 0.0)
                break
            notes.append(f"grading went on in a new process after {crashed or 'a crash'}")
            selection = pending
        board = Scoreboard(Path(submission))
        for t in master:
            board.add_test(t["nodeid"], EXERCISES[t["exercise"]], bool(t.get("hidden")))
            verdict, message, duration = results.get(t["nodeid"], ("error", "not graded", 0.0))
            board.record(t["nodeid"], verdict, message, float(duration or 0.0))
    return Grading(board, time.monotonic() - started, notes, log)


def _tampered(submission, master, started, notes, why) -> Grading:
    from grader.scoring import Scoreboard

    if master is None:
        raise GradingError(f"the grading records could not be read: {why}")
    board = Scoreboard(Path(submission))
    for t in master:
        board.add_test(t["nodeid"], EXERCISES[t["exercise"]], bool(t.get("hidden")))
        board.record(t["nodeid"], "error", "the grading records were written to by the graded code; this submission "
                     "gets no points until an instructor reviews it")
    return Grading(board, time.monotonic() - started, [*notes, f"records rejected: {why}"])
