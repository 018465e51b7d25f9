"""Workers forked from a server that has imported the libraries once: for grading many copies of code you trust.

A worker's start is mostly the import of its libraries (torch alone takes one to two seconds). Grading one
submission pays it once per track, which is fine; grading hundreds of copies of the kit's own reference code with
one planted bug each (the planted-bug tests of the kit) would pay it hundreds of times. With the environment variable
``VAEKIT_WORKER_FORKSERVER=1`` *and* ``--sandbox off``, the judge starts its workers through Python's
``multiprocessing`` fork server instead: one process per judge imports NumPy, autograd and torch, and forks a
worker from itself for every submission. The forked worker is the same code with the same limits, environment and
working folder as a plain-subprocess worker (:func:`grader.sandbox.launch`), and like it has **no isolation**: the
fork server is never used for code that is not trusted (in the sandbox, each worker is a fresh process).
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
from multiprocessing import reduction

ENV = "VAEKIT_WORKER_FORKSERVER"
PRELOAD = ["numpy", "autograd", "autograd.numpy", "torch", "grader.worker.torch_warmup"]


def wanted(mode: str) -> bool:
    """Whether workers start from the fork server: asked for in the environment, and only with no sandbox."""
    return mode == "off" and os.environ.get(ENV) == "1"


class _Fd:
    """A file descriptor handed to the forked worker (duplicated into it by the fork server)."""

    def __init__(self, fd: int):
        self.fd = fd

    def __reduce__(self):
        return _Fd._rebuild, (reduction.DupFd(self.fd),)

    @staticmethod
    def _rebuild(dup) -> int:
        return dup.detach()


def _worker(config: dict, env: dict, cwd: str, request: int, reply: int, output: int) -> None:
    """The forked worker: a session of its own, output to the judge's pipe, the worker's environment, then serve."""
    os.setsid()  # the judge stops it and everything it started with killpg, as a plain worker
    os.dup2(output, 1)
    os.dup2(output, 2)
    os.close(output)
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    multiprocessing.set_start_method("fork", force=True)  # as in a plain worker (the default on Linux)
    from grader.worker.__main__ import run

    run(config, request, reply)


class Forked:
    """The judge's handle on a forked worker, with the parts of ``subprocess.Popen`` that grader/remote.py uses."""

    def __init__(self, process: multiprocessing.Process):
        self.process, self.pid = process, process.pid

    @property
    def returncode(self) -> int | None:
        return self.process.exitcode

    def poll(self) -> int | None:
        return None if self.process.is_alive() else self.process.exitcode

    def wait(self, timeout: float | None = None) -> int:
        self.process.join(timeout)
        if self.process.exitcode is None:
            raise subprocess.TimeoutExpired("forked worker", timeout)
        return self.process.exitcode


def start(launch, request: int, reply: int, output: int) -> Forked:
    """Fork a worker as ``launch`` describes; it reads requests on ``request``, replies on ``reply`` and prints to
    ``output`` (the judge closes its own copies of these afterwards, as with a subprocess)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    process = context.Process(target=_worker, args=(launch.config, launch.env, launch.cwd, _Fd(request),
                                                    _Fd(reply), _Fd(output)), daemon=True)
    process.start()
    return Forked(process)
