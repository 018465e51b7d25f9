"""Start a worker: ``python -m <package> CONFIG_JSON``; the channel's file descriptors are in the config.

CONFIG_JSON: ``{"submission": path, "track": "numpy_ag" | "pytorch", "uid": int | null, "gid": int | null,
"limits": {"memory_mb": .., "cpu_s": .., "nproc": .., "file_mb": .., "nofile": ..}, "fds": [requests, replies]}``.

Order matters: limits first (the graded code cannot raise a hard limit), then, when started as root, switch to
the unprivileged ``uid``/``gid`` for good, then import the libraries, and only then the graded code, lazily, on
the first request that needs it.
"""

from __future__ import annotations

import json
import os
import sys

REQUEST_FD, REPLY_FD = 3, 4


def apply_limits(limits: dict) -> None:
    import resource
    import signal

    def cap(which, value):
        if value:
            resource.setrlimit(which, (int(value), int(value)))

    cap(resource.RLIMIT_AS, limits.get("memory_mb", 0) * 2**20)
    cap(resource.RLIMIT_CPU, limits.get("cpu_s", 0))
    cap(resource.RLIMIT_NOFILE, limits.get("nofile", 0))
    if limits.get("file_mb"):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit raises OSError(EFBIG)
        cap(resource.RLIMIT_FSIZE, limits["file_mb"] * 2**20)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def drop_privileges(uid, gid, nproc) -> None:
    """As root: become ``uid``/``gid`` with no supplementary groups and no way back; cap its processes."""
    import resource

    if os.geteuid() == 0 and uid is not None:
        os.setgroups([])
        os.setgid(int(gid))
        os.setuid(int(uid))
        if os.getuid() == 0 or os.geteuid() == 0:
            raise SystemExit("the worker could not give up root")
    if nproc:
        resource.setrlimit(resource.RLIMIT_NPROC, (int(nproc), int(nproc)))
    try:  # no set-uid program can give the graded code more rights than it has
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS
    except (OSError, AttributeError):
        pass


def main() -> int:
    config = json.loads(sys.argv[1])
    request_fd, reply_fd = config.get("fds", (REQUEST_FD, REPLY_FD))
    run(config, request_fd, reply_fd)
    return 0


def run(config: dict, request_fd: int, reply_fd: int) -> None:
    """Limits, user, libraries, then answer the judge's requests on ``request_fd`` / ``reply_fd`` until it hangs up."""
    limits = config.get("limits", {})
    apply_limits(limits)
    drop_privileges(config.get("uid"), config.get("gid"), limits.get("nproc"))
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import numpy  # noqa: F401 - loaded before any graded code

    if config["track"] == "pytorch":
        import torch

        torch.set_num_threads(1)
        from . import probes_pytorch  # noqa: F401 - registers its probes
        from . import torch_warmup  # noqa: F401 - torch's one-time costs, now rather than in a graded test
    else:
        import autograd  # noqa: F401
        import autograd.numpy  # noqa: F401 - what every module of the track imports

        from . import probes_numpy_ag  # noqa: F401 - registers its probes
    from .loader import Track
    from .serve import Server

    Server(Track(config["submission"], config["track"]), request_fd, reply_fd).run()


if __name__ == "__main__":
    sys.exit(main())
