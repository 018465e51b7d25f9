"""A control group per worker: one cap on the memory (and the number) of all its processes together.

``RLIMIT_AS`` limits each process, so a worker that forks four children of 1.8 GB each gets past a 6 GB limit;
a cgroup counts them together, and the kernel stops the group (its out-of-memory killer picks a process *in the
group*) instead of letting it push a classmate's judge out of memory. This needs root and a writable cgroup file
system (cgroup v2, or v1 with the memory and pids controllers), as on CI and most grading servers; elsewhere
:meth:`WorkerCgroup.create` returns None and only the per-process limits apply.
"""

from __future__ import annotations

import os
import secrets
import signal
import time
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
OPTIONAL = {"memory.swap.max", "memory.memsw.limit_in_bytes"}  # no swap beyond the cap, where swap is counted


class WorkerCgroup:
    def __init__(self, folders: list[Path]):
        self.folders = folders

    @classmethod
    def create(cls, memory_bytes: int, pids: int) -> "WorkerCgroup | None":
        """A new cgroup with these limits, or None where cgroups cannot be used."""
        if os.geteuid() != 0:
            return None
        name = f"vaekit-worker-{os.getpid()}-{secrets.token_hex(4)}"
        if (ROOT / "cgroup.controllers").is_file():  # cgroup v2: one folder holds every controller
            plan = [(ROOT / name, {"memory.max": memory_bytes, "pids.max": pids, "memory.swap.max": 0})]
        else:  # cgroup v1: one hierarchy per controller
            plan = [(ROOT / "memory" / name, {"memory.limit_in_bytes": memory_bytes,
                                              "memory.memsw.limit_in_bytes": memory_bytes}),
                    (ROOT / "pids" / name, {"pids.max": pids})]
        made = []
        try:
            for folder, limits in plan:
                folder.mkdir()
                made.append(folder)
                for file, value in limits.items():
                    if (folder / file).exists() or file not in OPTIONAL:  # swap accounting may be off
                        (folder / file).write_text(str(int(value)))
        except OSError:
            cls(made).remove()
            return None
        return cls(made)

    def enter(self) -> None:
        """Move the calling process into the cgroup (called in the child before it runs the worker)."""
        for folder in self.folders:
            (folder / "cgroup.procs").write_text(str(os.getpid()))

    def pids(self) -> set[int]:
        found = set()
        for folder in self.folders:
            try:
                found |= {int(p) for p in (folder / "cgroup.procs").read_text().split()}
            except OSError:
                pass
        return found

    def remove(self) -> None:
        """Kill whatever is still in the cgroup and delete it."""
        for _ in range(50):
            left = self.pids()
            if not left:
                break
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.02)
        for folder in self.folders:
            for _ in range(50):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)
