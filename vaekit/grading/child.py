"""The grading process: set resource limits, then run pytest. Started by :mod:`vaekit.grading.sandbox`.

    python -m vaekit.grading.child --memory-gb 6 --output-mb 256 -- grader --target SUBMISSION ...

Limits (POSIX only): the address space (``RLIMIT_AS``; torch alone maps about 3.3 GB of it), the size of
any file written, so that endless printing ends in an error instead of a full disk, and no core dumps.
"""

from __future__ import annotations

import argparse
import sys


def apply_limits(memory_gb: float | None, output_mb: float | None) -> None:
    try:
        import resource
        import signal
    except ImportError:  # not POSIX: no limits
        return
    if memory_gb:
        limit = int(memory_gb * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    if output_mb:
        limit = int(output_mb * 2**20)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit raises OSError(EFBIG) instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    split = argv.index("--") if "--" in argv else len(argv)
    parser = argparse.ArgumentParser(prog="python -m vaekit.grading.child")
    parser.add_argument("--memory-gb", type=float, default=None)
    parser.add_argument("--output-mb", type=float, default=None)
    args = parser.parse_args(argv[:split])
    apply_limits(args.memory_gb, args.output_mb)
    import pytest

    return int(pytest.main(argv[split + 1:]))


if __name__ == "__main__":
    sys.exit(main())
