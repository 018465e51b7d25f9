"""How the judge starts a worker: in a bubblewrap sandbox, or (only where that is allowed) a plain subprocess.

Bubblewrap (``bwrap``, Debian/Ubuntu package ``bubblewrap``) is the sandbox of Flatpak: small, packaged
everywhere, no daemon, and it builds the worker's world from an allow-list instead of hiding parts of ours.
The worker gets:

* read-only: the operating system (``/usr``, ``/etc``, ...), the Python installation and virtualenv running the
  judge, the worker's own code (``grader/worker/`` only, mounted as ``/opt/vaekit/vaekit_worker``) and the
  submission (``/submission``). Nothing else of the kit: not ``grader/reference.npz``, not the hidden tests,
  not the solutions, not the output folder, not the other submissions;
* a fresh, size-limited ``/tmp``; no network (its own empty network namespace); its own PID namespace, so it
  cannot see or signal the judge, and everything it started dies with it; a new session (no terminal);
* limits on address space, CPU time, open files, file size and, once it has switched from root to an
  unprivileged user id of its own, on processes (``RLIMIT_NPROC`` counts per user).

Without bwrap, ``pytest grader`` on a student's own machine still works: the worker is then a plain
subprocess (same limits, no isolation) and the score table says so. ``vaekit grade``, ``grade-class`` and the
Gradescope bundle refuse that unless told ``--unsafe``.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

WORKER_DIR = Path(__file__).resolve().parent / "worker"
MOUNT = "/opt/vaekit"  # the worker package appears as /opt/vaekit/vaekit_worker
SUBMISSION = "/submission"
MODES = ("auto", "require", "off")  # --sandbox: bwrap if it works; bwrap or refuse; never (plain subprocess)
UID_BASE, UID_SPAN = 61_000, 20_000  # unprivileged user ids for workers started by root: one not in use, at random

BOOT = ("import sys; sys.path.insert(0, {path!r}); import runpy; "
        "runpy.run_module('vaekit_worker', run_name='__main__', alter_sys=True)")


class SandboxUnavailable(RuntimeError):
    """``--sandbox require`` on a machine where bwrap is missing or does not work."""


@dataclass
class Limits:
    memory_mb: int = 6144  # address space; torch alone maps about 3.3 GB
    cpu_s: int = 900  # CPU seconds of the whole worker
    nproc: int = 64  # processes and threads of the worker's user
    file_mb: int = 64  # largest file it may write
    nofile: int = 256
    tmp_mb: int = 256  # size of its /tmp

    def as_config(self) -> dict:
        return {"memory_mb": self.memory_mb, "cpu_s": self.cpu_s, "nproc": self.nproc, "file_mb": self.file_mb,
                "nofile": self.nofile}


@dataclass
class Launch:
    """A worker's command line, environment and what to clean up after it."""

    argv: list[str]
    env: dict
    cwd: str
    sandboxed: bool
    cleanup: list = field(default_factory=list)
    config: dict = field(default_factory=dict)  # the worker's CONFIG_JSON (see grader/worker/__main__.py)


@functools.lru_cache(maxsize=None)
def bwrap_works() -> tuple[bool, str]:
    """Whether ``bwrap`` is installed and can create the namespaces the worker needs (and why not)."""
    exe = shutil.which("bwrap")
    if exe is None:
        return False, "bubblewrap (bwrap) is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    try:
        proc = subprocess.run([exe, "--unshare-pid", "--unshare-net", "--die-with-parent", "--ro-bind", "/", "/",
                               "--proc", "/proc", "--dev", "/dev", "true"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as err:
        return False, f"bwrap could not run: {err}"
    if proc.returncode != 0:
        return False, f"bwrap cannot create namespaces here: {proc.stderr.decode(errors='replace').strip()[:300]}"
    return True, ""


def free_uid() -> int:
    """A user id in [UID_BASE, UID_BASE + UID_SPAN) that no process on this machine runs as: each worker's own, so
    its process limit (RLIMIT_NPROC counts per user) is not shared with another worker's."""
    import secrets

    used = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            used.add(int(status.read_text().split("Uid:")[1].split()[0]))
        except (OSError, IndexError, ValueError):
            continue
    while True:
        uid = UID_BASE + secrets.randbelow(UID_SPAN)
        if uid not in used:
            return uid


def _system_binds() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    return args


def _parents(destinations: list[str]) -> list[str]:
    """``--dir`` for every folder above the mount points, readable by the worker's user (bwrap's are 0700)."""
    made, args = set(), []
    for dest in destinations:
        parts = Path(dest).parts
        for i in range(2, len(parts)):
            folder = str(Path(*parts[:i]))
            if folder not in made and folder not in ("/usr", "/etc", "/tmp"):  # /tmp: the private tmpfs (1777)
                made.add(folder)
                args += ["--perms", "0755", "--dir", folder]
    return args


def _python_binds() -> list[str]:
    """The judge's interpreter, its standard library and its virtualenv, read-only at their own paths."""
    paths = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), Path(sys.executable).resolve().parent.parent}
    paths.add(Path(sys.prefix))  # the venv as named (it may be reached through a link)
    args = []
    for path in sorted(paths, key=lambda p: len(p.parts)):
        if str(path).startswith("/usr/") or str(path) == "/usr" or not path.exists():
            continue
        args += [*_parents([str(path)]), "--ro-bind", str(path), str(path)]
    return args


def worker_env() -> dict:
    """The worker's whole environment: nothing of the judge's (no tokens, no paths, no VAEKIT_* settings)."""
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "TMPDIR": "/tmp", "LANG": "C.UTF-8",
            "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0", "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp",
            "PYTHONUNBUFFERED": "1"}  # what the graded code prints reaches the judge even if the worker is stopped


def launch(submission: Path, track: str, mode: str, limits: Limits, fds: tuple[int, int] = (3, 4)) -> Launch:
    """How to start a worker for ``track`` of ``submission`` under ``mode`` (see :data:`MODES`)."""
    if mode not in MODES:
        raise ValueError(f"unknown sandbox mode {mode!r}; one of {', '.join(MODES)}")
    ok, why = bwrap_works() if mode != "off" else (False, "the sandbox was turned off")
    if not ok and mode == "require":
        raise SandboxUnavailable(f"cannot grade in a sandbox: {why}. Install bubblewrap, or pass --unsafe to grade "
                                 "in a plain subprocess (only for code you trust)")
    root = os.geteuid() == 0
    uid = free_uid() if root else None
    env = worker_env()
    limits_config = limits.as_config()
    if uid is None:  # RLIMIT_NPROC counts every process of the user: only a user id of the worker's own can take it
        limits_config["nproc"] = 0
    if ok:
        config = {"submission": SUBMISSION, "track": track, "uid": uid, "gid": uid, "limits": limits_config,
                  "fds": list(fds)}
        # The private /tmp is mounted first: a kit or virtualenv that lives under /tmp is then bound on top of
        # it, at its own path, instead of being hidden by it.
        argv = ["bwrap", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
                "--die-with-parent", "--new-session",
                "--perms", "1777", "--size", str(limits.tmp_mb * 2**20), "--tmpfs", "/tmp",
                *_system_binds(), *_python_binds(),
                *_parents([f"{MOUNT}/vaekit_worker"]), "--ro-bind", str(WORKER_DIR), f"{MOUNT}/vaekit_worker",
                "--ro-bind", str(Path(submission).resolve()), SUBMISSION,
                "--proc", "/proc", "--dev", "/dev",
                "--chdir", "/tmp", "--clearenv"]
        for key, value in env.items():
            argv += ["--setenv", key, value]
        argv += ["--", sys.executable, "-I", "-c", BOOT.format(path=MOUNT), json.dumps(config)]
        return Launch(argv, env, "/", True, config=config)
    # A plain subprocess: the same worker and limits, no isolation.
    holder = Path(tempfile.mkdtemp(prefix="vaekit-worker-"))
    (holder / "vaekit_worker").symlink_to(WORKER_DIR, target_is_directory=True)
    config = {"submission": str(Path(submission).resolve()), "track": track, "uid": None, "gid": None,
              "limits": limits_config, "fds": list(fds)}
    env["HOME"] = env["TMPDIR"] = env["MPLCONFIGDIR"] = str(holder)
    argv = [sys.executable, "-I", "-c", BOOT.format(path=str(holder)), json.dumps(config)]
    return Launch(argv, env, str(holder), False, cleanup=[holder], config=config)
