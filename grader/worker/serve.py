"""The worker's request loop. Each request gets exactly one reply, ``{"ok": value}`` or ``{"error": {...}}``.

Requests (all from the judge; each has an ``"id"`` that its reply repeats):

    {"op": "begin", "seed": s}                 a new test: reseed the global generators, forget old handles
    {"op": "call", "fn": "kl.kl_to_standard_normal", "args": [...], "kwargs": {...}, "echo": false}
    {"op": "call", "handle": 3, "args": [...], ...}        call an object kept from an earlier reply
    {"op": "getattr", "handle": 3, "attr": "encoder"}
    {"op": "probe", "name": "autograd_grads", "args": [...], "kwargs": {...}}   a computation of probes.py
    {"op": "import", "module": "kl"}           import a module of the graded code (before the first call into it)
    {"op": "end"}                              what the test's code did to the global generators

Errors say what kind they are: ``not_implemented`` (a stub), ``import`` (a module that is missing or does not
import), ``fail`` (a probe's finding, with its message), ``exit`` (sys.exit), ``memory`` and ``exception``.
Their texts are cut short; ``where`` is the deepest line of the graded code in the traceback.
"""

from __future__ import annotations

import random
import sys
import traceback

from . import wire
from .loader import ImportProblem, Track
from .probes import PROBES, ProbeFailure

TEXT_LIMIT = 1500


class Server:
    def __init__(self, track: Track, request_fd: int, reply_fd: int):
        self.track, self.request_fd, self.reply_fd = track, request_fd, reply_fd
        self.handles: dict[int, object] = {}
        self.rng_states = None

    # --- handles ----------------------------------------------------------------------------------------------
    def keep(self, obj) -> int:
        key = len(self.handles) + 1
        self.handles[key] = obj
        return key

    def _handle(self, key: int, type_name: str = ""):
        if key not in self.handles:
            raise ProbeFailure("the grader referred to an object that no longer exists (a grader bug)")
        return self.handles[key]

    def decode(self, obj):
        return wire.decode(obj, handle=self._handle, ref=self.track.function)

    # --- the loop ---------------------------------------------------------------------------------------------
    def run(self) -> None:
        while True:
            try:
                request = wire.receive(self.request_fd)
            except EOFError:
                return
            reply = self.answer(request)
            key = request.get("id") if isinstance(request, dict) else None
            try:
                wire.send(self.reply_fd, {**reply, "id": key})
            except wire.WireError as err:
                wire.send(self.reply_fd, {**error_reply("exception", err), "id": key})

    def answer(self, request) -> dict:
        try:
            op = request.get("op")
            if op == "begin":
                return {"ok": self.begin(int(request["seed"]))}
            if op == "end":
                return {"ok": self.end()}
            if op == "ping":
                return {"ok": "pong"}
            if op == "import":
                self.track.module(str(request["module"]))
                return {"ok": None}
            if op == "call":
                target = self.track.function(request["fn"]) if "fn" in request else self._handle(int(request["handle"]))
                args = self.decode(request.get("args", []))
                kwargs = self.decode(request.get("kwargs", {}))
                result = target(*args, **kwargs)
                out = {"result": result}
                if request.get("echo"):
                    out.update(args=args, kwargs=kwargs)
                return {"ok": wire.encode(out, self.keep)}
            if op == "getattr":
                value = getattr(self._handle(int(request["handle"])), str(request["attr"]))
                return {"ok": wire.encode(value, self.keep)}
            if op == "probe":
                name = str(request["name"])
                if name not in PROBES:
                    raise ProbeFailure(f"the worker has no probe {name!r} (a grader bug)")
                args = self.decode(request.get("args", []))
                kwargs = self.decode(request.get("kwargs", {}))
                return {"ok": wire.encode(PROBES[name](self.track, *args, **kwargs), self.keep)}
            raise ProbeFailure(f"unknown request {op!r} (a grader bug)")
        except BaseException as err:  # noqa: BLE001 - every outcome of graded code becomes a reply
            return error_reply(kind_of(err), err, where=student_line(err.__traceback__, self.track))

    def begin(self, seed: int) -> None:
        self.handles.clear()
        seed32 = seed % 2**32
        random.seed(seed32)
        import numpy as np

        np.random.seed(seed32)
        torch = sys.modules.get("torch")
        if torch is not None:
            torch.manual_seed(seed32)
        self.rng_states = {"seed": seed32, "numpy": np.random.get_state(), "python": random.getstate(),
                           "torch": torch is not None}

    def end(self) -> list[str]:
        """What the graded code did to the global generators since ``begin`` (grader tests never use them)."""
        states, found = self.rng_states, []
        if states is None:
            return found
        import numpy as np

        now = np.random.get_state()
        if now[2] != states["numpy"][2] or not np.array_equal(now[1], states["numpy"][1]):
            found.append("your code used NumPy's global random generator (np.random.seed, np.random.normal, "
                         "np.random.permutation, ...): draw every random number from the rng argument, or use the "
                         "eps you are given")
        if random.getstate() != states["python"]:
            found.append("your code used Python's global random generator (the random module): draw every random "
                         "number from the rng / generator argument")
        torch = sys.modules.get("torch")
        if states["torch"] and torch is not None and torch.initial_seed() != states["seed"]:
            found.append("your code reseeded torch's global random generator (torch.manual_seed / torch.seed): never "
                         "reseed inside a function; draw from the generator argument")
        return found


def kind_of(err: BaseException) -> str:
    for link in chain(err):
        if isinstance(link, NotImplementedError):
            return "not_implemented"
    if isinstance(err, ImportProblem):
        return "import"
    if isinstance(err, ProbeFailure):
        return "fail"
    if isinstance(err, SystemExit):
        return "exit"
    if isinstance(err, MemoryError):
        return "memory"
    return "exception"


def chain(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def error_reply(kind: str, err: BaseException, where: str = "") -> dict:
    message = str(err)
    if kind == "not_implemented":
        message = next((str(e) for e in chain(err) if isinstance(e, NotImplementedError)), message)
    if kind == "exit":
        message = repr(getattr(err, "code", None))
    if len(message) > TEXT_LIMIT:
        message = message[:TEXT_LIMIT] + f" ... ({len(message) - TEXT_LIMIT:,} more characters cut)"
    errno = getattr(err, "errno", None)
    return {"error": {"kind": kind, "type": type(err).__name__[:100], "message": message, "where": where[:300],
                      "errno": errno if isinstance(errno, int) else None}}


def student_line(tb, track: Track) -> str:
    """``numpy_ag/kl.py:12 in kl_to_standard_normal`` for the deepest frame inside the graded code, or ''."""
    root, where = str(track.root), ""
    try:
        for frame in traceback.extract_tb(tb):
            if frame.filename.startswith(root + "/"):
                where = f"{frame.filename[len(root) + 1:]}:{frame.lineno} in {frame.name}"
    except Exception:  # noqa: BLE001 - a traceback the graded code tampered with
        return ""
    return where
