"""Keep freed memory in the process, so that a training step does not pay the kernel for fresh pages.

A training step of the NumPy track makes about a dozen temporary arrays of the size of the parameter vector
(P = 652,824 floats, 2.6 MB for 784-400-20): Adam's m, v, sqrt(v), the step, ... and the gradient.
By default the C library (glibc) hands arrays of this size back to the operating system as soon as they are
freed, so the next step gets fresh pages, each one zeroed by the kernel on first touch (a "page fault"): a few
thousand page faults per step, which cost as much as the arithmetic of Adam itself, and more on a busy machine.

:func:`keep_freed_memory` asks glibc (``mallopt``) to serve blocks below ``MMAP_THRESHOLD`` bytes from its heap
and to give memory back only when more than ``TRIM_THRESHOLD`` bytes are free at its top, so the same pages
are reused step after step. Nothing that is computed changes, only where the bytes live; the process keeps up
to ``TRIM_THRESHOLD`` bytes it no longer uses. On a C library without ``mallopt`` (macOS, Windows, musl) it does
nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's largest allowed value on 64-bit systems
TRIM_THRESHOLD = 64 * 1024 * 1024

# mallopt's parameter numbers (glibc malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

_applied: bool | None = None


def keep_freed_memory() -> bool:
    """Set glibc's mmap and trim thresholds once per process (see the module docstring).

    Returns:
        True if the C library took both settings (now or in an earlier call), False where it has no
        ``mallopt`` or refused them.
    """
    global _applied
    if _applied is None:
        _applied = _mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) and _mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    return _applied


def _mallopt(param: int, value: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return mallopt(param, value) == 1
