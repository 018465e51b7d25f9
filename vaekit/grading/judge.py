"""Grade one submission: lay it out in a private folder, run the judge (``pytest grader``) on it, read its scores.

1. The submission (a folder or a .zip) is checked and copied into a fresh temporary folder (:mod:`.layout`):
   no links, size and file-count caps, no deep nesting.
2. The judge, ``python -m pytest grader --target COPY --sandbox require ...``, runs in a process of its own. It
   never imports the graded code: that runs in one worker per track, each in a bubblewrap sandbox that sees only
   the copy, read-only (grader/sandbox.py). The judge writes the per-test results into the temporary folder,
   which no worker can see.
3. The scores are rebuilt here from those results (:class:`grader.scoring.Scoreboard`). If the judge does not
   finish within the total time (plus a margin for its own start-up), it is killed and every test without a
   result is reported as not graded.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..registry import EXERCISES
from ..paths import ROOT
from .layout import prepare
from .selection import exercise_ids, marker_expression, test_paths

JUDGE_MARGIN = 120.0  # seconds the judge may take beyond the graded code's time (start-up, reference data)
JUDGE_MEMORY_GB = 10.0  # address space of the judge (torch maps about 3.3 GB of it)


@dataclass
class GradingOptions:
    """How to grade. ``exercises``: IDs / track names, comma-separated (all if empty)."""

    exercises: str | None = None
    test_timeout: float = 60.0  # seconds per grader test
    total_timeout: float = 900.0  # seconds of graded code for the whole submission, split between its tracks
    memory_gb: float | None = 6.0  # address space of a worker (torch alone maps ~3.3 GB)
    output_mb: float | None = 20.0  # what the graded code may print in one test
    seed: int = 0
    flat_track: str = "numpy_ag"  # the track of loose .py files
    unsafe: bool = False  # grade without the sandbox (a plain subprocess) when bwrap is missing
    reference_seed: int | None = None  # draw the reference cases' inputs with this (secret) seed: see reference_file
    kit: Path = ROOT  # the folder holding grader/ and exercises/
    python: str = sys.executable


@dataclass
class Grading:
    """The outcome: the scores (computed by the judge), the wall time, notes for the student and the instructor."""

    board: object  # grader.scoring.Scoreboard
    seconds: float
    notes: list[str] = field(default_factory=list)
    log: str = ""  # the end of the judge's own output, for instructors
    sandboxed: bool | None = None


class GradingError(RuntimeError):
    """The grader itself could not run (not the submission's fault)."""


_REFERENCES: dict[tuple[str, int], Path] = {}  # (kit, seed) -> reference data made by this process


def reference_file(opts: GradingOptions) -> Path | None:
    """The reference data to grade with: None for the kit's own ``grader/reference.npz``; with ``reference_seed``,
    the same cases with inputs drawn from that seed, made once per process from the kit's ``solutions/``.

    The handout holds ``grader/reference.npz``: its inputs and expected outputs, so a student could return the
    expected numbers for those inputs without computing anything. Reference data drawn from a seed the students do
    not know gives no such lookup table (the tests with fresh inputs, drawn from ``--seed``, give none either).
    """
    if opts.reference_seed is None:
        return None
    key = (str(Path(opts.kit).resolve()), int(opts.reference_seed))
    if key not in _REFERENCES:
        solutions = Path(opts.kit) / "solutions"
        if not solutions.is_dir():
            raise GradingError(f"--reference-seed makes reference data from the reference solutions, and {opts.kit} "
                               "has none (grade from the instructors' copy of the kit)")
        from grader.reference import write as write_reference

        folder = Path(tempfile.mkdtemp(prefix="vaekit-reference-"))
        atexit.register(shutil.rmtree, folder, True)
        write_reference(folder / "reference.npz", solutions, int(opts.reference_seed))
        _REFERENCES[key] = folder / "reference.npz"
    return _REFERENCES[key]


def judge_env(reference: Path | None = None) -> dict:
    """The judge's environment: ours, less anything that would change what or how it grades (and with
    ``reference``, the reference data it grades against)."""
    drop = ("VAEKIT_TARGET", "VAEKIT_SANDBOX", "VAEKIT_GRADER_SEED", "VAEKIT_TRACK_TIME", "PYTEST_ADDOPTS",
            "PYTEST_PLUGINS", "VAEKIT_REFERENCE")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
    if reference is not None:
        env["VAEKIT_REFERENCE"] = str(reference)
    return env


def judge_command(code: Path, results: Path, opts: GradingOptions) -> list[str]:
    tracks = {EXERCISES[i].track for i in exercise_ids(opts.exercises)}
    expression = marker_expression(opts.exercises)
    args = [opts.python, "-m", "pytest", *test_paths(opts.exercises, opts.kit),
            *(["-m", expression] if expression else []),
            "--target", str(code), "--results-plain", str(results), "--grader-seed", str(opts.seed),
            "--timeout", str(opts.test_timeout), "--track-time", str(opts.total_timeout / max(1, len(tracks))),
            "--sandbox", "off" if opts.unsafe else "require",
            "-p", "no:cacheprovider", "-q", "--no-header", "-rN", "--show-capture=no"]
    if opts.memory_gb:
        args += ["--worker-memory-mb", str(int(opts.memory_gb * 1024))]
    if opts.output_mb:
        args += ["--worker-output-mb", str(int(opts.output_mb))]
    return args


def _limit_judge() -> None:
    """In the judge's process before it starts: a cap on its memory, whatever a worker sends it."""
    import resource

    limit = int(JUDGE_MEMORY_GB * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _run_judge(argv: list[str], opts: GradingOptions, log: Path) -> tuple[int | None, str]:
    """Run the judge; ``(exit status or None if it was killed for time, the end of its output)``."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, cwd=opts.kit, env=judge_env(reference_file(opts)), stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_limit_judge)
        try:
            status = proc.wait(timeout=opts.total_timeout + JUDGE_MARGIN)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            status = None
    return status, log.read_bytes()[-4000:].decode(errors="replace")


def board_from_results(submission, data: dict):
    """A Scoreboard rebuilt from the judge's plain results (``--results-plain``)."""
    from grader.scoring import Scoreboard

    board = Scoreboard(Path(submission))
    for exercise in data["exercises"]:
        for test in exercise["tests"]:
            board.add_test(test["nodeid"], EXERCISES[exercise["id"]], bool(test["hidden"]), bool(test.get("core")))
            board.record(test["nodeid"], test["verdict"], test["message"], float(test.get("duration") or 0.0))
    return board


def grade(submission: str | Path, opts: GradingOptions | None = None) -> Grading:
    """Grade ``submission`` (a folder or a .zip): the judge in its own process, the graded code sandboxed."""
    opts = opts or GradingOptions()
    started = time.monotonic()
    if not opts.unsafe:
        from grader.sandbox import bwrap_works

        ok, why = bwrap_works()
        if not ok:
            raise GradingError(f"cannot grade in a sandbox: {why}. Install bubblewrap, or pass --unsafe to run the "
                               "graded code in a plain subprocess (only for code you trust)")
    with tempfile.TemporaryDirectory(prefix="vaekit-grade-") as tmp_name:
        tmp = Path(tmp_name)
        code, notes = prepare(submission, tmp / "work", opts.flat_track, stubs=opts.kit / "exercises")
        results = tmp / "results.json"
        status, log = _run_judge(judge_command(code, results, opts), opts, tmp / "judge.log")
        if status is None:
            notes.append(f"the grading of this submission was stopped after {opts.total_timeout + JUDGE_MARGIN:g} s")
        elif status not in (0, 1):
            notes.append(f"the grader stopped early (exit status {status}); the tests it did not run count as errors")
        if not results.exists():
            raise GradingError(f"the grader did not finish (exit status {status}); its output ends with:\n{log}")
        data = json.loads(results.read_text())
    board = board_from_results(submission, data)
    if opts.unsafe:
        notes.append("graded without the sandbox (--unsafe)")
    return Grading(board, time.monotonic() - started, notes, log, data.get("sandboxed"))
