"""The grader's pytest plugin: which code is graded, per-exercise markers, verdicts, seeds, guards, reports.

    pytest grader                        # grades exercises/
    pytest grader --target solutions     # or VAEKIT_TARGET=path/to/submission pytest grader
    pytest grader -m ex2_1               # one exercise
    pytest grader --results-json results.json --results-plain scores.json --results-csv scores.csv
    pytest grader --grader-seed 7        # or VAEKIT_GRADER_SEED=7: the seed of every freshly drawn input
    pytest grader --seed-report s.json   # which tests depend on the seed; then rerun those with
    pytest NODEIDS --grader-seeds 200    # each of them under 200 seeds (a check of the grader itself)

Randomness: a grader test that draws fresh inputs takes the fixture ``rng`` (a NumPy Generator) or
``torch_generator``; both derive from the grader seed and the test's name, and the global generators are
reseeded the same way before every test. Hidden tests live in ``grader/hidden/`` (see its ``__init__.py``).
Every test has a time limit (``VAEKIT_TEST_TIMEOUT`` seconds, default 60, unless ``--timeout`` is given).

Judge and worker: this process (the judge) holds the reference data, compares, scores and writes every report;
it never imports the graded code. ``np_track`` / ``torch_track`` are proxies (grader/remote.py): the graded
code runs in one worker process per track, in a bubblewrap sandbox when bwrap works (grader/sandbox.py).
``--sandbox require`` refuses to grade without it, ``--sandbox off`` never uses it (VAEKIT_SANDBOX).
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from vaekit.registry import BY_MARKER, EXERCISES
from vaekit.codefolder import SubmissionError, resolve_target

from grader import seeds
from grader.remote import RemoteTrack, Workers
from grader.sandbox import MODES, SUBMISSION, Limits, bwrap_works
from grader.scoring import Scoreboard, cap, verdict_of

GRADER_DIR = Path(__file__).resolve().parent
HIDDEN_DIR = GRADER_DIR / "hidden"
DEFAULT_TIMEOUT = 60.0  # seconds per grader test
DEFAULT_TRACK_TIME = 600.0  # seconds of worker time per track
PRINT_EXCERPT = 500  # characters of a failing test's printed output quoted in its message
SECTION_LIMIT = 2000  # characters of captured output kept in pytest's own report sections

_BOARD = pytest.StashKey[Scoreboard]()
_STATE = pytest.StashKey[dict]()


def pytest_addoption(parser):
    group = parser.getgroup("vaekit", "VAE course kit grader")
    group.addoption(
        "--target",
        default=os.environ.get("VAEKIT_TARGET", "exercises"),
        help="code to grade: 'exercises' (default), 'solutions', or a folder laid out like exercises/ "
        "(also from the environment variable VAEKIT_TARGET)",
    )
    group.addoption("--results-json", metavar="PATH", help="write Gradescope's results.json here")
    group.addoption("--results-plain", metavar="PATH", help="write a plain JSON of the scores per exercise here")
    group.addoption("--results-csv", metavar="PATH", help="write a CSV of the scores per exercise here")
    group.addoption(
        "--grader-seed", type=int, default=int(os.environ.get("VAEKIT_GRADER_SEED", "0")),
        help="seed of every freshly drawn input (also VAEKIT_GRADER_SEED; default 0)",
    )
    group.addoption(
        "--grader-seeds", type=int, default=0, metavar="N",
        help="run every selected test under N seeds, from --grader-seed on (checks the grader itself)",
    )
    group.addoption("--seed-report", metavar="PATH",
                    help="write the node IDs of the tests whose inputs depend on the grader seed here (JSON)")
    group.addoption(
        "--sandbox", choices=MODES, default=os.environ.get("VAEKIT_SANDBOX", "auto"),
        help="run the graded code in a bubblewrap sandbox: auto (if bwrap works, default), require (or refuse to "
        "grade), off (a plain subprocess). Also VAEKIT_SANDBOX",
    )
    group.addoption("--track-time", type=float, default=float(os.environ.get("VAEKIT_TRACK_TIME", DEFAULT_TRACK_TIME)),
                    metavar="S", help="seconds the graded code of one track may run in all (default 600)")
    group.addoption("--worker-memory-mb", type=int, default=6144, metavar="MB",
                    help="address-space limit of a worker (default 6144; torch alone maps about 3,300)")
    group.addoption("--worker-output-mb", type=int, default=20, metavar="MB",
                    help="output the graded code may print in one test before its worker is stopped (default 20)")


def pytest_configure(config):
    for ex in EXERCISES.values():
        config.addinivalue_line("markers", f"{ex.marker}: Exercise {ex.id}, {ex.title} ({ex.points:g} points)")
    config.addinivalue_line("markers", "core: a core test of its exercise (see grader/scoring.py: a failing core test "
                            "caps the exercise's points)")
    try:
        target = resolve_target(config.getoption("--target"))
    except SubmissionError as err:
        raise pytest.UsageError(str(err)) from None
    mode = config.getoption("--sandbox")
    if mode == "require" and not bwrap_works()[0]:
        raise pytest.UsageError(f"--sandbox require: {bwrap_works()[1]}")
    config.stash[_BOARD] = Scoreboard(target)
    timeout = float(config.getoption("timeout", None) or os.environ.get("VAEKIT_TEST_TIMEOUT", DEFAULT_TIMEOUT))
    limits = Limits(memory_mb=config.getoption("--worker-memory-mb"),
                    cpu_s=int(2 * config.getoption("--track-time")) + 60)
    workers = Workers(target, mode, limits, test_timeout=timeout, track_time=config.getoption("--track-time"))
    for worker_track in ("numpy_ag", "pytorch"):
        workers.get(worker_track).output_limit = config.getoption("--worker-output-mb") * 2**20
    config.stash[_STATE] = {"workers": workers, "started": time.monotonic(),
                            "seed_report": [] if config.getoption("--seed-report") else None}
    _configure_quiet(config)
    _start_workers(workers, _tracks_asked_for(config))


def _tracks_asked_for(config) -> set[str]:
    """The tracks whose tests the command line can select: from the paths given and the exercise markers of ``-m``
    (a guess made before collection, so that the workers import their libraries while the tests are collected)."""
    tracks = set()
    for arg in config.args or [str(GRADER_DIR)]:
        path = Path(arg.split("::")[0]).resolve()
        named = {t for t in ("numpy_ag", "pytorch") if t in path.parts}
        inside = GRADER_DIR.is_relative_to(path) or path.is_relative_to(GRADER_DIR)
        tracks |= named or ({"numpy_ag", "pytorch"} if inside else set())
    words = set(re.findall(r"\w+", config.getoption("markexpr") or ""))
    if words and words <= set(BY_MARKER) | {"or", "and"}:  # -m ex2_1 or ext1_1: just those exercises' tracks
        tracks &= {BY_MARKER[w].track for w in words if w in BY_MARKER}
    return tracks


def _start_workers(workers, tracks) -> None:
    for track in sorted(tracks):
        worker = workers.get(track)
        if not worker.alive():
            try:
                worker.start()
            except Exception:  # noqa: BLE001 - the first test that needs it will start it and report the problem
                pass




def pytest_generate_tests(metafunc):
    n = metafunc.config.getoption("--grader-seeds")
    if n > 0 and "grader_seed" in metafunc.fixturenames:
        base = metafunc.config.getoption("--grader-seed")
        metafunc.parametrize("grader_seed", range(base, base + n), ids=lambda s: f"seed{s}")


def pytest_collection_modifyitems(config, items):
    board = config.stash[_BOARD]
    timeout = float(os.environ.get("VAEKIT_TEST_TIMEOUT", DEFAULT_TIMEOUT))
    timed = config.pluginmanager.hasplugin("timeout")  # pytest-timeout
    for item in items:
        markers = [m.name for m in item.iter_markers() if m.name in BY_MARKER]
        if len(markers) != 1:
            raise pytest.UsageError(f"grader test {item.nodeid} needs exactly one exercise marker, has {markers}")
        if timed and item.get_closest_marker("timeout") is None:
            # The test's own limit is enforced by the judge on the worker (grader/remote.py), which it then stops;
            # pytest-timeout is only a backstop for the judge itself.
            item.add_marker(pytest.mark.timeout(2 * timeout + 60))
    # The NumPy track's tests first, hidden ones included: its worker is ready within a fraction of a second,
    # while the PyTorch worker imports torch and takes its first optimiser step meanwhile (grader/worker).
    items.sort(key=lambda item: TRACK_ORDER.index(_track_of(item)))


TRACK_ORDER = ("numpy_ag", "pytorch")


def _track_of(item) -> str:
    return next(BY_MARKER[m.name].track for m in item.iter_markers() if m.name in BY_MARKER)


def pytest_collection_finish(session):
    """Register the tests that will run (after ``-m`` / ``-k`` deselection): every one of them counts."""
    board = session.config.stash[_BOARD]
    tracks = set()
    for item in session.items:
        marker = next(m.name for m in item.iter_markers() if m.name in BY_MARKER)
        hidden = Path(item.path).resolve().is_relative_to(HIDDEN_DIR)
        board.add_test(item.nodeid, BY_MARKER[marker], hidden, item.get_closest_marker("core") is not None)
        tracks.add(BY_MARKER[marker].track)
    workers = session.config.stash[_STATE]["workers"]
    for track, worker in list(workers.workers.items()):
        if track not in tracks:  # started for nothing: no test of its track was selected
            worker.stop()
            del workers.workers[track]
    _start_workers(workers, tracks)


# --- seeds -----------------------------------------------------------------------------------------------
def _seed_of(item) -> int:
    callspec = getattr(item, "callspec", None)
    if callspec is not None and "grader_seed" in callspec.params:
        return callspec.params["grader_seed"]
    return item.config.getoption("--grader-seed")


@pytest.fixture
def grader_seed(pytestconfig) -> int:
    """The grader seed (``--grader-seed`` / VAEKIT_GRADER_SEED); parametrised by ``--grader-seeds``."""
    return pytestconfig.getoption("--grader-seed")


@pytest.fixture(autouse=True)
def _every_test_has_a_seed(grader_seed):
    """Puts ``grader_seed`` into every test, so that ``--grader-seeds`` can parametrise any of them."""


@pytest.fixture
def rng(grader_seed) -> np.random.Generator:
    """A NumPy Generator for this test's fresh inputs, from the grader seed and the test's name."""
    return seeds.numpy_rng()


@pytest.fixture
def torch_generator(grader_seed):
    """A ``torch.Generator`` for this test's fresh inputs, from the grader seed and the test's name."""
    return seeds.torch_generator()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    seed = _seed_of(item)
    seeds.start_test(seed, item.nodeid)
    state = item.config.stash[_STATE]
    state["workers"].begin_test((seed * 1_000_003 + seeds.stream_of(item.nodeid)) % 2**32)


def _note_seed_use(item) -> None:
    state = item.config.stash[_STATE]
    if state["seed_report"] is not None and seeds.used():
        state["seed_report"].append(item.nodeid)


# --- the graded code ---------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def target(pytestconfig):
    """The folder being graded."""
    return pytestconfig.stash[_BOARD].target


@pytest.fixture(scope="session")
def np_track(pytestconfig):
    """The NumPy/autograd track of the graded code, in its worker: ``np_track.kl.kl_to_standard_normal``."""
    return RemoteTrack(pytestconfig.stash[_STATE]["workers"], "numpy_ag")


@pytest.fixture(scope="session")
def torch_track(pytestconfig):
    """The PyTorch track of the graded code, in its worker: ``torch_track.kl.kl_to_standard_normal``."""
    return RemoteTrack(pytestconfig.stash[_STATE]["workers"], "pytorch")


# --- verdicts ----------------------------------------------------------------------------------------------
def _printed(text: str, total: int) -> str:
    """An excerpt of what the graded code printed during the test, for the message of a failing test."""
    if not total or not text.strip():
        return ""
    excerpt = text[:PRINT_EXCERPT] + (" ..." if total > PRINT_EXCERPT else "")
    return f"\n  your code printed {total:,} characters: {excerpt!r}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    board = item.config.stash[_BOARD]
    state = item.config.stash[_STATE]
    if report.when == "call" or (report.when == "setup" and report.failed):
        problems, text, total = state["workers"].end_test()
        state["problems"] = problems
        result = board.tests[item.nodeid]
        try:
            verdict, message = verdict_of(call.excinfo, board.exercise_of(item.nodeid), board.target, result.hidden)
        except Exception as err:  # noqa: BLE001 - whatever the graded code raised, the judge goes on
            verdict, message = "error", f"Exercise {result.exercise.id}: the grader could not classify the outcome ({type(err).__name__})"
        if verdict != "passed" and verdict != "not attempted":
            message += _printed(text.replace(SUBMISSION + "/", f"{board.target.name}/"), total)
        board.record(item.nodeid, verdict, message, report.duration)
        if verdict != "passed":
            report.longrepr = board.tests[item.nodeid].message
    if report.when == "teardown":
        _note_seed_use(item)
        problems = state.pop("problems", [])
        result = board.tests[item.nodeid]
        if problems and result.verdict not in ("not run", "not attempted") and not (result.core and result.verdict == "passed"):
            # What the code did to the global random generators costs the exercise's other tests, never a core test
            # whose values are right (the rule of grader/scoring.py: such contracts share the non-core part).
            note = "\n  ".join(problems)
            result.verdict = "failed" if result.verdict == "passed" else result.verdict
            result.message = cap(f"{result.message}\n  {note}" if result.message else f"Exercise {result.exercise.id}: {note}")
            report.outcome, report.longrepr = "failed", result.message
    report.sections = [(title, cap(content, SECTION_LIMIT)) for title, content in report.sections]


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    board = config.stash[_BOARD]
    elapsed = time.monotonic() - config.stash[_STATE]["started"]
    workers = config.stash[_STATE]["workers"]
    sandboxed = workers.sandboxed()
    board.close(exitstatus)
    workers.close()  # every worker, and everything it started, ends here
    paths = {k: config.getoption(f"--results-{k}") for k in ("json", "plain", "csv")}
    if any(paths.values()):
        from grader.reports import write_reports

        write_reports(board, elapsed, results_json=paths["json"], results_plain=paths["plain"],
                      results_csv=paths["csv"], extra={"grader_seed": config.getoption("--grader-seed"),
                                                       "sandboxed": sandboxed})
    if config.stash[_STATE]["seed_report"] is not None:
        from vaekit.io import save_json as write_json

        write_json(config.getoption("--seed-report"), config.stash[_STATE]["seed_report"])


def _quiet(config) -> bool:
    """Students see the grader's report only; ``-v`` brings back pytest's own per-test output."""
    return config.getoption("verbose") <= 0


def _configure_quiet(config) -> None:
    if _quiet(config):
        config.option.tbstyle = "no"  # the failing checks are shown once per exercise, by the report below
        config.option.reportchars = ""
        config.option.verbose = -1


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    board = config.stash[_BOARD]
    if not board.has_results():
        return
    tr = terminalreporter
    tr.write_sep("=", "VAE course kit: what to fix")
    rows = board.per_exercise()
    shown = False
    for row in rows:
        if row["status"] in ("passed", "not attempted"):
            continue
        first = next(t for t in row["tests"] if t.verdict != "passed")
        tr.write_line(f"Exercise {row['id']} {row['title']}: {row['status']}", red=True, bold=True)
        tr.write_line(f"  first failing check ({first.name}{', hidden test' if first.hidden else ''}):")
        for line in first.message.splitlines():
            tr.write_line(f"    {line}")
        shown = True
    if not shown:
        attempted = any(r["status"] != "not attempted" for r in rows)
        tr.write_line("nothing to fix among the exercises you have attempted" if attempted else
                      "no exercise attempted yet (every test counts as failed until you write its function): "
                      "start with the first row of the table below")


def pytest_unconfigure(config):
    """The score table comes last, after pytest's own summary line, so that it is what stays on screen."""
    state = config.stash.get(_STATE, None)
    if state is not None:
        state["workers"].close()
    board = config.stash.get(_BOARD, None)
    tr = config.pluginmanager.get_plugin("terminalreporter")
    if board is None or tr is None or not board.has_results():
        return
    tr.write_sep("=", "VAE course kit: score")
    for line in board.table().splitlines():
        colour = {"passed": "green", "not attempted": "yellow"}.get(line.rstrip().rsplit("  ", 1)[-1].strip(), None)
        if colour is None and " tests failed" in line:
            colour = "red"
        tr.write_line(line, **({colour: True} if colour else {}))
    nxt = next((r for r in board.per_exercise() if r["status"] != "passed"), None)
    if nxt is not None:
        tr.write_line(f"next: Exercise {nxt['id']} ({nxt['title']}, {nxt['status'].split(';')[0]}); read {nxt['docs']}",
                      bold=True)
    else:
        tr.write_line("every exercise graded here passes", green=True, bold=True)
    if state is not None and state["workers"].sandboxed() is False:
        why = bwrap_works()[1] if config.getoption("--sandbox") != "off" else "--sandbox off"
        tr.write_line(f"note: your code ran in a plain subprocess, not in a sandbox ({why}); that is fine for your "
                      "own code on your own machine")
