"""What can come back from a worker besides data: the graded code's exceptions, and the worker's own failures.

:func:`as_exception` turns a worker's error reply (grader/worker/serve.py) into one of these; the judge's verdicts
(grader/scoring.py) name them. Nothing here runs code the worker sent: an exception is rebuilt from its type's name
and its text.
"""

from __future__ import annotations

import builtins
import signal

import pytest

# --- what can come back --------------------------------------------------------------------------------------
class RemoteError(Exception):
    """An exception raised by the graded code in the worker: its type's name, text and line."""

    type_name = "Exception"
    where = ""


_REMOTE_CLASSES: dict[str, type] = {}


def remote_exception(type_name: str, message: str, where: str = "") -> RemoteError:
    """A RemoteError that is also an instance of the builtin exception of that name (TypeError, ...)."""
    base = getattr(builtins, type_name, None)
    if not (isinstance(base, type) and issubclass(base, Exception)) or issubclass(base, (NotImplementedError,)):
        base = None
    if type_name not in _REMOTE_CLASSES:
        bases = (RemoteError, base) if base is not None and base is not Exception else (RemoteError,)
        _REMOTE_CLASSES[type_name] = type(f"Remote{type_name}", bases, {"type_name": type_name})
    err = _REMOTE_CLASSES[type_name](message)
    err.where = where
    return err


class RemoteImportError(ImportError):
    """A module of the graded code that is missing or does not import."""


class RemoteExit(Exception):
    """The graded code called sys.exit() (or exit())."""

    where = ""


class RemoteMemoryError(MemoryError):
    where = ""


class WorkerProblem(Exception):
    """The worker itself stopped working: a time-out, a crash, an output flood. The verdict names it."""

    verdict = "error"


class WorkerTimeout(WorkerProblem):
    verdict = "timeout"


class WorkerCrashed(WorkerProblem):
    pass


class WorkerFlooded(WorkerProblem):
    pass


class WorkerRetired(WorkerProblem):
    pass


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return "unknown"


def as_exception(error) -> BaseException:
    if not isinstance(error, dict):
        return WorkerCrashed("the worker sent an error of the wrong form")
    kind, message = str(error.get("kind")), str(error.get("message", ""))[:3000]
    type_name, where = str(error.get("type", "Exception"))[:100], str(error.get("where", ""))[:300]
    if kind == "not_implemented":
        return NotImplementedError(message)
    if kind == "import":
        return RemoteImportError(message)
    if kind == "fail":
        return pytest.fail.Exception(message, pytrace=False)
    if kind == "exit":
        err = RemoteExit(message)
    elif kind == "memory":
        err = RemoteMemoryError(message)
    else:
        err = remote_exception(type_name, message, where)
        if isinstance(err, OSError) and error.get("errno") is not None:
            err.errno = error["errno"]
    err.where = where
    return err
