"""The judge's side of the channel: workers, and proxies that make remote calls read like local ones.

A grader test reads as before::

    got = call("kl_to_standard_normal", np_track.kl.kl_to_standard_normal, mu, log_var)

``np_track.kl.kl_to_standard_normal`` is a :class:`RemoteFunction`; calling it sends the arguments to the
worker of the NumPy track, which calls the graded function and sends back plain data (here a float64 array).
Objects that cannot cross (a torch module, an optimiser) stay in the worker and come back as a
:class:`RemoteObject`, whose attributes and methods are again remote. Computations that need the graded code
and a library together (autograd gradients, a spy on ``train_step``) are *probes*, run in the worker by
name: ``probe(np_track, "autograd_grads", f, inputs, ("mu",))``.

Whatever the worker did, the judge gets data or one of the exceptions of grader/outcomes.py, never an object of
the worker's.
"""

from __future__ import annotations

import os
import secrets
import select
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from . import forkserver
from .cgroups import WorkerCgroup
from .outcomes import WorkerCrashed, WorkerFlooded, WorkerRetired, WorkerTimeout, as_exception, signal_name
from .sandbox import Launch, Limits, launch
from .worker import wire

OUTPUT_KEEP = 4000  # characters of a test's printed output kept for its message
IMPORT_TIME = 20.0  # seconds an import of a module of the graded code may take at least
IMPORT_DEATHS = 2  # times importing a module may end the worker before calls into it are no longer tried


# --- a worker ------------------------------------------------------------------------------------------------
class Worker:
    """One worker process for one track of one submission; started on first use, restarted after a death."""

    def __init__(self, target: Path, track: str, mode: str, limits: Limits, output_limit: int = 20 * 2**20):
        self.target, self.track, self.mode, self.limits = Path(target), track, mode, limits
        self.output_limit = output_limit
        self.proc: subprocess.Popen | None = None
        self.launch: Launch | None = None
        self.imported: set[str] = set()  # modules of the graded code this worker process has imported
        self.import_deaths: dict[str, int] = {}  # module -> times importing it ended a worker
        self.sandboxed: bool | None = None
        self.seed: int | None = None  # the seed of the running test
        self.begun = False  # whether the worker has been told that test began
        self.used_in_test = False
        self._output = bytearray()
        self._output_total = 0
        self._flooded = False
        self._lock = threading.Lock()

    # process ------------------------------------------------------------------------------------------------
    def start(self) -> None:
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        out_r, out_w = os.pipe()
        try:
            self.launch = launch(self.target, self.track, self.mode, self.limits, fds=(req_r, rep_w))
            self.sandboxed = self.launch.sandboxed
            if forkserver.wanted(self.mode):  # trusted code only: see grader/forkserver.py
                self.cgroup = None
                self.proc = forkserver.start(self.launch, req_r, rep_w, out_w)
            else:
                self.cgroup = WorkerCgroup.create(self.limits.memory_mb * 2**20, self.limits.nproc)
                self.proc = subprocess.Popen(self.launch.argv, env=self.launch.env, cwd=self.launch.cwd,
                                             stdin=subprocess.DEVNULL, stdout=out_w, stderr=out_w,
                                             pass_fds=(req_r, rep_w), start_new_session=True, close_fds=True,
                                             preexec_fn=self.cgroup.enter if self.cgroup else None)
        except BaseException:
            for fd in (req_r, req_w, rep_r, rep_w, out_r, out_w):
                os.close(fd)
            raise
        for fd in (req_r, rep_w, out_w):
            os.close(fd)
        self.req_w, self.rep_r, self.out_r = req_w, rep_r, out_r
        self._flooded, self._output, self._output_total = False, bytearray(), 0
        threading.Thread(target=self._drain, args=(out_r,), daemon=True).start()
        self.begun = False
        self.imported = set()

    def ensure_imported(self, module: str, timeout: float) -> None:
        """Import ``module`` of the graded code on its own first, so that a module whose import ends the worker
        is found out and not tried again and again (every later test of it fails at once)."""
        if module in self.imported and self.alive():
            return
        if self.import_deaths.get(module, 0) >= IMPORT_DEATHS:
            raise WorkerRetired(f"importing {self.track}/{module}.py ended the worker process {IMPORT_DEATHS} times "
                                "(code at the top level of the file, or of __init__.py, that exits or crashes); "
                                "its tests are not run")
        try:  # an import may take a few seconds on a busy machine, whatever the test's own limit
            self.request({"op": "import", "module": module}, max(timeout, IMPORT_TIME))
        except WorkerCrashed:
            self.import_deaths[module] = self.import_deaths.get(module, 0) + 1
            raise
        self.imported.add(module)

    def _drain(self, fd: int) -> None:
        """Keep the start and the count of what the worker prints; stop it when it prints too much."""
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return
            if not chunk:
                os.close(fd)
                return
            with self._lock:
                self._output_total += len(chunk)
                room = OUTPUT_KEEP - len(self._output)
                if room > 0:
                    self._output += chunk[:room]
                if self._output_total > self.output_limit and not self._flooded:
                    self._flooded = True
                    self.kill()

    def output(self, reset: bool = False) -> tuple[str, int]:
        """``(the start of what the worker printed, how many bytes in all)`` since the last reset."""
        with self._lock:
            text, total = self._output.decode(errors="replace"), self._output_total
            if reset:
                self._output, self._output_total = bytearray(), 0
        return text, total

    def kill(self) -> None:
        proc = self.proc
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # bwrap and, with it, the worker's whole PID namespace
        except (ProcessLookupError, PermissionError):
            pass
        if proc.poll() is None:  # not yet the leader of its own session (a forked worker just started)
            try:
                os.kill(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def stop(self) -> None:
        """End the worker and everything it started; wait for it."""
        if self.proc is None:
            return
        self.kill()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        for fd in (self.req_w, self.rep_r):
            try:
                os.close(fd)
            except OSError:
                pass
        if getattr(self, "cgroup", None) is not None:
            self.cgroup.remove()
            self.cgroup = None
        for path in self.launch.cleanup if self.launch else ():
            import shutil

            shutil.rmtree(path, ignore_errors=True)
        self.proc = None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    # requests -----------------------------------------------------------------------------------------------
    def request(self, message: dict, timeout: float):
        """Send ``message``; return the decoded ``ok`` value or raise what the worker's error stands for."""
        if not self.alive():
            if self.proc is not None:
                self.stop()
            self.start()
        if self.seed is not None and not self.begun:
            self.begun = True
            self._exchange({"op": "begin", "seed": self.seed}, max(timeout, 60.0))
        self.used_in_test = True
        return self._exchange(message, timeout)

    def _exchange(self, message: dict, timeout: float):
        deadline = time.monotonic() + timeout

        def wait():
            left = deadline - time.monotonic()
            ready = select.select([self.rep_r], [], [], max(0.0, left))[0] if left > 0 else []
            if not ready:
                self.kill()
                self._died()
                raise WorkerTimeout(f"your code did not finish within {timeout:g} s and was stopped (an endless loop, "
                                    "or far too slow)")

        # Each request carries a fresh id that the reply must repeat: anything else that arrives on the channel
        # (bytes the graded code wrote there itself, a reply that came too late) is skipped.
        message = {**message, "id": secrets.token_hex(8)}
        try:
            wire.send(self.req_w, message)
            while True:
                raw = wire.receive(self.rep_r, wait)
                if isinstance(raw, dict) and raw.get("id") == message["id"]:
                    break
            reply = wire.decode({k: v for k, v in raw.items() if k != "id"},
                                handle=lambda key, type_name: RemoteObject(self, key, type_name))
        except (KeyboardInterrupt, pytest.fail.Exception):
            self.kill()  # interrupted half-way: the channel is out of step, so this worker is done
            self._died()
            raise
        except (EOFError, BrokenPipeError, OSError):
            self._died()
            if self._flooded:
                raise self._flood_error() from None
            code = self.proc.returncode if self.proc is not None else None
            how = (f"killed by signal {-code} ({signal_name(-code)})" if code is not None and code < 0
                   else f"exit status {code}")
            raise WorkerCrashed(f"the worker process running your code ended during this test ({how}): your code "
                                "ended Python (os._exit, a signal), crashed it, or went over the memory or CPU "
                                "limit") from None
        except wire.WireError as err:
            self.kill()
            self._died()
            raise WorkerCrashed(f"the worker sent something that is not a valid reply ({err}); your code wrote into "
                                "the grader's channel") from None
        if self._flooded:  # the reply won the race against the kill: the verdict must not depend on who won
            self.kill()
            self._died()
            raise self._flood_error()
        if not isinstance(reply, dict) or ("ok" not in reply and "error" not in reply):
            self.kill()
            self._died()
            raise WorkerCrashed("the worker sent a reply of the wrong form; your code wrote into the grader's channel")
        if "error" in reply:
            raise as_exception(reply["error"])
        return reply["ok"]

    def _flood_error(self) -> WorkerFlooded:
        return WorkerFlooded("your code printed (or wrote) more output than the grader keeps "
                             f"({self.output_limit // 2**20} MB); remove the prints from your functions")

    def _died(self) -> None:
        if self.proc is not None:
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass


# --- proxies -------------------------------------------------------------------------------------------------
class RemoteObject:
    """An object of the worker's (a module, an optimiser ...): attributes and calls go to the worker."""

    def __init__(self, worker: Worker, key: int, type_name: str):
        self._worker, self._key, self._type = worker, key, type_name

    def __getattr__(self, attr: str):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return self._worker.request({"op": "getattr", "handle": self._key, "attr": attr}, _timeout())

    def __call__(self, *args, **kwargs):
        return _call(self._worker, {"handle": self._key}, args, kwargs)

    def _wire(self) -> dict:
        return {"__handle__": self._key}

    def __repr__(self) -> str:
        return f"<{self._type} in the worker>"


class RemoteFunction:
    """A function of the graded code, by name: ``RemoteFunction(worker, "kl.kl_to_standard_normal")``."""

    def __init__(self, workers: "Workers", track: str, name: str):
        self._workers, self._track, self.name = workers, track, name
        self.__name__ = name.rsplit(".", 1)[-1]

    def _worker(self) -> Worker:
        worker = self._workers.get(self._track)
        worker.ensure_imported(self.name.split(".")[0], _timeout())
        return worker

    def __call__(self, *args, **kwargs):
        return _call(self._worker(), {"fn": self.name}, args, kwargs)

    def echo(self, *args, **kwargs):
        """``(result, args, kwargs)``: the arguments as they were after the call (for in-place updates)."""
        out = _call(self._worker(), {"fn": self.name}, args, kwargs, echo=True, whole=True)
        return out["result"], out["args"], out["kwargs"]

    def _wire(self) -> dict:
        return {"__ref__": self.name}

    def __repr__(self) -> str:
        return f"<{self._track} function {self.name}>"


class RemoteModule:
    def __init__(self, workers: "Workers", track: str, module: str):
        self._workers, self._track, self._module = workers, track, module

    def __getattr__(self, attr: str) -> RemoteFunction:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return RemoteFunction(self._workers, self._track, f"{self._module}.{attr}")


class RemoteTrack:
    """``np_track`` / ``torch_track`` of the grader tests: ``np_track.kl.kl_to_standard_normal``."""

    def __init__(self, workers: "Workers", track: str):
        self._workers, self.track = workers, track

    def __getattr__(self, module: str) -> RemoteModule:
        if module.startswith("_"):
            raise AttributeError(module)
        return RemoteModule(self._workers, self.track, module)


def _judge_keep(value):
    """How the judge sends its proxies; anything else that is not data cannot be sent."""
    tag = getattr(value, "_wire", None)
    if callable(tag) and isinstance(value, (RemoteObject, RemoteFunction)):
        return tag()
    raise TypeError(f"a grader test tried to send a {type(value).__name__} to the worker; send data, a remote "
                    "function or a remote object (a grader bug)")


def _call(worker: Worker, target: dict, args, kwargs, echo: bool = False, whole: bool = False):
    message = {"op": "call", **target, "args": wire.encode(list(args), _judge_keep),
               "kwargs": wire.encode(dict(kwargs), _judge_keep), "echo": echo}
    out = worker.request(message, _timeout())
    return out if whole else out["result"]


def probe(track: RemoteTrack, name: str, *args, **kwargs):
    """Run the worker's probe ``name`` (grader/worker/probes_<track>.py) on ``args``; return its data."""
    worker = track._workers.get(track.track)
    message = {"op": "probe", "name": name, "args": wire.encode(list(args), _judge_keep),
               "kwargs": wire.encode(dict(kwargs), _judge_keep)}
    return worker.request(message, _timeout())


# --- the workers of a grading run ----------------------------------------------------------------------------
class Workers:
    """The workers of one grading run, one per track, and the time each test may take."""

    current = None  # the Workers of the running session (for _timeout)

    def __init__(self, target: Path, mode: str, limits: Limits, test_timeout: float, track_time: float):
        self.target, self.mode, self.limits = Path(target), mode, limits
        self.test_timeout, self.track_time = test_timeout, track_time
        self.workers: dict[str, Worker] = {}
        self.spent: dict[str, float] = {}
        self.test_started = time.monotonic()
        Workers.current = self

    def get(self, track: str) -> Worker:
        if track not in self.workers:
            self.workers[track] = Worker(self.target, track, self.mode, self.limits)
            self.workers[track].seed = getattr(self, "_seed", None)
        worker = self.workers[track]
        self._track = track
        return worker

    def begin_test(self, seed: int) -> None:
        self.test_started = time.monotonic()
        for worker in self.workers.values():
            worker.seed, worker.used_in_test, worker.begun = seed, False, False
            worker.output(reset=True)
        self._seed = seed

    def end_test(self) -> tuple[list[str], str, int]:
        """``(problems, printed text, printed bytes)`` of the test that ran: the worker's report on the global
        random generators, and what the graded code printed."""
        problems, text, total = [], "", 0
        for track, worker in self.workers.items():
            self.spent[track] = self.spent.get(track, 0.0) + (time.monotonic() - self.test_started if worker.used_in_test else 0.0)
            if not worker.used_in_test:
                continue
            out, n = worker.output(reset=True)
            text, total = text + out, total + n
            if worker.alive():
                try:
                    problems += [str(p) for p in worker._exchange({"op": "end"}, 10.0)]
                except Exception:  # noqa: BLE001 - a worker that cannot answer this has already been judged
                    pass
        return problems, text, total

    def remaining(self, track: str) -> float:
        return self.track_time - self.spent.get(track, 0.0) - (time.monotonic() - self.test_started)

    def sandboxed(self) -> bool | None:
        """True if every worker started so far ran in the sandbox; None if none has started."""
        flags = [w.sandboxed for w in self.workers.values() if w.sandboxed is not None]
        return all(flags) if flags else None

    def close(self) -> None:
        for worker in self.workers.values():
            worker.stop()
        if Workers.current is self:
            Workers.current = None


def _timeout() -> float:
    """Seconds the running test may still wait for the worker (its own limit and its track's budget)."""
    workers = Workers.current
    if workers is None:
        return 60.0
    left = workers.test_timeout - (time.monotonic() - workers.test_started)
    track_left = workers.remaining(getattr(workers, "_track", "")) if getattr(workers, "_track", None) else left
    if track_left <= 0:
        raise WorkerTimeout("the time for grading this track ran out before this test")
    return max(0.5, min(left, track_left))
