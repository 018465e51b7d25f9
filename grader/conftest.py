"""The grader's pytest plugin: which code is graded, per-exercise markers, verdicts and the score table.

    pytest grader                        # grades exercises/
    pytest grader --target solutions     # or VAEKIT_TARGET=path/to/submission pytest grader
    pytest grader -m ex2_1               # one exercise
"""

from __future__ import annotations

import os

import pytest

from vaekit.exercises import BY_MARKER, EXERCISES
from vaekit.submission import SubmissionError, Track, resolve_target

from grader.scoring import Scoreboard, verdict_of


def pytest_addoption(parser):
    group = parser.getgroup("vaekit", "VAE course kit grader")
    group.addoption(
        "--target",
        default=os.environ.get("VAEKIT_TARGET", "exercises"),
        help="code to grade: 'exercises' (default), 'solutions', or a folder laid out like exercises/ "
        "(also from the environment variable VAEKIT_TARGET)",
    )


def pytest_configure(config):
    for ex in EXERCISES.values():
        config.addinivalue_line("markers", f"{ex.marker}: Exercise {ex.id}, {ex.title} ({ex.points:g} points)")
    try:
        target = resolve_target(config.getoption("--target"))
    except SubmissionError as err:
        raise pytest.UsageError(str(err)) from None
    config.stash[_BOARD] = Scoreboard(target)


_BOARD = pytest.StashKey[Scoreboard]()


def pytest_collection_modifyitems(config, items):
    board = config.stash[_BOARD]
    for item in items:
        markers = [m.name for m in item.iter_markers() if m.name in BY_MARKER]
        if len(markers) != 1:
            raise pytest.UsageError(f"grader test {item.nodeid} needs exactly one exercise marker, has {markers}")
        board.add_test(item.nodeid, BY_MARKER[markers[0]])


@pytest.fixture(scope="session")
def target(pytestconfig):
    """The folder being graded."""
    return pytestconfig.stash[_BOARD].target


@pytest.fixture(scope="session")
def np_track(target):
    """The NumPy/autograd track of the graded code: ``np_track.kl.kl_to_standard_normal``."""
    return Track(target, "numpy_ag")


@pytest.fixture(scope="session")
def torch_track(target):
    """The PyTorch track of the graded code: ``torch_track.kl.kl_to_standard_normal``."""
    return Track(target, "pytorch")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    board = item.config.stash[_BOARD]
    if report.when == "call" or (report.when == "setup" and report.failed):
        verdict, message = verdict_of(call.excinfo, board.exercise_of(item.nodeid), board.target)
        board.record(item.nodeid, verdict, message)
        if verdict != "passed":
            report.longrepr = message


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    board = config.stash[_BOARD]
    if board.has_results():
        terminalreporter.write_sep("=", "VAE course kit: score")
        terminalreporter.write_line(board.table())
